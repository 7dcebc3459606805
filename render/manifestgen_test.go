package render

import (
	"fmt"
	"strings"
)

// genRenderedCharts returns rendered template files, keyed as Helm keys
// them, for n applications that look like the output of common public
// charts: deployments, services, config maps holding files, secrets, RBAC,
// ingresses, autoscalers, custom resource definitions, hook jobs with
// weights and delete policies, test pods, notes, partials and templates
// that render to nothing.
func genRenderedCharts(n int) map[string]string {
	files := map[string]string{}
	for i := range n {
		app := fmt.Sprintf("app%d", i)
		dir := app + "/templates/"
		files[dir+"NOTES.txt"] = "1. Get the application URL by running these commands:\n  export POD_NAME=$(kubectl get pods -l app=" + app + ")\n"
		files[dir+"_helpers.tpl"] = "\n\n"
		files[dir+"deployment.yaml"] = genDeployment(app, i)
		files[dir+"service.yaml"] = genService(app, i)
		files[dir+"configmap.yaml"] = genConfigMap(app, i)
		files[dir+"secret.yaml"] = genSecret(app, i)
		files[dir+"serviceaccount.yaml"] = genServiceAccount(app)
		files[dir+"rbac.yaml"] = genRBAC(app)
		files[dir+"hpa.yaml"] = genHPA(app, i)
		files[dir+"ingress.yaml"] = genIngress(app, i)
		files[dir+"pdb.yaml"] = "\n"
		files[dir+"hooks/migrate.yaml"] = genHookJob(app, i)
		files[dir+"tests/test-connection.yaml"] = genTestPod(app)
		if i%3 == 0 {
			files[dir+"crds.yaml"] = genCRD(app, i)
		}
		if i%4 == 1 {
			files[dir+"statefulset.yaml"] = genStatefulSet(app, i)
		}
	}
	return files
}

// labels renders the usual chart labels at the given indentation.
func labels(app string, indent int) string {
	pad := strings.Repeat(" ", indent)
	return pad + "helm.sh/chart: " + app + "-1.2.3\n" +
		pad + "app.kubernetes.io/name: " + app + "\n" +
		pad + "app.kubernetes.io/instance: release-name\n" +
		pad + "app.kubernetes.io/version: \"1.16.0\"\n" +
		pad + "app.kubernetes.io/managed-by: Helm\n"
}

func genDeployment(app string, i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "---\n# Source: %s/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: release-name-%s\n  labels:\n%s", app, app, labels(app, 4))
	if i%2 == 0 {
		b.WriteString("  annotations:\n    deployment.kubernetes.io/revision: \"3\"\n    meta.helm.sh/release-name: release-name\n")
	}
	b.WriteString("spec:\n  replicas: 2\n  revisionHistoryLimit: 10\n  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 25%\n      maxUnavailable: 0\n")
	fmt.Fprintf(&b, "  selector:\n    matchLabels:\n      app.kubernetes.io/name: %s\n      app.kubernetes.io/instance: release-name\n", app)
	fmt.Fprintf(&b, "  template:\n    metadata:\n      annotations:\n        checksum/config: 5f1c3a%08x9b2e4d7c1a0f3e6d8b2c4a6e8f0b1d3c5e7a9\n      labels:\n%s", i, labels(app, 8))
	b.WriteString("    spec:\n      serviceAccountName: release-name-" + app + "\n      securityContext:\n        fsGroup: 1001\n        runAsNonRoot: true\n")
	if i%5 == 0 {
		b.WriteString("      imagePullSecrets: []\n      affinity: {}\n      nodeSelector: {}\n      tolerations: []\n")
	}
	b.WriteString("      initContainers:\n        - name: wait-for-db\n          image: \"docker.io/bitnami/os-shell:12-debian-12-r16\"\n          command:\n            - /bin/bash\n            - -ec\n            - |\n              until nc -z db 5432; do\n                echo \"waiting for db\"; sleep 2\n              done\n")
	b.WriteString("      containers:\n")
	for c := range 1 + i%3 {
		fmt.Fprintf(&b, "        - name: %s-%d\n          image: \"nginx:1.25.%d\"\n          imagePullPolicy: IfNotPresent\n", app, c, c)
		b.WriteString("          args:\n            - --port=8080\n            - --log-level=info\n            - --metrics-addr=:9090\n")
		if i%7 == 3 {
			b.WriteString("          command: [\"/bin/sh\", \"-c\"]\n")
		}
		b.WriteString("          env:\n")
		for e := range 6 {
			fmt.Fprintf(&b, "            - name: ENV_VAR_%d\n              value: \"value-%d-%d\"\n", e, i, e)
		}
		b.WriteString("            - name: POD_NAME\n              valueFrom:\n                fieldRef:\n                  fieldPath: metadata.name\n")
		b.WriteString("            - name: DB_PASSWORD\n              valueFrom:\n                secretKeyRef:\n                  name: release-name-" + app + "\n                  key: password\n")
		b.WriteString("          ports:\n            - name: http\n              containerPort: 8080\n              protocol: TCP\n            - name: metrics\n              containerPort: 9090\n              protocol: TCP\n")
		b.WriteString("          livenessProbe:\n            httpGet:\n              path: /healthz\n              port: http\n            initialDelaySeconds: 30\n            periodSeconds: 10\n            timeoutSeconds: 5\n            failureThreshold: 6\n")
		b.WriteString("          readinessProbe:\n            httpGet:\n              path: /ready\n              port: http\n            initialDelaySeconds: 5\n            periodSeconds: 5\n")
		b.WriteString("          resources:\n            limits:\n              cpu: 500m\n              memory: 512Mi\n            requests:\n              cpu: 100m\n              memory: 128Mi\n")
		b.WriteString("          securityContext:\n            allowPrivilegeEscalation: false\n            capabilities:\n              drop:\n              - ALL\n            readOnlyRootFilesystem: true\n            runAsUser: 1001\n")
		b.WriteString("          volumeMounts:\n            - name: config\n              mountPath: /etc/" + app + "\n              readOnly: true\n            - name: tmp\n              mountPath: /tmp\n")
	}
	b.WriteString("      volumes:\n        - name: config\n          configMap:\n            name: release-name-" + app + "\n        - name: tmp\n          emptyDir: {}\n")
	return b.String()
}

