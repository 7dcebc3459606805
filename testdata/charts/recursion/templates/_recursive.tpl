{{/* Renders a menu tree; each item includes this template for its children. */}}
{{- define "recursion.menu" -}}
{{- $indent := .indent -}}
{{- range .items }}
{{ repeat (int $indent) "  " }}- {{ .title }} ({{ .path }})
{{- if .children }}
{{- include "recursion.menu" (dict "items" .children "indent" (add1 $indent)) }}
{{- end }}
{{- end }}
{{- end -}}

{{/* n! computed by recursion on a counter. */}}
{{- define "recursion.factorial" -}}
{{- if le (int .) 1 -}}
1
{{- else -}}
{{- mul . (include "recursion.factorial" (sub . 1) | atoi) -}}
{{- end -}}
{{- end -}}

{{/* Fibonacci numbers up to a depth, as a comma separated list. */}}
{{- define "recursion.fib" -}}
{{- if lt (int .n) (int .depth) -}}
{{- .a }},{{ include "recursion.fib" (dict "a" .b "b" (add .a .b) "n" (add1 .n) "depth" .depth) -}}
{{- else -}}
{{- .a -}}
{{- end -}}
{{- end -}}

{{/* Flattens nested maps into dotted keys. */}}
{{- define "recursion.flatten" -}}
{{- $prefix := .prefix -}}
{{- range $k, $v := .value -}}
{{- $key := ternary $k (printf "%s.%s" $prefix $k) (empty $prefix) -}}
{{- if kindIs "map" $v -}}
{{- include "recursion.flatten" (dict "prefix" $key "value" $v) -}}
{{- else }}
{{ $key }}: {{ $v | quote }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Depth guard: stops at a fixed depth even on cyclic input. */}}
{{- define "recursion.countdown" -}}
{{- if gt (int .) 0 -}}
{{ . }} {{ include "recursion.countdown" (sub . 1) }}
{{- else -}}
liftoff
{{- end -}}
{{- end -}}
