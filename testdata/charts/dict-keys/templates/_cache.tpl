{{/*
A memo keyed by the whole context map: dict turns each key into a string
with %v, so the map is formatted (with sorted keys) on every call.
*/}}
{{- define "dict-keys.memo" -}}
{{- $memo := dict .ctx (printf "%s-%d" .name (len .ctx)) -}}
{{- range $k, $v := $memo -}}
{{ $k }} => {{ $v }}
{{- end -}}
{{- end -}}
