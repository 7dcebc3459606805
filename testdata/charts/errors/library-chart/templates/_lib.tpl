{{- define "library-chart.x" -}}x{{- end -}}
