{{- define "biglib.env" -}}
{{- range $k, $v := .env }}
- name: {{ $k }}
  value: {{ tpl (toString $v) $.root | quote }}
{{- end }}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end -}}

{{- define "biglib.probe" -}}
{{- if .svc.probe }}
readinessProbe:
  httpGet:
    path: {{ .svc.probe.path }}
    port: http
  initialDelaySeconds: {{ .svc.probe.initialDelaySeconds }}
livenessProbe:
  httpGet:
    path: {{ .svc.probe.path }}
    port: http
{{- end }}
{{- end -}}

{{- define "biglib.annotations" -}}
{{- $scope := dict "port" .svc.port "index" .index "name" .name -}}
{{- range $k, $v := .svc.annotations }}
{{ $k }}: {{ tpl (toString $v) $scope | quote }}
{{- end }}
{{- end -}}

{{- define "biglib.deployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "biglib.fullname" . }}
  labels:
    {{- include "biglib.labels" . | nindent 4 }}
    app.kubernetes.io/component: {{ .svc.language }}
spec:
  {{- if not .autoscaling }}
  replicas: {{ .svc.replicas }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "biglib.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "biglib.selectorLabels" . | nindent 8 }}
      annotations:
        {{- include "biglib.annotations" . | indent 8 }}
        {{- if .config }}
        checksum/config: {{ include "biglib.configmap" . | sha256sum }}
        {{- end }}
    spec:
      serviceAccountName: {{ ternary .name "default" (eq .svc.language "go") }}
      containers:
        - name: {{ .name }}
          image: "{{ .root.Values.global.registry }}/{{ .svc.language }}/{{ .name }}:{{ .root.Chart.AppVersion }}"
          ports:
            - name: http
              containerPort: {{ .svc.port }}
          env:
            {{- include "biglib.env" . | nindent 12 }}
          {{- include "biglib.probe" . | nindent 10 }}
          resources:
            {{- toYaml .svc.resources | nindent 12 }}
{{- end -}}

{{- define "biglib.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "biglib.fullname" . }}
  labels:
    {{- include "biglib.labels" . | nindent 4 }}
spec:
  ports:
    - name: http
      port: 80
      targetPort: {{ .svc.port }}
  selector:
    {{- include "biglib.selectorLabels" . | nindent 4 }}
{{- end -}}

{{- define "biglib.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "biglib.fullname" . }}
  labels:
    {{- include "biglib.labels" . | nindent 4 }}
data:
  config.json: {{ toJson .config | quote }}
  config.yaml: |
    {{- toYaml .config | nindent 4 }}
{{- end -}}

{{- define "biglib.hpa" -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "biglib.fullname" . }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "biglib.fullname" . }}
  minReplicas: {{ .autoscaling.min }}
  maxReplicas: {{ .autoscaling.max }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .autoscaling.cpu }}
{{- end -}}
