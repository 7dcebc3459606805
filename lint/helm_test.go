package lint

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	helmlint "helm.sh/helm/v3/pkg/lint"

	"pkg.dev/pkg/render"

	"pkg.dev/pkg/internal/helmtest"
)

// helmModuleDir returns where the Go module cache holds Helm's source,
// whose test charts the differential tests lint.
var helmModuleDir = helmtest.ModuleDir

// chartDirs lists the sub-directories of dir.
func chartDirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

// allChartDirs returns Helm's lint and command test charts and ours.
func allChartDirs(t *testing.T) []string {
	t.Helper()
	mod, err := helmModuleDir()
	if err != nil || mod == "" {
		t.Fatalf("locating helm.sh/helm/v3: %v", err)
	}
	var dirs []string
	dirs = append(dirs, chartDirs(t, filepath.Join(mod, "pkg", "lint", "rules", "testdata"))...)
	dirs = append(dirs, chartDirs(t, filepath.Join(mod, "cmd", "helm", "testdata", "testcharts"))...)
	dirs = append(dirs, chartDirs(t, "testdata")...)
	return dirs
}

// helmMessages lints dir with Helm's library and returns its findings as
// `helm lint` prints them. The Kubernetes version is always given: as a
// library Helm would otherwise assume v1.20.
func helmMessages(t *testing.T, dir string, vals map[string]any, ns, kube string, skipSchema bool) []string {
	t.Helper()
	kv, err := chartutil.ParseKubeVersion(kube)
	if err != nil {
		t.Fatal(err)
	}
	l := helmlint.AllWithKubeVersionAndSchemaValidation(dir, vals, ns, kv, skipSchema)
	var out []string
	for _, m := range l.Messages {
		out = append(out, m.Error())
	}
	return out
}

func ourMessages(t *testing.T, dir string, vals map[string]any, ns, kube string, skipSchema bool) []string {
	t.Helper()
	opts := Options{Values: vals, Namespace: ns, SkipSchemaValidation: skipSchema}
	if kube != "v1.37.0" {
		kv, err := render.ParseKubeVersion(kube)
		if err != nil {
			t.Fatal(err)
		}
		opts.KubeVersion = kv
	}
	res := Dir(context.Background(), dir, opts)
	var out []string
	for _, m := range res.Messages {
		out = append(out, m.Error())
	}
	return out
}

func compareMessages(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") == strings.Join(want, "\n") {
		return
	}
	t.Errorf("findings differ from Helm's\n--- ours (%d)\n%s\n--- helm (%d)\n%s", len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
}

// TestDirMatchesHelm lints every test chart with Helm's linter and ours,
// in-process, and requires the same findings in the same order.
func TestDirMatchesHelm(t *testing.T) {
	for _, dir := range allChartDirs(t) {
		t.Run(filepath.Base(filepath.Dir(dir))+"/"+filepath.Base(dir), func(t *testing.T) {
			want := helmMessages(t, dir, map[string]any{}, "default", "v1.37.0", false)
			got := ourMessages(t, dir, map[string]any{}, "default", "v1.37.0", false)
			compareMessages(t, got, want)
		})
	}
}