func genService(app string, i int) string {
	s := fmt.Sprintf("---\n# Source: %s/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: release-name-%s\n  labels:\n%sspec:\n  type: ClusterIP\n  ports:\n    - port: 80\n      targetPort: http\n      protocol: TCP\n      name: http\n  selector:\n    app.kubernetes.io/name: %s\n    app.kubernetes.io/instance: release-name\n", app, app, labels(app, 4), app)
	if i%2 == 1 {
		s += fmt.Sprintf("---\n# Source: %s/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: release-name-%s-headless\n  annotations:\n    service.alpha.kubernetes.io/tolerate-unready-endpoints: \"true\"\nspec:\n  clusterIP: None\n  ports:\n  - name: tcp\n    port: 5432\n  selector:\n    app: %s\n", app, app, app)
	}
	return s
}

func genConfigMap(app string, i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: release-name-%s\n  labels:\n%sdata:\n", app, labels(app, 4))
	b.WriteString("  nginx.conf: |\n    worker_processes  auto;\n    events {\n      worker_connections  1024;\n    }\n\n    http {\n      server {\n        listen 8080;\n        location / {\n          root   /usr/share/nginx/html;\n          index  index.html index.htm;\n        }\n        # health\n        location /healthz { return 200 'ok'; }\n      }\n    }\n")
	b.WriteString("  config.json: |-\n    {\n      \"name\": \"" + app + "\",\n      \"replicas\": 3,\n      \"features\": [\"a\", \"b\"],\n      \"nested\": {\"key\": \"value: with colon # and hash\"}\n    }\n")
	fmt.Fprintf(&b, "  LOG_LEVEL: info\n  MAX_CONNECTIONS: \"%d\"\n  ENABLE_FEATURE: \"true\"\n  .env: |\n    A=1\n    B=2\n", 100+i)
	if i%6 == 2 {
		b.WriteString("  banner.txt: >\n    Welcome to the\n    application.\n\n    Second paragraph.\n")
	}
	return b.String()
}

func genSecret(app string, i int) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: release-name-%s\n  labels:\n%stype: Opaque\ndata:\n  password: %q\n  api-key: \"c2VjcmV0LWFwaS1rZXktJWQ=\"\n  .dockerconfigjson: eyJhdXRocyI6e319\n", app, labels(app, 4), fmt.Sprintf("cGFzc3dvcmQt%04d", i))
}

func genServiceAccount(app string) string {
	return fmt.Sprintf("---\n# Source: %s/templates/serviceaccount.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: release-name-%s\n  labels:\n%sautomountServiceAccountToken: true\n", app, app, labels(app, 4))
}

