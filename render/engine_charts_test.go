package render

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	"sigs.k8s.io/yaml"
)

// engRandomChart reports charts that render differently on every run,
// under Helm too (randAlphaNum, uuidv4, htpasswd, genCA...); their lines
// that differ are compared by shape.
func engRandomChart(name string) bool {
	for _, prefix := range []string{"pkg/webstack", "pkg/secrets-lookup", "pkg/webhook-certs"} {
		if name == prefix || strings.HasPrefix(name, prefix+"+") {
			return true
		}
	}
	return false
}

// engChartCase is one chart rendered by both engines.
type engChartCase struct {
	name   string
	path   string
	values string // optional values file
}

// engHelmTestCharts lists the charts in Helm's module test data: every
// directory with a Chart.yaml that is not itself a subchart, and every
// chart archive.
func engHelmTestCharts(t *testing.T) []engChartCase {
	t.Helper()
	root := engHelmPath(t, ".")
	var cases []engChartCase
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if !strings.Contains(rel, "testdata") {
			return nil
		}
		if slices.Contains(strings.Split(rel, "/"), "charts") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
			if _, err := os.Stat(filepath.Join(p, "Chart.yaml")); err == nil {
				cases = append(cases, engChartCase{name: "helm/" + rel, path: p})
			}
		case strings.HasSuffix(p, ".tgz") || strings.HasSuffix(p, ".tar.gz"):
			cases = append(cases, engChartCase{name: "helm/" + rel, path: p})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// engProjectCharts lists this repository's test charts, with the values
// files made for them.
func engProjectCharts(t *testing.T) []engChartCase {
	t.Helper()
	dirs, err := os.ReadDir("../testdata/charts")
	if err != nil {
		t.Fatal(err)
	}
	var cases []engChartCase
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		p := filepath.Join("../testdata/charts", d.Name())
		cases = append(cases, engChartCase{name: "pkg/" + d.Name(), path: p})
		vfiles, _ := filepath.Glob(filepath.Join("../testdata/values", d.Name()+"-*.yaml"))
		for _, vf := range vfiles {
			cases = append(cases, engChartCase{name: "pkg/" + d.Name() + "+" + filepath.Base(vf), path: p, values: vf})
		}
	}
	return cases
}

// TestRenderTestChartsLikeHelm renders every test chart of Helm's module
// and of this repository with both engines, in each mode, and requires the
// same output or the same error.
func TestRenderTestChartsLikeHelm(t *testing.T) {
	t.Parallel()
	cases := append(engHelmTestCharts(t), engProjectCharts(t)...)
	if len(cases) < 50 {
		t.Fatalf("found only %d test charts", len(cases))
	}
	modes := []engOptions{{}, {strict: true}, {lint: true}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			overrides := map[string]any{}
			if tc.values != "" {
				data, err := os.ReadFile(tc.values)
				if err != nil {
					t.Fatal(err)
				}
				if err := yaml.Unmarshal(data, &overrides); err != nil {
					t.Fatal(err)
				}
			}
			p, err := engLoadPair(t, tc.path, overrides)
			if err != nil {
				t.Skipf("not renderable by helm: %v", err)
			}
			for _, o := range modes {
				t.Run(o.String(), func(t *testing.T) {
					want, wantErr := p.renderHelm(o)
					got, gotErr := p.renderOurs(o.engine())
					engCompare(t, want, wantErr, got, gotErr, engRandomChart(tc.name))
				})
			}
		})
	}
}

func (o engOptions) String() string {
	var parts []string
	if o.strict {
		parts = append(parts, "strict")
	}
	if o.lint {
		parts = append(parts, "lint")
	}
	if o.dns {
		parts = append(parts, "dns")
	}
	if len(parts) == 0 {
		return "default"
	}
	return strings.Join(parts, "+")
}

func (o engOptions) engine() Engine {
	return Engine{Strict: o.strict, LintMode: o.lint, EnableDNS: o.dns}
}

// engCheckKubeVersion is the check Helm's actions make before rendering,
// which RenderValues makes on our side.
func engCheckKubeVersion(p *engPair) error {
	kv := p.helm.Metadata.KubeVersion
	caps := engHelmCaps()
	if kv != "" && !chartutil.IsCompatibleRange(kv, caps.KubeVersion.String()) {
		return fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", kv, caps.KubeVersion.String())
	}
	return nil
}
