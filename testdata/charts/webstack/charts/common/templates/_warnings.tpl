{{/* vim: set filetype=mustache: */}}
{{/*
Warn about rolling tags in NOTES.txt.
*/}}
{{- define "common.warnings.rollingTag" -}}
{{- if and (contains "pkg-dev/" .repository) (not (.tag | toString | regexFind "-r\\d+$|sha256:")) }}
WARNING: Rolling tag detected ({{ .repository }}:{{ .tag }}), please note that it is strongly recommended to avoid using rolling tags in a production environment.
{{- end }}
{{- end -}}

{{- define "common.warnings.resources" -}}
{{- $values := .context.Values -}}
{{- $printMessage := false -}}
{{ $affectedSections := list -}}
{{- range .sections -}}
  {{- if eq . "" -}}
    {{- if not (index $values "resources") -}}
      {{- $affectedSections = append $affectedSections "resources" -}}
      {{- $printMessage = true -}}
    {{- end -}}
  {{- else -}}
    {{- $keys := split "." . -}}
    {{- $section := $values -}}
    {{- range $keys -}}
      {{- $section = index $section . -}}
    {{- end -}}
    {{- if not (index $section "resources") -}}
      {{- $affectedSections = append $affectedSections (printf "%s.resources" .) -}}
      {{- $printMessage = true -}}
    {{- end -}}
  {{- end -}}
{{- end -}}
{{- if $printMessage }}

WARNING: There are "resources" sections in the chart not set: {{ join ", " $affectedSections }}
{{- end -}}
{{- end -}}
