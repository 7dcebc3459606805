{{- define "release-info.where" -}}
{{ .Template.Name }} (helper defined in release-info/templates/_helpers.tpl)
{{- end -}}
