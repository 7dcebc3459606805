{{/* Generate the CA and serving certificate once and share them through a dict. */}}
{{- define "webhook-certs.certs" -}}
{{- $svc := printf "%s-webhook" .Release.Name -}}
{{- $altNames := list $svc (printf "%s.%s" $svc .Release.Namespace) (printf "%s.%s.svc" $svc .Release.Namespace) (printf "%s.%s.svc.cluster.local" $svc .Release.Namespace) -}}
{{- $altNames = concat $altNames .Values.webhook.extraAltNames -}}
{{- $ca := genCA (printf "%s-ca" $svc) (int .Values.webhook.certValidityDays) -}}
{{- $cert := genSignedCert $svc (list "10.0.0.10") $altNames (int .Values.webhook.certValidityDays) $ca -}}
{{- dict "caCert" ($ca.Cert | b64enc) "tlsCert" ($cert.Cert | b64enc) "tlsKey" ($cert.Key | b64enc) | toJson -}}
{{- end -}}
