{{- define "shared.name" -}}from parent _b.tpl{{- end -}}
