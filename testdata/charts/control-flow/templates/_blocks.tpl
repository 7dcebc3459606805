{{- define "cf.greeting" -}}hello {{ . }}{{- end -}}
{{- define "cf.tier" -}}
{{- if eq .tier "gold" -}}
premium
{{- else if eq .tier "silver" -}}
standard
{{- else -}}
basic
{{- end -}}
{{- end -}}
