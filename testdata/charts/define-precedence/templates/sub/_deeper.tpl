{{- define "shared.name" -}}from parent sub/_deeper.tpl{{- end -}}
{{- define "shared.deep" -}}from parent sub/_deeper.tpl{{- end -}}
