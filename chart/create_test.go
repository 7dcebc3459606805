package chart

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	helmchart "helm.sh/helm/v3/pkg/chart"
	helmloader "helm.sh/helm/v3/pkg/chart/loader"
	helmutil "helm.sh/helm/v3/pkg/chartutil"
	helmengine "helm.sh/helm/v3/pkg/engine"

	"pkg.dev/pkg/internal/helmtest"
)

func treeOf(t *testing.T, root string) map[string]string { return helmtest.Tree(t, root) }

func TestCreateMatchesHelm(t *testing.T) {
	for _, name := range []string{"mychart", "a", "My.Chart_1-x", strings.Repeat("n", MaxChartNameLength)} {
		t.Run(name[:min(len(name), 20)], func(t *testing.T) {
			t.Parallel()
			ourDir, helmOut := t.TempDir(), t.TempDir()
			ours, err := Create(name, ourDir)
			if err != nil {
				t.Fatal(err)
			}
			theirs, err := helmutil.Create(name, helmOut)
			if err != nil {
				t.Fatal(err)
			}
			if ours != filepath.Join(ourDir, name) || filepath.Base(theirs) != name {
				t.Errorf("created %s, Helm %s", ours, theirs)
			}
			a, b := treeOf(t, ours), treeOf(t, theirs)
			for p := range b {
				if _, ok := a[p]; !ok {
					t.Errorf("missing %s", p)
				}
			}
			for p, body := range a {
				if want, ok := b[p]; !ok {
					t.Errorf("extra %s", p)
				} else if body != want {
					t.Errorf("%s differs from Helm's scaffold", p)
				}
			}
		})
	}
}

// renderCases are values under which the scaffolds are rendered, so that
// every branch of every template runs.
var renderCases = map[string]map[string]any{
	"defaults": nil,
	"ingress": {"ingress": map[string]any{
		"enabled": true, "className": "nginx",
		"annotations": map[string]any{"a": "b"},
		"tls":         []any{map[string]any{"secretName": "tls", "hosts": []any{"h.example"}}},
	}},
	"ingress without tls": {"ingress": map[string]any{"enabled": true}},
	"httpRoute": {"httpRoute": map[string]any{
		"enabled": true, "annotations": map[string]any{"x": "y"},
		"rules": []any{map[string]any{
			"matches": []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": "/v"}}},
			"filters": []any{map[string]any{"type": "RequestHeaderModifier"}},
		}},
	}},
	"httpRoute without hostnames": {"httpRoute": map[string]any{
		"enabled": true, "hostnames": nil,
		"parentRefs": []any{map[string]any{"name": "gw", "namespace": "infra"}},
	}},
	"autoscaling":        {"autoscaling": map[string]any{"enabled": true, "targetMemoryUtilizationPercentage": 70}},
	"node port":          {"service": map[string]any{"type": "NodePort"}},
	"balancer":           {"service": map[string]any{"type": "LoadBalancer", "port": 8080}},
	"no service account": {"serviceAccount": map[string]any{"create": false, "name": "sa"}},
	"pod settings": {
		"podAnnotations": map[string]any{"p": "1"}, "podLabels": map[string]any{"l": "2"},
		"imagePullSecrets":   []any{map[string]any{"name": "reg"}},
		"podSecurityContext": map[string]any{"fsGroup": 2000},
		"securityContext":    map[string]any{"runAsUser": 1000},
		"resources":          map[string]any{"limits": map[string]any{"cpu": "100m"}},
		"volumes":            []any{map[string]any{"name": "v", "emptyDir": map[string]any{}}},
		"volumeMounts":       []any{map[string]any{"name": "v", "mountPath": "/v"}},
		"nodeSelector":       map[string]any{"disk": "ssd"},
		"tolerations":        []any{map[string]any{"key": "k", "operator": "Exists"}},
		"affinity":           map[string]any{"nodeAffinity": map[string]any{}},
		"image":              map[string]any{"tag": "1.2.3"},
	},
	"name overrides": {"nameOverride": "short", "fullnameOverride": "a-very-long-full-name-override-that-goes-on-and-on-beyond-sixty-three-characters-"},
	"name override":  {"nameOverride": "release"},
}

