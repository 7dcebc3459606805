package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// cliCase is one command line run by both helm and pkg.
type cliCase struct {
	name  string
	args  []string
	stdin string
	env   map[string]string // added to the sandbox
	exp   expectation
}

// runCases runs each case with helm and pkg, in parallel, and compares
// the outcomes.
func runCases(t *testing.T, cases []cliCase) {
	t.Helper()
	helmRef(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := newSandbox(t)
			for k, v := range tc.env {
				sb[k] = v
			}
			dir := t.TempDir()
			h := runHelm(t, sb, dir, tc.stdin, tc.args...)
			p := runPkg(t, sb, tc.stdin, tc.args...)
			compareOutcomes(t, h, p, tc.exp, func() outcome { return runHelm(t, sb, dir, tc.stdin, tc.args...) })
		})
	}
}

// chartDirs lists the charts (directories with a Chart.yaml or not) in dir.
func chartDirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "errors" {
			out = append(out, e.Name())
		}
	}
	if len(out) == 0 {
		t.Fatalf("no charts in %s", dir)
	}
	return out
}

func TestTemplateChartsMatchHelm(t *testing.T) {
	var cases []cliCase
	for _, dir := range []string{chartsDir(t), localCharts(t)} {
		for _, name := range chartDirs(t, dir) {
			cases = append(cases, cliCase{name: name, args: []string{"template", filepath.Join(dir, name)}})
		}
	}
	runCases(t, cases)
}

// TestTemplateErrorChartsMatchHelm renders every chart under
// testdata/charts/errors. Most fail with Helm's exact message; where pkg
// words an error its own way the case says so.
func TestTemplateErrorChartsMatchHelm(t *testing.T) {
	errDir := filepath.Join(chartsDir(t), "errors")
	special := map[string]expectation{
		// pkg names the chart it was loading and the file at fault.
		"bad-chart-yaml":      {errLocation, regexp.MustCompile(`^Error: loading chart ".*/bad-chart-yaml": Chart\.yaml: error converting YAML to JSON: yaml: line 4: `)},
		"bad-values-yaml":     {errLocation, regexp.MustCompile(`^Error: loading chart ".*/bad-values-yaml": values\.yaml: error converting YAML to JSON: yaml: line 3: `)},
		"helmignore-negation": {errLocation, regexp.MustCompile(`^Error: loading chart ".*/helmignore-negation": Chart\.yaml file is missing$`)},
		// Helm names no file; pkg names Chart.yaml.
		"bad-version": {errOurs, regexp.MustCompile(`^Error: loading chart ".*/bad-version": Chart\.yaml: validation: chart\.metadata\.version "one\.two" is invalid$`)},
		// The message quotes a Go type name, which differs between
		// implementations; the template and position are the same.
		"dig-on-values": {errLocation, regexp.MustCompile(`^Error: template: dig-on-values/templates/cm\.yaml:6:8: executing .* error calling dig: `)},
		// Helm lists schema violations in a random order.
		"schema-violation": {mode: errLines},
	}
	var cases []cliCase
	for _, name := range chartDirs(t, errDir) {
		cases = append(cases, cliCase{name: name, args: []string{"template", filepath.Join(errDir, name)}, exp: special[name]})
	}
	runCases(t, cases)
}

// testInputs are the files the flag tests pass to both binaries.
type testInputs struct {
	dir                                 string
	values1, values2, badValues, setTxt string
	addLabel, failing, empty            string
	kubeconfig                          string // contexts "dev" (current, namespace team-dev) and "prod"
}

