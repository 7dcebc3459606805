{{- define "good.fullname" -}}
{{ .Release.Name }}-{{ .Chart.Name }}
{{- end -}}
