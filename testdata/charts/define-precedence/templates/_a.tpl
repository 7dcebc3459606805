{{- define "shared.name" -}}from parent _a.tpl{{- end -}}
{{- define "shared.only-a" -}}only in _a{{- end -}}