func genRBAC(app string) string {
	return fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: release-name-%[1]s
rules:
  - apiGroups:
      - ""
    resources:
      - pods
      - configmaps
    verbs:
      - get
      - list
      - watch
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: release-name-%[1]s
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: release-name-%[1]s
subjects:
  - kind: ServiceAccount
    name: release-name-%[1]s
    namespace: default
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: release-name-%[1]s-cluster
rules:
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list"]
`, app)
}

func genHPA(app string, i int) string {
	if i%2 == 0 {
		return "# autoscaling disabled\n"
	}
	return fmt.Sprintf("---\n# Source: %s/templates/hpa.yaml\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: release-name-%s\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: release-name-%s\n  minReplicas: 1\n  maxReplicas: 10\n  metrics:\n    - type: Resource\n      resource:\n        name: cpu\n        target:\n          type: Utilization\n          averageUtilization: 80\n", app, app, app)
}

func genIngress(app string, i int) string {
	return fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: release-name-%[1]s
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /$2
    cert-manager.io/cluster-issuer: 'letsencrypt-prod'
spec:
  ingressClassName: nginx
  tls:
    - hosts:
        - "%[1]s.example.com"
      secretName: %[1]s-tls
  rules:
    - host: "%[1]s.example.com"
      http:
        paths:
          - path: /api(/|$)(.*)
            pathType: ImplementationSpecific
            backend:
              service:
                name: release-name-%[1]s
                port:
                  number: %[2]d
`, app, 80+i%3)
}

func genHookJob(app string, i int) string {
	weights := []string{`"-5"`, `"0"`, `"10"`, "5", `"abc"`, `""`}
	policies := []string{"before-hook-creation,hook-succeeded", "hook-succeeded", "Hook-Failed , before-hook-creation", ""}
	events := []string{"pre-install,pre-upgrade", "post-install", "pre-delete", "post-upgrade, post-rollback", "pre-rollback"}
	var b strings.Builder
	for h := range 2 {
		fmt.Fprintf(&b, "---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: release-name-%s-hook-%d\n  annotations:\n    \"helm.sh/hook\": %s\n    \"helm.sh/hook-weight\": %s\n", app, h, events[(i+h)%len(events)], weights[(i+h)%len(weights)])
		if p := policies[(i+h)%len(policies)]; p != "" {
			fmt.Fprintf(&b, "    \"helm.sh/hook-delete-policy\": %s\n", p)
		}
		b.WriteString("spec:\n  backoffLimit: 1\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: migrate\n          image: \"migrate:1.0\"\n          command: [\"migrate\", \"up\"]\n")
	}
	if i%3 == 0 {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: release-name-%s-hook-config\n  annotations:\n    helm.sh/hook: pre-install\n    helm.sh/hook-weight: \"-10\"\ndata:\n  k: v\n", app)
	}
	if i%4 == 2 {
		// An unknown event: Helm drops the document.
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: release-name-%s-bad-hook\n  annotations:\n    helm.sh/hook: pre-install,on-tuesday\ndata: {}\n", app)
	}
	return b.String()
}

func genTestPod(app string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: "release-name-%[1]s-test-connection"
  labels:
    app.kubernetes.io/name: %[1]s
  annotations:
    "helm.sh/hook": test
    helm.sh/hook-output-log-policy: hook-succeeded, hook-failed
spec:
  containers:
    - name: wget
      image: busybox
      command: ['wget']
      args: ['release-name-%[1]s:80']
  restartPolicy: Never
`, app)
}

func genCRD(app string, i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets%d.example.com\n  annotations:\n    controller-gen.kubebuilder.io/version: v0.14.0\nspec:\n  group: example.com\n  names:\n    kind: Widget%d\n    listKind: Widget%dList\n    plural: widgets%d\n    singular: widget%d\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        description: Widget is the Schema for the widgets API. It’s a long description with non-ASCII text – like this.\n        type: object\n        properties:\n", i, i, i, i, i)
	for f := range 40 {
		fmt.Fprintf(&b, "          field%d:\n            description: |-\n              Field%d configures the widget. When unset, the controller\n              picks a default: see https://example.com/docs#field%d for details.\n            type: string\n            enum:\n            - Alpha\n            - Beta\n", f, f, f)
		if f%5 == 0 {
			fmt.Fprintf(&b, "            x-kubernetes-validations:\n            - rule: self.size() <= 63\n              message: must be at most 63 characters\n")
		}
	}
	b.WriteString("    subresources:\n      status: {}\n")
	return b.String()
}

func genStatefulSet(app string, i int) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: release-name-%[1]s-db
spec:
  serviceName: release-name-%[1]s-headless
  replicas: %[2]d
  selector:
    matchLabels:
      app: %[1]s-db
  template:
    metadata:
      labels:
        app: %[1]s-db
    spec:
      containers:
      - name: postgres
        image: postgres:16
        env:
        - name: PGDATA
          value: /var/lib/postgresql/data/pgdata
        volumeMounts:
        - name: data
          mountPath: /var/lib/postgresql/data
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ "ReadWriteOnce" ]
      resources:
        requests:
          storage: 8Gi
`, app, 1+i%3)
}
