{{/* Image of the main container. */}}
{{- define "webstack.image" -}}
{{ include "common.images.image" (dict "imageRoot" .Values.image "global" .Values.global) }}
{{- end -}}

{{- define "webstack.metrics.image" -}}
{{ include "common.images.image" (dict "imageRoot" .Values.metrics.image "global" .Values.global) }}
{{- end -}}

{{- define "webstack.imagePullSecrets" -}}
{{- include "common.images.renderPullSecrets" (dict "images" (list .Values.image .Values.metrics.image) "context" $) -}}
{{- end -}}

{{- define "webstack.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
    {{ default (include "common.names.fullname" .) .Values.serviceAccount.name }}
{{- else -}}
    {{ default "default" .Values.serviceAccount.name }}
{{- end -}}
{{- end -}}

{{- define "webstack.secretName" -}}
{{- include "common.secrets.name" (dict "existingSecret" .Values.auth.existingSecret "context" $) -}}
{{- end -}}

{{/* Validate values and fail with every problem at once. */}}
{{- define "webstack.validateValues" -}}
{{- $messages := list -}}
{{- $messages := append $messages (include "webstack.validateValues.replicas" .) -}}
{{- $messages := without $messages "" -}}
{{- $message := join "\n" $messages -}}
{{- if $message -}}
{{-   printf "\nVALUES VALIDATION:\n%s" $message | fail -}}
{{- end -}}
{{- end -}}

{{- define "webstack.validateValues.replicas" -}}
{{- if and .Values.persistence.enabled (gt (int .Values.replicaCount) 1) (has "ReadWriteOnce" .Values.persistence.accessModes) (not .Values.autoscaling.enabled) -}}
webstack: replicaCount
    Several replicas cannot share a ReadWriteOnce volume unless autoscaling decides.
{{- end -}}
{{- end -}}
