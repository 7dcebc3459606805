{{- define "missing-required.password" -}}
{{ required "database.password is required: pass --set database.password=..." .Values.database.password }}
{{- end -}}
