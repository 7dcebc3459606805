{{- define "empty.nothing" -}}{{- end -}}
