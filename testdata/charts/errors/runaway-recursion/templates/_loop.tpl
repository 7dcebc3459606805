{{- define "runaway.loop" -}}
{{ include "runaway.loop" . }}
{{- end -}}