func writeTestInputs(t *testing.T) testInputs {
	t.Helper()
	dir := t.TempDir()
	in := testInputs{
		dir:        dir,
		values1:    filepath.Join(dir, "v1.yaml"),
		values2:    filepath.Join(dir, "v2.yaml"),
		badValues:  filepath.Join(dir, "bad.yaml"),
		setTxt:     filepath.Join(dir, "message.txt"),
		kubeconfig: filepath.Join(dir, "kubeconfig"),
	}
	files := map[string]string{
		in.values1:   "replicaCount: 3\nmessage: from v1\nservice:\n  port: 8080\n",
		in.values2:   "message: from v2\nservice:\n  type: NodePort\n",
		in.badValues: "message: [unclosed\n",
		in.setTxt:    "a message\nfrom a file\n",
		in.kubeconfig: `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user: {token: t}
contexts:
- name: dev
  context: {cluster: c, user: u, namespace: team-dev}
- name: prod
  context: {cluster: c, user: u, namespace: team-prod}
`,
	}
	for name, body := range files {
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyTree(t, filepath.Join("testdata", "postrender"), filepath.Join(dir, "postrender"))
	in.addLabel = filepath.Join(dir, "postrender", "add-label.sh")
	in.failing = filepath.Join(dir, "postrender", "fail.sh")
	in.empty = filepath.Join(dir, "postrender", "empty.sh")
	for _, s := range []string{in.addLabel, in.failing, in.empty} {
		if err := os.Chmod(s, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

func TestTemplateFlagsMatchHelm(t *testing.T) {
	c := chartsDir(t)
	hello := filepath.Join(c, "hello")
	hooks := filepath.Join(c, "hooks")
	crds := filepath.Join(c, "crds")
	releaseInfo := filepath.Join(c, "release-info")
	kubeVersion := filepath.Join(c, "kubeversion")
	caps := filepath.Join(c, "ingress-caps")
	errs := filepath.Join(c, "errors")
	in := writeTestInputs(t)
	tpl := func(args ...string) []string { return append([]string{"template"}, args...) }
	firstLine := expectation{mode: errFirstLine}

	runCases(t, []cliCase{
		// NAME and the naming flags.
		{name: "release name", args: tpl("my-release", hello)},
		{name: "name template", args: tpl("--name-template", `rel-{{ "x" | upper | lower }}`, hello)},
		{name: "name template and a name", args: tpl("--name-template", "x", "my-release", hello)},
		{name: "name template parse error", args: tpl("--name-template", "{{ .Nope", hello)},
		{name: "name template empty result", args: tpl("--name-template", `{{ "" }}`, hello)},
		{name: "invalid release name", args: tpl("Bad_Name", hello)},
		{name: "release name too long", args: tpl(strings.Repeat("a", 54), hello)},
		{name: "generate name", args: tpl("-g", hello)},
		{name: "generate name and a name", args: tpl("--generate-name", "my-release", hello)},
		{name: "too many arguments", args: tpl("a", "b", "c")},

		// Namespaces.
		{name: "namespace flag", args: tpl("-n", "team-a", releaseInfo)},
		{name: "namespace long flag", args: tpl("--namespace=team-b", releaseInfo)},
		{name: "namespace from environment", args: tpl(releaseInfo), env: map[string]string{"HELM_NAMESPACE": "from-env"}},
		{name: "namespace flag over environment", args: tpl("-n", "flag", releaseInfo), env: map[string]string{"HELM_NAMESPACE": "from-env"}},
		{name: "namespace from kubeconfig", args: tpl(releaseInfo), env: map[string]string{"KUBECONFIG": in.kubeconfig}},
		{name: "namespace from --kubeconfig and --kube-context", args: tpl(releaseInfo, "--kubeconfig", in.kubeconfig, "--kube-context", "prod")},
		{name: "namespace from HELM_KUBECONTEXT", args: tpl(releaseInfo), env: map[string]string{"KUBECONFIG": in.kubeconfig, "HELM_KUBECONTEXT": "prod"}},
		{name: "namespace environment over kubeconfig", args: tpl(releaseInfo), env: map[string]string{"KUBECONFIG": in.kubeconfig, "HELM_NAMESPACE": "from-env"}},

		// Values.
		{name: "values files", args: tpl(hello, "-f", in.values1, "-f", in.values2)},
		{name: "values files comma separated", args: tpl(hello, "-f", in.values1+","+in.values2)},
		{name: "values long flag", args: tpl(hello, "--values", in.values2)},
		{name: "values from stdin", args: tpl(hello, "-f", in.values1, "-f", "-"), stdin: "message: from stdin\nreplicaCount: 7\n"},
		{name: "values file missing", args: tpl(hello, "-f", filepath.Join(in.dir, "missing.yaml"))},
		{name: "values file invalid", args: tpl(hello, "-f", in.badValues)},
		{name: "set", args: tpl(hello, "--set", "replicaCount=4,service.port=9090", "--set", "message=hi")},
		{name: "set list and null", args: tpl(hello, "--set", "resources=null,image.tag=1.2")},
		{name: "set-string", args: tpl(hello, "--set-string", "replicaCount=5", "--set-string", "message=true")},
		{name: "set parse error", args: tpl(hello, "--set", "a[x]=1")},
		{name: "set-file", args: tpl(hello, "--set-file", "message="+in.setTxt)},
		{name: "set-file missing", args: tpl(hello, "--set-file", "message="+filepath.Join(in.dir, "nope.txt"))},
		{name: "set-json", args: tpl(hello, "--set-json", `resources={"limits":{"cpu":"1"}}`, "--set-json", `replicaCount=2`)},
		{name: "set-json invalid", args: tpl(hello, "--set-json", "resources={bad")},
		{name: "set-literal", args: tpl(hello, "--set-literal", "message=a,b={c}\\d")},
		{name: "value precedence", args: tpl(hello, "-f", in.values1, "--set", "message=set", "--set-string", "replicaCount=9", "--set-json", `service={"port":1}`, "--set-literal", "message=literal")},

		// --show-only.
		{name: "show-only file", args: tpl(hello, "-s", "templates/service.yaml")},
		{name: "show-only glob", args: tpl(hello, "--show-only", "templates/*.yaml")},
		{name: "show-only several", args: tpl(hello, "-s", "templates/service.yaml", "-s", "templates/configmap.yaml")},
		{name: "show-only missing", args: tpl(hello, "-s", "templates/nope.yaml")},
		{name: "show-only notes", args: tpl(hello, "-s", "templates/NOTES.txt")},
		{name: "show-only hooks", args: tpl(hooks, "-s", "templates/tests/*")},
		{name: "show-only skipped test", args: tpl(hooks, "--skip-tests", "-s", "templates/tests/test-connection.yaml")},
		{name: "show-only subchart", args: tpl(filepath.Join(c, "nested"), "-s", "charts/backend/templates/*")},
		{name: "show-only crd", args: tpl(crds, "--include-crds", "-s", "crds/widgets.yaml")},

		// What is rendered.
		{name: "include-crds", args: tpl(crds, "--include-crds")},
		{name: "skip-tests", args: tpl(hooks, "--skip-tests")},
		{name: "no-hooks", args: tpl(hooks, "--no-hooks")},
		{name: "no-hooks and skip-tests", args: tpl(hooks, "--no-hooks", "--skip-tests")},
		{name: "is-upgrade", args: tpl(releaseInfo, "--is-upgrade")},
		{name: "kube-version", args: tpl(kubeVersion, "--kube-version", "1.30.2")},
		{name: "kube-version with v", args: tpl(caps, "--kube-version", "v1.21.0")},
		{name: "kube-version too old", args: tpl(kubeVersion, "--kube-version", "1.10.0")},
		{name: "kube-version invalid", args: tpl(hello, "--kube-version", "banana")},
		{name: "api-versions", args: tpl(caps, "--api-versions", "networking.k8s.io/v1beta1,policy/v1beta1", "-a", "example.com/v1/Widget")},
		{name: "render-subchart-notes", args: tpl(filepath.Join(c, "nested"), "--render-subchart-notes")},
		{name: "skip-schema-validation", args: tpl(filepath.Join(errs, "schema-violation"), "--skip-schema-validation")},
		{name: "deprecated chart", args: tpl(filepath.Join(c, "yaml-values"))},

		// --post-renderer.
		{name: "post-renderer", args: tpl(hello, "--post-renderer", in.addLabel)},
		{name: "post-renderer args", args: tpl(hooks, "--post-renderer-args", "ignored", "--post-renderer", in.addLabel, "--post-renderer-args", "")},
		{name: "post-renderer and show-only", args: tpl(hello, "--post-renderer", in.addLabel, "-s", "templates/service.yaml")},
		{name: "post-renderer fails", args: tpl(hello, "--post-renderer", in.failing)},
		{name: "post-renderer fails with debug", args: tpl(hooks, "--post-renderer", in.failing, "--debug"), exp: firstLine},
		{name: "post-renderer prints nothing", args: tpl(hooks, "--post-renderer", in.empty)},
		{name: "post-renderer missing", args: tpl(hello, "--post-renderer", filepath.Join(in.dir, "nope.sh"))},

		// --debug.
		{name: "debug on a YAML error", args: tpl(filepath.Join(errs, "invalid-yaml-output"), "--debug"), exp: firstLine},
		{name: "debug on a template error", args: tpl(filepath.Join(errs, "fail-call"), "--debug"), exp: firstLine},
		{name: "debug on kube-version", args: tpl(kubeVersion, "--kube-version", "1.10.0", "--debug"), exp: firstLine},
		{name: "debug from environment", args: tpl(filepath.Join(errs, "invalid-yaml-output")), env: map[string]string{"HELM_DEBUG": "true"}, exp: firstLine},
		{name: "debug off over environment", args: tpl(filepath.Join(errs, "invalid-yaml-output"), "--debug=false"), env: map[string]string{"HELM_DEBUG": "true"}},
		{name: "debug with a good chart", args: tpl(hello, "--debug"), exp: firstLine},

		// Charts that cannot be rendered.
		{name: "missing chart path", args: tpl(filepath.Join(in.dir, "no-such-chart"))},
		{name: "missing relative chart path", args: tpl("./no-such-chart")},
		{name: "bare chart name", args: tpl("no-such-chart")},
		{name: "chart from a repository", args: tpl("stable/nginx")},
		{name: "library chart", args: tpl(filepath.Join(errs, "library-chart"))},
		{name: "missing dependencies", args: tpl(filepath.Join(errs, "missing-dependency"))},
		{name: "chart is a file", args: tpl(in.values1),
			exp: expectation{errOurs, regexp.MustCompile(`^Error: loading chart ".*v1\.yaml": not a gzipped archive`)}},

		// Flags that only matter to `helm install` are accepted.
		{name: "install flags", args: tpl(hello, "--wait", "--timeout", "1m", "--atomic", "-l", "a=b", "--create-namespace", "--description", "d", "--force", "--replace", "--skip-crds", "--hide-notes", "--take-ownership", "--wait-for-jobs", "--disable-openapi-validation")},
		{name: "dry-run", args: tpl(hello, "--dry-run")},
		{name: "dry-run client", args: tpl(hello, "--dry-run=client")},
		{name: "dry-run invalid", args: tpl(hello, "--dry-run=bogus")},
		{name: "version of a local chart", args: tpl(hello, "--version", "9.9.9", "--devel")},
	})
}

// TestTemplateArchivesMatchHelm renders chart archives made by `pkg
// package` and by `helm package`, with both binaries.
func TestTemplateArchivesMatchHelm(t *testing.T) {
	bin := helmRef(t)
	_ = bin
	sb := newSandbox(t)
	out := t.TempDir()
	var cases []cliCase
	for _, name := range []string{"hello", "tgz-deps", "nested", "crds"} {
		src := filepath.Join(chartsDir(t), name)
		for _, who := range []string{"helm", "pkg"} {
			dest := filepath.Join(out, who)
			var o outcome
			if who == "helm" {
				o = runHelm(t, sb, out, "", "package", src, "-d", dest)
			} else {
				o = runPkg(t, sb, "", "package", src, "-d", dest)
			}
			if o.code != 0 {
				t.Fatalf("%s package %s: %s", who, name, o.stderr)
			}
			archive := strings.TrimPrefix(strings.TrimSpace(o.stdout), "Successfully packaged chart and saved it to: ")
			cases = append(cases,
				cliCase{name: name + " packaged by " + who, args: []string{"template", "rel", archive, "--include-crds"}},
				cliCase{name: name + " packaged by " + who + " with values", args: []string{"template", archive, "--set", "replicaCount=2", "-s", "templates/*"}},
			)
		}
	}
	runCases(t, cases)
}
