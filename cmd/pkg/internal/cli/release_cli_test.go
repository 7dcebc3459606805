package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"pkg.dev/pkg/internal/testcluster"
)

// timestamps matches the times release commands print: ANSI C dates,
// Go's time.String() form, RFC 3339 in JSON and YAML.
var timestamps = regexp.MustCompile(`[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}|\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?( ?[+-]\d\d:?\d\d( [A-Z]+)?|Z)?`)

// normalizeRelease hides the times in release output, which differ
// between two runs, and tabs' padding that depends on their width.
func normalizeRelease(s string) string {
	s = timestamps.ReplaceAllString(s, "TIME")
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		fields := strings.FieldsFunc(l, func(r rune) bool { return r == '\t' })
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
		}
		lines = append(lines, strings.Join(fields, "|"))
	}
	return strings.Join(lines, "\n")
}

// TestReleaseLifecycleMatchesHelm runs the same release commands with pkg
// against one API server and with the reference helm against another, and
// compares what they print and their exit status, step by step: install,
// list, status, upgrade, history, get, rollback, uninstall, and the errors
// users meet on the way.
func TestReleaseLifecycleMatchesHelm(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the reference helm binary against two API servers")
	}
	helmRef(t)
	ours, theirs := testcluster.Start(t), testcluster.Start(t)
	psb, hsb := newSandbox(t), newSandbox(t)
	psb["KUBECONFIG"], hsb["KUBECONFIG"] = ours.Kubeconfig, theirs.Kubeconfig
	hello := filepath.Join(chartsDir(t), "hello")
	schema := filepath.Join(chartsDir(t), "schema")
	webstack := filepath.Join(chartsDir(t), "webstack")
	tmp := t.TempDir()
	look := writeChart(t, tmp, "look", map[string]string{"cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: look
data:
  configmaps: {{ len (lookup "v1" "ConfigMap" .Release.Namespace "").items | quote }}
  hello: {{ (lookup "v1" "ConfigMap" .Release.Namespace "hello").metadata.name | quote }}
  missing: {{ lookup "v1" "Secret" .Release.Namespace "nope" | len | quote }}
`})
	script := filepath.Join(tmp, "post-render.sh")
	writeFiles(t, tmp, map[string]string{"post-render.sh": "#!/bin/sh\ncat\nprintf -- '---\\napiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: added-by-post-renderer\\n'\n"})
	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}

	steps := [][]string{
		{"install", "hello", hello, "--set", "replicaCount=2", "--labels", "team=web"},
		{"install", "hello", hello},
		{"install", "look", look},
		{"get", "manifest", "look"},
		{"install", "look2", look, "--dry-run"},
		{"install", "crdrel", filepath.Join(chartsDir(t), "crds")},
		{"get", "manifest", "crdrel"},
		{"upgrade", "crdrel", filepath.Join(chartsDir(t), "crds"), "--set", "widgets[0].name=w9"},
		{"uninstall", "crdrel"},
		{"install", "pr", hello, "--post-renderer", script},
		{"get", "manifest", "pr"},
		{"list"},
		{"list", "-o", "json"},
		{"list", "-o", "yaml"},
		{"list", "-q"},
		{"status", "hello"},
		{"status", "hello", "--show-desc", "-o", "json"},
		{"upgrade", "hello", hello, "--set", "message=second"},
		{"history", "hello"},
		{"history", "hello", "-o", "json"},
		{"history", "hello", "--max", "1", "-o", "yaml"},
		{"get", "values", "hello"},
		{"get", "values", "hello", "--revision", "1", "-o", "json"},
		{"get", "values", "hello", "--all"},
		{"get", "manifest", "hello"},
		{"get", "notes", "hello"},
		{"get", "hooks", "hello"},
		{"get", "metadata", "hello"},
		{"get", "metadata", "hello", "-o", "json"},
		{"get", "all", "hello"},
		{"upgrade", "hello", hello, "--reuse-values", "--set", "service.port=8080"},
		{"get", "values", "hello"},
		{"upgrade", "hello", hello},
		{"get", "values", "hello"},
		{"upgrade", "hello", hello, "--reset-values"},
		{"get", "values", "hello"},
		{"rollback", "hello", "1"},
		{"history", "hello"},
		{"rollback", "hello"},
		{"rollback", "hello", "42"},
		{"list", "--superseded"},
		{"list", "-a", "--filter", "^hel"},
		{"list", "-l", "team=web"},
		{"install", "web", webstack, "--namespace", "other", "--create-namespace", "--description", "first web"},
		{"list", "-A"},
		{"list", "-n", "other", "--date", "-r"},
		{"upgrade", "--install", "web2", webstack},
		{"upgrade", "missing", hello},
		{"install", "Bad_Name", hello},
		{"install", "toolong-0123456789012345678901234567890123456789012345", hello},
		{"install", "badvalues", schema, "--set", "replicas=many"},
		{"install", "--generate-name", hello, "--dry-run"},
		{"uninstall", "hello", "--keep-history"},
		{"list", "--uninstalled"},
		{"history", "hello"},
		{"uninstall", "hello", "--keep-history"},
		{"uninstall", "hello"},
		{"uninstall", "hello"},
		{"uninstall", "hello", "--ignore-not-found"},
		{"list", "-a"},
		{"history", "hello"},
		{"status", "nothere"},
	}
	for _, args := range steps {
		p := runPkg(t, psb, "", args...)
		h := runHelm(t, hsb, t.TempDir(), "", args...)
		name := strings.Join(args, " ")
		if args[0] == "install" && len(args) > 2 && args[1] == "--generate-name" {
			// The generated names differ by the second they were made in.
			// The generated names differ by the second they were made in,
			// and so does the checksum of the page that names the release.
			re := regexp.MustCompile(`hello-\d+|checksum/config: [0-9a-f]+`)
			p.stdout, h.stdout = re.ReplaceAllString(p.stdout, "X"), re.ReplaceAllString(h.stdout, "X")
		}
		if p.code != h.code {
			t.Errorf("%s: exit status helm %d, pkg %d\nhelm: %s\npkg: %s", name, h.code, p.code, h.stderr, p.stderr)
			continue
		}
		if hs, ps := normalizeRelease(h.stdout), normalizeRelease(p.stdout); hs != ps {
			t.Errorf("%s: standard output differs from helm's:\n%s", name, diffText(hs, ps))
		}
		if h.code != 0 {
			if hl, pl := firstErrorLine(h.stderr), firstErrorLine(p.stderr); helmToPkg(hl) != pl {
				t.Errorf("%s: Error: line differs:\nhelm: %s\npkg:  %s", name, hl, pl)
			}
		}
	}
}

// TestStatusShowResources lists each resource of a release with its
// readiness: with no controllers, the Deployment is not ready and says why.
func TestStatusShowResources(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an API server")
	}
	_, sb := apiSandbox(t)
	if out := runPkg(t, sb, "", "install", "hello", filepath.Join(chartsDir(t), "hello")); out.code != 0 {
		t.Fatal(out.stderr)
	}
	out := runPkg(t, sb, "", "status", "hello", "--show-resources")
	if out.code != 0 {
		t.Fatal(out.stderr)
	}
	got := normalizeRelease(out.stdout)
	for _, want := range []string{
		"RESOURCES:",
		"KIND|NAME|NAMESPACE|READY|STATUS",
		"ConfigMap|hello|default|yes",
		"Service|hello|default|yes",
		"Deployment.apps|hello|default|no|",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("status --show-resources lacks %q:\n%s", want, out.stdout)
		}
	}
}

// TestDiff: diff upgrade shows per resource what an upgrade would change
// and changes nothing; diff rollback and history --diff compare revisions.
func TestDiff(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an API server")
	}
	_, sb := apiSandbox(t)
	hello := filepath.Join(chartsDir(t), "hello")
	if out := runPkg(t, sb, "", "install", "hello", hello); out.code != 0 {
		t.Fatal(out.stderr)
	}
	out := runPkg(t, sb, "", "diff", "upgrade", "hello", hello, "--set", "message=Bonjour", "--detailed-exitcode")
	if out.code != 2 {
		t.Fatalf("diff upgrade: exit %d, want 2 (differences)\n%s%s", out.code, out.stdout, out.stderr)
	}
	for _, want := range []string{
		"ConfigMap/hello changed:",
		"--- ConfigMap/hello (revision 1)",
		"+++ ConfigMap/hello (upgrade)",
		"-        <h1>Hello from pkg!</h1>",
		"+        <h1>Bonjour</h1>",
		"Deployment/hello changed:",
	} {
		if !strings.Contains(out.stdout, want) {
			t.Errorf("diff upgrade lacks %q:\n%s", want, out.stdout)
		}
	}
	if strings.Contains(out.stdout, "Service/hello") {
		t.Errorf("diff upgrade shows the unchanged Service:\n%s", out.stdout)
	}
	if strings.Contains(out.stdout, "\x1b[") {
		t.Error("diff is coloured on a pipe")
	}
	if h := runPkg(t, sb, "", "history", "hello", "-o", "json"); strings.Count(h.stdout, `"revision"`) != 1 {
		t.Errorf("diff upgrade changed the history: %s", h.stdout)
	}
	plain := writeChart(t, t.TempDir(), "plain", map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n"})
	if out := runPkg(t, sb, "", "install", "plain", plain); out.code != 0 {
		t.Fatal(out.stderr)
	}
	if out := runPkg(t, sb, "", "diff", "upgrade", "plain", plain, "--detailed-exitcode"); out.code != 0 || out.stdout != "No changes.\n" {
		t.Errorf("diff of an identical upgrade: %d\n%s", out.code, out.stdout)
	}
	if out := runPkg(t, sb, "", "upgrade", "hello", hello, "--set", "message=Bonjour"); out.code != 0 {
		t.Fatal(out.stderr)
	}
	out = runPkg(t, sb, "", "diff", "rollback", "hello")
	if !strings.Contains(out.stdout, "+++ ConfigMap/hello (revision 1)") || !strings.Contains(out.stdout, "+        <h1>Hello from pkg!</h1>") {
		t.Errorf("diff rollback:\n%s%s", out.stdout, out.stderr)
	}
	for _, diff := range [][]string{{"--diff", "1,2"}, {"--diff", "1", "2"}} {
		out = runPkg(t, sb, "", append([]string{"history", "hello"}, diff...)...)
		if !strings.Contains(out.stdout, "--- ConfigMap/hello (revision 1)") || !strings.Contains(out.stdout, "+        <h1>Bonjour</h1>") {
			t.Errorf("history %v:\n%s%s", diff, out.stdout, out.stderr)
		}
	}
	out = runPkg(t, sb, "", "history", "hello", "--diff", "1,9")
	if want := `Error: release "hello" has no revision 9: "pkg history hello" lists the revisions kept (--history-max prunes the oldest)`; out.code != 1 || firstErrorLine(out.stderr) != want {
		t.Errorf("history --diff with a revision that is not kept: %d %q; want %q", out.code, out.stderr, want)
	}
}

// TestHelmAndPkgShareReleases: on one cluster, helm upgrades and rolls
// back a release pkg installed, and pkg upgrades, rolls back and
// uninstalls one helm installed, with Secrets and with ConfigMaps storage.
func TestHelmAndPkgShareReleases(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the reference helm binary")
	}
	helmRef(t)
	hello := filepath.Join(chartsDir(t), "hello")
	for _, driver := range []string{"secret", "configmap"} {
		t.Run(driver, func(t *testing.T) {
			_, sb := apiSandbox(t)
			sb["HELM_DRIVER"] = driver
			pkg := func(args ...string) outcome {
				t.Helper()
				o := runPkg(t, sb, "", args...)
				if o.code != 0 {
					t.Fatalf("pkg %v: %s", args, o.stderr)
				}
				return o
			}
			helm := func(args ...string) outcome {
				t.Helper()
				o := runHelm(t, sb, t.TempDir(), "", args...)
				if o.code != 0 {
					t.Fatalf("helm %v: %s", args, o.stderr)
				}
				return o
			}
			pkg("install", "a", hello, "--set", "message=one")
			helm("upgrade", "a", hello, "--reuse-values", "--set", "replicaCount=2")
			pkg("upgrade", "a", hello, "--reuse-values", "--set", "message=three")
			helm("rollback", "a", "1")
			if got := pkg("get", "values", "a", "-o", "json").stdout; got != "{\"message\":\"one\"}\n" {
				t.Errorf("values after helm's rollback: %s", got)
			}
			hist := helm("history", "a", "-o", "json").stdout
			for _, want := range []string{`"revision":4`, `"description":"Rollback to 1"`, `"status":"deployed"`} {
				if !strings.Contains(hist, want) {
					t.Errorf("helm history lacks %s:\n%s", want, hist)
				}
			}

			helm("install", "b", hello)
			pkg("upgrade", "b", hello, "--set", "message=two")
			pkg("rollback", "b")
			if got := helm("status", "b", "-o", "json").stdout; !strings.Contains(got, `"version":3`) || !strings.Contains(got, `"description":"Rollback to 1"`) {
				t.Errorf("helm status after pkg's rollback:\n%s", got)
			}
			pkg("uninstall", "b")
			if got := helm("list", "-a", "-q").stdout; got != "a\n" {
				t.Errorf("helm list after pkg uninstall: %q", got)
			}
		})
	}
}

// TestInstallFromRepository: install and upgrade take REPO/CHART (with
// --version) and --repo URL as helm does, against two API servers.
func TestInstallFromRepository(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the reference helm binary against two API servers")
	}
	helmRef(t)
	charts := newChartRepo(t, "", "")
	ours, theirs := testcluster.Start(t), testcluster.Start(t)
	psb, hsb := newSandbox(t), newSandbox(t)
	psb["KUBECONFIG"], hsb["KUBECONFIG"] = ours.Kubeconfig, theirs.Kubeconfig
	for _, sb := range []sandbox{psb, hsb} {
		if o := runHelm(t, sb, t.TempDir(), "", "repo", "add", "charts", charts.URL); o.code != 0 {
			t.Fatal(o.stderr)
		}
	}
	for _, args := range [][]string{
		{"install", "web", "charts/hello", "--version", "0.1.0"},
		{"upgrade", "web", "charts/hello"},
		{"history", "web"},
		{"install", "web2", "hello", "--repo", charts.URL, "--version", "0.2.0"},
		{"list"},
		{"install", "web3", "charts/nope"},
	} {
		p := runPkg(t, psb, "", args...)
		h := runHelm(t, hsb, t.TempDir(), "", args...)
		name := strings.Join(args, " ")
		if p.code != h.code {
			t.Errorf("%s: exit helm %d, pkg %d\nhelm: %s\npkg: %s", name, h.code, p.code, h.stderr, p.stderr)
			continue
		}
		if hs, ps := normalizeRelease(h.stdout), normalizeRelease(p.stdout); hs != ps {
			t.Errorf("%s: output differs:\n%s", name, diffText(hs, ps))
		}
		if h.code != 0 {
			// pkg's message adds the repository's name and URL to
			// Helm's (issue 8: name the repository, URL and chart).
			hl, pl := firstErrorLine(h.stderr), firstErrorLine(p.stderr)
			core := strings.ReplaceAll(strings.TrimPrefix(hl, "Error: INSTALLATION FAILED: "), "'helm ", "'pkg ")
			if !strings.Contains(pl, core) || !strings.Contains(pl, charts.URL) {
				t.Errorf("%s: Error: line lacks helm's message or the repository URL:\nhelm: %s\npkg:  %s", name, hl, pl)
			}
		}
	}
}

// TestInstallShowsServerWarnings: the API server's warning about a field
// the kind does not have reaches the user once, naming the resource and
// the template, where Helm shows client-go's log line.
func TestInstallShowsServerWarnings(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an API server")
	}
	_, sb := apiSandbox(t)
	chart := filepath.Join(t.TempDir(), "typo")
	if err := os.MkdirAll(filepath.Join(chart, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: typo\nversion: 1.0.0\n",
		"templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: typo
data: {a: b}
`,
		"templates/deploy.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: typo
spec:
  replica: 3
  selector:
    matchLabels: {app: typo}
  template:
    metadata:
      labels: {app: typo}
    spec:
      containers:
        - name: web
          image: busybox:1.36
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(chart, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := runPkg(t, sb, "", "install", "typo", chart)
	if out.code != 0 {
		t.Fatal(out.stderr)
	}
	want := `Warning: Deployment "typo" in namespace "default" (typo/templates/deploy.yaml): unknown field "spec.replica"` + "\n"
	if strings.Count(out.stderr, want) != 1 || strings.Count(out.stderr, "Warning:") != 1 {
		t.Errorf("install's standard error, want the warning once:\n%s\ngot:\n%s", want, out.stderr)
	}
}
