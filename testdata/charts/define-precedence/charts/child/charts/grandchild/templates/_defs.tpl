{{- define "shared.name" -}}from grandchild{{- end -}}
{{- define "shared.grand" -}}grandchild at {{ .Template.Name }}{{- end -}}
