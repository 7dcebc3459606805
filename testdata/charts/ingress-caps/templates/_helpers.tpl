{{- define "ingress-caps.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Ingress API group: prefer what the server advertises, then fall back on its version. */}}
{{- define "ingress-caps.ingress.apiVersion" -}}
{{- if and (.Capabilities.APIVersions.Has "networking.k8s.io/v1") (semverCompare ">= 1.19-0" .Capabilities.KubeVersion.Version) -}}
networking.k8s.io/v1
{{- else if .Capabilities.APIVersions.Has "networking.k8s.io/v1beta1" -}}
networking.k8s.io/v1beta1
{{- else -}}
extensions/v1beta1
{{- end -}}
{{- end -}}

{{- define "ingress-caps.ingress.isStable" -}}
{{- eq (include "ingress-caps.ingress.apiVersion" .) "networking.k8s.io/v1" -}}
{{- end -}}