// TestDirOptionsMatchHelm varies overrides, namespace, Kubernetes version
// and schema validation.
func TestDirOptionsMatchHelm(t *testing.T) {
	tests := []struct {
		name, chart, ns, kube string
		vals                  func() map[string]any
		skipSchema            bool
	}{
		{name: "schema fixed by overrides", chart: "values-schema", vals: func() map[string]any {
			return map[string]any{"mode": "a", "db": map[string]any{"user": "u"}}
		}},
		{name: "schema broken by overrides", chart: "good", vals: func() map[string]any {
			return map[string]any{"replicaCount": 0.0, "image": map[string]any{"tag": nil}}
		}},
		{name: "schema skipped while rendering", chart: "good", skipSchema: true, vals: func() map[string]any {
			return map[string]any{"replicaCount": 0.0}
		}},
		{name: "null override of a required value", chart: "good", vals: func() map[string]any {
			return map[string]any{"image": map[string]any{"repository": nil}}
		}},
		{name: "null override of a table", chart: "values-schema", vals: func() map[string]any {
			return map[string]any{"db": nil}
		}},
		{name: "namespace in names", chart: "names", ns: "Bad_NS"},
		{name: "older kubernetes", chart: "deprecated", kube: "v1.21.0"},
		{name: "much older kubernetes", chart: "deprecated", kube: "1.8"},
		{name: "newer kubernetes", chart: "deprecated", kube: "v1.40.3"},
		{name: "kube version constraint ignored", chart: "kube-constraint", kube: "v1.30.0"},
		{name: "overrides reach subcharts", chart: "parent", vals: func() map[string]any {
			return map[string]any{"image": map[string]any{"tag": "x_y"}, "child": map[string]any{"enabled": false}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns, kube := tt.ns, tt.kube
			if ns == "" {
				ns = "default"
			}
			if kube == "" {
				kube = "v1.37.0"
			}
			vals := tt.vals
			if vals == nil {
				vals = func() map[string]any { return map[string]any{} }
			}
			dir := filepath.Join("testdata", tt.chart)
			want := helmMessages(t, dir, vals(), ns, kube, tt.skipSchema)
			got := ourMessages(t, dir, vals(), ns, kube, tt.skipSchema)
			compareMessages(t, got, want)
		})
	}
}

// TestPathMatchesHelm lints archives and non-charts through Path and
// Helm's lint action, comparing findings and failures.
func TestPathMatchesHelm(t *testing.T) {
	mod, err := helmModuleDir()
	if err != nil || mod == "" {
		t.Fatalf("locating helm.sh/helm/v3: %v", err)
	}
	charts := filepath.Join(mod, "cmd", "helm", "testdata", "testcharts")
	entries, err := os.ReadDir(charts)
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"testdata/no-such-chart", "testdata/missing.tgz", "testdata", filepath.Join(charts, "upgradetest")}
	for _, e := range entries {
		if IsArchive(e.Name()) {
			paths = append(paths, filepath.Join(charts, e.Name()))
		}
	}
	kv, err := chartutil.ParseKubeVersion("v1.37.0")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		for _, strict := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s strict=%v", filepath.Base(p), strict), func(t *testing.T) {
				compareLintWithHelm(t, p, kv, strict)
			})
		}
	}
}

// TestRepoChartsMatchHelm lints the repository's shared test charts
// (testdata/charts at the module root). A chart whose findings change from
// one Helm run to the next (random names, say) is skipped.
func TestRepoChartsMatchHelm(t *testing.T) {
	if testing.Short() {
		t.Skip("renders every shared chart twice with Helm; skipped under -short")
	}
	root := filepath.Join("..", "testdata", "charts")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("no shared test charts: %v", err)
	}
	for _, dir := range chartDirs(t, root) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			want := helmMessages(t, dir, map[string]any{}, "default", "v1.37.0", false)
			again := helmMessages(t, dir, map[string]any{}, "default", "v1.37.0", false)
			if strings.Join(want, "\n") != strings.Join(again, "\n") {
				t.Skip("Helm's findings vary from run to run")
			}
			got := ourMessages(t, dir, map[string]any{}, "default", "v1.37.0", false)
			compareMessages(t, got, want)
		})
	}
}

// compareLintWithHelm lints the chart at p with Helm's lint action and with
// Path (Kubernetes v1.37.0 on both sides), in namespace "default" with
// no values, and requires the same
// messages and the same failures (with --strict's rule when strict).
func compareLintWithHelm(t *testing.T, p string, kv *chartutil.KubeVersion, strict bool) {
	t.Helper()
	client := action.NewLint()
	client.Strict = strict
	client.Namespace = "default"
	client.KubeVersion = kv
	hr := client.Run([]string{p}, map[string]any{})
	var want []string
	for _, m := range hr.Messages {
		want = append(want, norm(m.Error()))
	}
	for _, e := range hr.Errors {
		want = append(want, "failure: "+norm(e.Error()))
	}
	var got []string
	res, err := Path(context.Background(), p, Options{Values: map[string]any{}, Namespace: "default"})
	if err != nil {
		got = append(got, "failure: "+norm(err.Error()))
	} else {
		for _, m := range res.Messages {
			got = append(got, norm(m.Error()))
		}
		for _, m := range res.Failures(strict) {
			got = append(got, "failure: "+norm(m.Err.Error()))
		}
	}
	compareMessages(t, got, want)
}

// lintTempDir matches the folders Helm unpacks archives to while linting;
// their random names are replaced before messages are compared.
var lintTempDir = regexp.MustCompile(regexp.QuoteMeta(filepath.Join(os.TempDir(), "helm-lint")) + `\d+`)

// norm replaces lintTempDir matches with "TMP".
func norm(s string) string { return lintTempDir.ReplaceAllString(s, "TMP") }
