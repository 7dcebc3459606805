package render_test

// harnessCases check helmTemplate against the binary. They cover the
// option plumbing (values files, --set*, release name and namespace,
// upgrade, CRDs, tests and hooks, --show-only and its error, kube and API
// versions) and error paths of each stage (values, loading, dependencies,
// rendering, YAML parsing).
var harnessCases = []parityCase{
	{name: "hello", chart: "hello"},
	{name: "hello-prod", chart: "hello", valueFiles: []string{"hello-prod.yaml"}, releaseName: "web", namespace: "prod",
		set: []string{"replicaCount=4", "image.tag=1.37.0"}, setString: []string{"message=0123"}},
	{name: "webstack-random", chart: "webstack", random: true},
	{name: "webstack-prod", chart: "webstack", valueFiles: []string{"webstack-prod.yaml"}},
	{name: "webhook-certs", chart: "webhook-certs", random: true},
	{name: "secrets-lookup", chart: "secrets-lookup", random: true},
	{name: "nested-globals", chart: "nested", valueFiles: []string{"nested-globals.yaml"}, set: []string{"global.environment=qa"}},
	{name: "hooks-upgrade", chart: "hooks", isUpgrade: true},
	{name: "hooks-skip-tests", chart: "hooks", skipTests: true},
	{name: "hooks-disabled", chart: "hooks", disableHooks: true},
	{name: "crds-included", chart: "crds", includeCRDs: true, namespace: "widgets"},
	{name: "release-info", chart: "release-info", releaseName: "info", namespace: "ns1",
		set: []string{"setMe=42"}, apiVersions: []string{"example.com/v1", "example.com/v1/Widget"}},
	{name: "ingress-old-kube", chart: "ingress-caps", kubeVersion: "1.17.3",
		apiVersions: []string{"networking.k8s.io/v1beta1", "monitoring.coreos.com/v1/ServiceMonitor"}},
	{name: "ordering-show-only", chart: "ordering", showOnly: []string{"templates/workloads/apps.yaml", "templates/rbac/*"}},
	{name: "ordering-show-only-hook-and-missing", chart: "hooks", showOnly: []string{"templates/tests/*", "templates/nope.yaml"}, wantErr: true},
	{name: "multidoc", chart: "multidoc"},
	{name: "empty-render", chart: "empty-render"},
	{name: "coalesce", chart: "coalesce", valueFiles: []string{"coalesce-1.yaml", "coalesce-2.yaml"},
		set:       []string{"replicas=5,list[1]=x", `labels.dotted\.key=v`, "global.flags.c=null", "nested.level1=null"},
		setString: []string{"emptyString=0012,sub.subOwn=true"}},
	{name: "bigchart", chart: "bigchart"},
	{name: "tgz-deps", chart: "tgz-deps"},
	{name: "schema-bad-values", chart: "schema", valueFiles: []string{"schema-bad.yaml"}, wantErr: true},
	{name: "bad-set", chart: "coalesce", set: []string{"list[x]=1"}, wantErr: true},
	{name: "missing-values-file", chart: "hello", valueFiles: []string{"does-not-exist.yaml"}, wantErr: true},
	{name: "bad-kube-version-flag", chart: "hello", kubeVersion: "one.two", wantErr: true},
	{name: "kube-too-old", chart: "kubeversion", kubeVersion: "1.24.9", wantErr: true},
	{name: "invalid-release-name", chart: "hello", releaseName: "Not_Valid", wantErr: true},
	{name: "err-bad-chart-yaml", chart: "errors/bad-chart-yaml", wantErr: true},
	{name: "err-missing-dependency", chart: "errors/missing-dependency", wantErr: true},
	{name: "err-library-chart", chart: "errors/library-chart", wantErr: true},
	{name: "err-parse-error", chart: "errors/parse-error", wantErr: true},
	{name: "err-subchart-error", chart: "errors/subchart-error", wantErr: true},
	{name: "err-invalid-yaml-output", chart: "errors/invalid-yaml-output", wantErr: true},
	{name: "err-schema-violation", chart: "errors/schema-violation", wantErr: true},
}

