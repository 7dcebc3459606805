{{- define "shared.name" -}}from child{{- end -}}
{{- define "shared.deep" -}}from child{{- end -}}
{{- define "child.only" -}}child only, .Values.who={{ .Values.who }}{{- end -}}