// TestCreateRendersLikeHelm renders our scaffold and Helm's with Helm's
// engine under many values and compares every output.
func TestCreateRendersLikeHelm(t *testing.T) {
	const name = "web"
	ourDir, err := Create(name, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	helmOut, err := helmutil.Create(name, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ours, err := helmloader.Load(ourDir)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := helmloader.Load(helmOut)
	if err != nil {
		t.Fatal(err)
	}
	// Our own loader sees the same chart too.
	if own, err := Load(ourDir); err != nil {
		t.Fatal(err)
	} else {
		compareWithHelm(t, "scaffold", own, theirs)
	}

	for caseName, vals := range renderCases {
		for _, release := range []string{"rel", "my-web-release"} {
			t.Run(caseName+"/"+release, func(t *testing.T) {
				a := renderWithHelm(t, ours, vals, release)
				b := renderWithHelm(t, theirs, vals, release)
				if !reflect.DeepEqual(a, b) {
					for k := range b {
						if a[k] != b[k] {
							t.Errorf("%s:\nours:\n%s\nhelm:\n%s", k, a[k], b[k])
						}
					}
				}
				if len(b) != 8 {
					t.Errorf("only %d outputs", len(b))
				}
			})
		}
	}
}

func renderWithHelm(t *testing.T, c *helmchart.Chart, vals map[string]any, release string) map[string]string {
	t.Helper()
	opts := helmutil.ReleaseOptions{Name: release, Namespace: "ns", Revision: 1, IsInstall: true}
	rv, err := helmutil.ToRenderValues(c, vals, opts, helmutil.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	out, err := helmengine.Render(c, rv)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCreateErrors(t *testing.T) {
	base := t.TempDir()
	writeTree(t, base, map[string]string{"taken": "a file", "plain": "a file"})
	tests := []struct {
		name, chart, dir string
		want             string
		helmRefuses      bool
	}{
		{name: "empty", chart: "", dir: base, want: "between 1 and 250", helmRefuses: true},
		{name: "too long", chart: strings.Repeat("x", 251), dir: base, want: "between 1 and 250", helmRefuses: true},
		{name: "slash", chart: "a/b", dir: base, want: "regular expression", helmRefuses: true},
		{name: "parent", chart: "../x", dir: base, want: "regular expression", helmRefuses: true},
		{name: "backslash", chart: `a\b`, dir: base, want: "regular expression", helmRefuses: true},
		{name: "space", chart: "a b", dir: base, want: "regular expression", helmRefuses: true},
		{name: "dot", chart: ".", dir: base, want: "not allowed"},
		{name: "dot dot", chart: "..", dir: base, want: "not allowed"},
		{name: "existing file", chart: "taken", dir: base, want: "already exists and is not a directory", helmRefuses: true},
		{name: "missing dir", chart: "x", dir: filepath.Join(base, "nope"), want: "no such file", helmRefuses: true},
		{name: "dir is a file", chart: "x", dir: filepath.Join(base, "plain"), want: "no such directory", helmRefuses: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Create(tt.chart, tt.dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Op != OpCreate {
				t.Errorf("error %v is not a creating *Error", err)
			}
			if tt.helmRefuses {
				if _, herr := helmutil.Create(tt.chart, tt.dir); herr == nil {
					t.Error("Helm accepts it")
				}
			}
		})
	}
}

func TestCreateOverwrites(t *testing.T) {
	dir := t.TempDir()
	p, err := Create("demo", dir)
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, p, map[string]string{"values.yaml": "changed", "extra.txt": "kept"})
	var warned []string
	if _, err := CreateWithOptions("demo", dir, CreateOptions{OnOverwrite: func(p string) { warned = append(warned, p) }}); err != nil {
		t.Fatal(err)
	}
	if len(warned) != 12 || warned[1] != filepath.Join(p, "values.yaml") {
		t.Errorf("warned about %v", warned)
	}
	if got := string(readFile(t, filepath.Join(p, "values.yaml"))); got == "changed" {
		t.Error("values.yaml not overwritten")
	}
	if got := string(readFile(t, filepath.Join(p, "extra.txt"))); got != "kept" {
		t.Error("extra file touched")
	}
}