// parityCases is TestParity's table (see parity_test.go): every chart under
// testdata/charts at least once, several with more option combinations, and
// the error charts. It lives here, next to Helm's side, so that
// TestParityCasesAgainstHelm can check it while our side is pending.
var parityCases = []parityCase{
	// hello, the README's example.
	{name: "hello", chart: "hello"},
	{name: "hello/prod", chart: "hello", valueFiles: []string{"hello-prod.yaml"}, releaseName: "web", namespace: "prod"},
	{name: "hello/set", chart: "hello", set: []string{"replicaCount=2", "image.tag=1.37.0", "podAnnotations.a=b"}, setString: []string{"message=007"}},
	{name: "hello/show-only", chart: "hello", showOnly: []string{"templates/deployment.yaml"}},
	{name: "hello/upgrade", chart: "hello", isUpgrade: true, releaseName: "hello"},

	// bitnami-style library chart with include chains; random passwords.
	{name: "webstack", chart: "webstack", random: true},
	{name: "webstack/prod", chart: "webstack", valueFiles: []string{"webstack-prod.yaml"}},
	{name: "webstack/kube-1.18", chart: "webstack", kubeVersion: "v1.19.4", random: true, set: []string{"ingress.tls=false"}},
	{name: "webstack/password-set", chart: "webstack", set: []string{"auth.password=fixed", "metrics.enabled=true", "autoscaling.enabled=false", "replicaCount=1"}},
	{name: "webstack/validation-fails", chart: "webstack", set: []string{"auth.password=fixed", "autoscaling.enabled=false"}, wantErr: true},

	{name: "ingress-caps", chart: "ingress-caps"},
	{name: "ingress-caps/old-kube", chart: "ingress-caps", kubeVersion: "1.17.3",
		apiVersions: []string{"networking.k8s.io/v1beta1", "monitoring.coreos.com/v1/ServiceMonitor"}},
	{name: "ingress-caps/kube-1.20", chart: "ingress-caps", kubeVersion: "v1.20.15", apiVersions: []string{"batch/v1/CronJob"}},

	{name: "checksums", chart: "checksums"},
	{name: "checksums/changed", chart: "checksums", set: []string{"config.logLevel=debug", "sidecar.adminPort=1"}},

	{name: "secrets-lookup", chart: "secrets-lookup", random: true},
	{name: "secrets-lookup/provided", chart: "secrets-lookup", set: []string{"auth.postgresPassword=pw", "tokenLength=8"}, random: true},
	{name: "webhook-certs", chart: "webhook-certs", random: true, namespace: "webhooks"},

	{name: "hooks", chart: "hooks"},
	{name: "hooks/upgrade", chart: "hooks", isUpgrade: true},
	{name: "hooks/skip-tests", chart: "hooks", skipTests: true},
	{name: "hooks/no-hooks", chart: "hooks", disableHooks: true},
	{name: "hooks/show-only-tests", chart: "hooks", showOnly: []string{"templates/tests/*"}},
	{name: "hooks/show-only-skipped-test", chart: "hooks", skipTests: true, showOnly: []string{"templates/tests/test-smoke.yaml"}, wantErr: true},

	{name: "crds", chart: "crds"},
	{name: "crds/include", chart: "crds", includeCRDs: true},
	{name: "crds/include-no-templated", chart: "crds", includeCRDs: true, set: []string{"templatedCRD.enabled=false", "widgets=null"}},
	{name: "crds/show-only", chart: "crds", includeCRDs: true, showOnly: []string{"charts/operator/templates/config.yaml"}},

	{name: "files", chart: "files"},
	{name: "files/set", chart: "files", set: []string{"greeting=bonjour", "dashboards.enabled=false"}},

	{name: "schema", chart: "schema"},
	{name: "schema/override", chart: "schema", valueFiles: []string{"schema-override.yaml"}},
	{name: "schema/bad-values", chart: "schema", valueFiles: []string{"schema-bad.yaml"}, wantErr: true},
	{name: "schema/bad-set", chart: "schema", set: []string{"replicaCount=-1"}, wantErr: true},

	{name: "nested", chart: "nested"},
	{name: "nested/globals", chart: "nested", valueFiles: []string{"nested-globals.yaml"}, set: []string{"global.environment=qa"}},
	{name: "nested/alias-set", chart: "nested", set: []string{"web-a.widget.size=9", "backend.database.metrics.interval=1m"}},

	{name: "import-values", chart: "import-values"},
	{name: "import-values/set", chart: "import-values", set: []string{"settings.tuning.network.mtu=1400", "retries=9"}},

	{name: "conditions", chart: "conditions"},
	{name: "conditions/flip", chart: "conditions", valueFiles: []string{"conditions-flip.yaml"}},
	{name: "conditions/tags-off", chart: "conditions", set: []string{"tags.database=false", "cache.enabled=true"}},

	{name: "tgz-deps", chart: "tgz-deps"},
	{name: "tgz-deps/set", chart: "tgz-deps", set: []string{"events.metrics.enabled=true", "queue.queue-metrics.port=1"}},

	{name: "bigchart", chart: "bigchart"},
	{name: "bigchart/small", chart: "bigchart", valueFiles: []string{"bigchart-small.yaml"}},
	{name: "bigchart/show-only", chart: "bigchart", showOnly: []string{"templates/services/svc-01*", "charts/gw-public/templates/*"}},

	{name: "serialization", chart: "serialization"},
	{name: "recursion", chart: "recursion"},
	{name: "recursion/set", chart: "recursion", set: []string{"factorialOf=5", "fibDepth=3"}},
	{name: "collections", chart: "collections"},
	{name: "strings", chart: "strings"},

	{name: "tpl-values", chart: "tpl-values"},
	{name: "tpl-values/cluster", chart: "tpl-values", valueFiles: []string{"tpl-values-cluster.yaml"}},
	{name: "tpl-values/missing-required", chart: "tpl-values", valueFiles: []string{"tpl-values-missing-required.yaml"}, wantErr: true},

	{name: "release-info", chart: "release-info"},
	{name: "release-info/upgrade", chart: "release-info", isUpgrade: true, releaseName: "info", namespace: "ns1",
		set: []string{"setMe=42", "number=null"}, apiVersions: []string{"example.com/v1", "example.com/v1/Widget"}},
	{name: "release-info/kid-off", chart: "release-info", set: []string{"kid.enabled=false"}, setString: []string{"setMe=true"}, wantErr: true},
	{name: "release-info/set-string", chart: "release-info", setString: []string{"setMe=true", "number=2"}, set: []string{"list={x,y,z}"}},

	{name: "legacy-v1", chart: "legacy-v1"},
	{name: "legacy-v1/memcached", chart: "legacy-v1", set: []string{"memcached.enabled=true", "tags.legacy-db=false"}},

	{name: "kubeversion", chart: "kubeversion"},
	{name: "kubeversion/1.30", chart: "kubeversion", kubeVersion: "v1.30.2-gke.1500"},
	{name: "kubeversion/too-old", chart: "kubeversion", kubeVersion: "1.24.9", wantErr: true},

	{name: "helmignore", chart: "helmignore"},
	{name: "list-manifests", chart: "list-manifests"},
	{name: "multidoc", chart: "multidoc"},
	{name: "multidoc/scalar-document", chart: "multidoc", set: []string{"enabled=true"}, wantErr: true},
	{name: "dict-keys", chart: "dict-keys"},
	{name: "ordering", chart: "ordering"},
	{name: "ordering/show-only", chart: "ordering", showOnly: []string{"templates/workloads/apps.yaml", "templates/rbac/*", "templates/zz/unknown.yaml"}},
	{name: "ordering/show-only-missing", chart: "ordering", showOnly: []string{"templates/nope.yaml"}, wantErr: true},
	{name: "empty-render", chart: "empty-render"},
	{name: "empty-render/something", chart: "empty-render", set: []string{"createSomething=true"}},
	{name: "coalesce", chart: "coalesce"},
	{name: "coalesce/files-and-sets", chart: "coalesce", valueFiles: []string{"coalesce-1.yaml", "coalesce-2.yaml"},
		set:       []string{"replicas=5,list[1]=x", `labels.dotted\.key=v`, "global.flags.c=null", "nested.level1=null"},
		setString: []string{"emptyString=0012,sub.subOwn=true"}},
	{name: "coalesce/set-into-null", chart: "coalesce", valueFiles: []string{"coalesce-2.yaml"}, set: []string{"servers[0].host=c"}, wantErr: true},
	{name: "control-flow", chart: "control-flow"},
	{name: "define-precedence", chart: "define-precedence"},
	{name: "yaml-values", chart: "yaml-values"},

	// Option errors.
	{name: "option/bad-kube-version", chart: "hello", kubeVersion: "one.two", wantErr: true},
	{name: "option/bad-set", chart: "coalesce", set: []string{"list[x]=1"}, wantErr: true},
	{name: "option/missing-values-file", chart: "hello", valueFiles: []string{"does-not-exist.yaml"}, wantErr: true},
	{name: "option/invalid-release-name", chart: "hello", releaseName: "Not_Valid", wantErr: true},

	// Charts that must fail.
	{name: "errors/bad-chart-yaml", chart: "errors/bad-chart-yaml", wantErr: true},
	{name: "errors/bad-kubeversion", chart: "errors/bad-kubeversion", wantErr: true},
	{name: "errors/bad-values-yaml", chart: "errors/bad-values-yaml", wantErr: true},
	{name: "errors/bad-version", chart: "errors/bad-version", wantErr: true},
	{name: "errors/dig-on-values", chart: "errors/dig-on-values", wantErr: true},
	{name: "errors/fail-call", chart: "errors/fail-call", wantErr: true},
	{name: "errors/helmignore-negation", chart: "errors/helmignore-negation", wantErr: true},
	{name: "errors/include-missing", chart: "errors/include-missing", wantErr: true},
	{name: "errors/invalid-kubeversion-constraint", chart: "errors/invalid-kubeversion-constraint", wantErr: true},
	{name: "errors/invalid-yaml-output", chart: "errors/invalid-yaml-output", wantErr: true},
	{name: "errors/library-chart", chart: "errors/library-chart", wantErr: true},
	{name: "errors/missing-dependency", chart: "errors/missing-dependency", wantErr: true},
	{name: "errors/missing-required", chart: "errors/missing-required", wantErr: true},
	{name: "errors/nil-pointer", chart: "errors/nil-pointer", wantErr: true},
	{name: "errors/parse-error", chart: "errors/parse-error", wantErr: true},
	{name: "errors/runaway-recursion", chart: "errors/runaway-recursion", wantErr: true},
	{name: "errors/schema-violation", chart: "errors/schema-violation", wantErr: true},
	{name: "errors/subchart-error", chart: "errors/subchart-error", wantErr: true},
	{name: "errors/tpl-error", chart: "errors/tpl-error", wantErr: true},
	{name: "errors/unknown-function", chart: "errors/unknown-function", wantErr: true},
	{name: "errors/fail-call-fixed", chart: "errors/fail-call", set: []string{"mode=modern"}},
	{name: "errors/missing-required-set", chart: "errors/missing-required", set: []string{"database.password=hunter2"}},
}
