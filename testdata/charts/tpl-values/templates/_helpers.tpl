{{- define "tplv.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (required "clusterName is required" .Values.clusterName) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Render a value with tpl whether it is a string or a structure. */}}
{{- define "tplv.render" -}}
{{- if typeIs "string" .value -}}
{{- tpl .value .context -}}
{{- else -}}
{{- tpl (.value | toYaml) .context -}}
{{- end -}}
{{- end -}}
