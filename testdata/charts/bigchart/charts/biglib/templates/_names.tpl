{{- define "biglib.trunc" -}}
{{- . | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "biglib.fullname" -}}
{{- include "biglib.trunc" (printf "%s-%s" .root.Release.Name .name) -}}
{{- end -}}

{{- define "biglib.chart" -}}
{{- include "biglib.trunc" (printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_") -}}
{{- end -}}
