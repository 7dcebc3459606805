package render_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pkg.dev/pkg/internal/helmtest"
)

// helmTestCharts lists the charts of Helm's own test data (from its module,
// which the tests depend on) that `helm template` can be pointed at:
// directories with a Chart.yaml and chart archives.
func helmTestCharts(t *testing.T) []string {
	t.Helper()
	mod, err := helmtest.ModuleDir()
	if err != nil {
		t.Skipf("helm's module is not available: %v", err)
	}
	var charts []string
	for _, dir := range []string{"cmd/helm/testdata/testcharts", "pkg/chartutil/testdata", "pkg/action/testdata/charts", "pkg/chart/loader/testdata"} {
		entries, err := os.ReadDir(filepath.Join(mod, dir))
		if err != nil {
			continue
		}
		for _, e := range entries {
			p := filepath.Join(mod, dir, e.Name())
			switch {
			case e.IsDir():
				if _, err := os.Stat(filepath.Join(p, "Chart.yaml")); err == nil {
					charts = append(charts, p)
				}
			case strings.HasSuffix(e.Name(), ".tgz"):
				charts = append(charts, p)
			}
		}
	}
	if len(charts) < 20 {
		t.Fatalf("found only %d of Helm's test charts in %s", len(charts), mod)
	}
	return charts
}

// TestParityHelmTestCharts renders every chart of Helm's own test data with
// Helm and with pkg, as `template` with default options: the same bytes
// where Helm succeeds, a failure naming the same file and line where it
// fails.
func TestParityHelmTestCharts(t *testing.T) {
	quietHelmLog(t)
	mod := ""
	for _, dir := range helmTestCharts(t) {
		if mod == "" {
			mod = dir[:strings.Index(dir, "helm.sh/helm/v3@")]
		}
		name := strings.TrimPrefix(dir, mod)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tc := parityCase{name: name, wantErr: true}
			want, helmErr := helmTemplate(t, dir, tc)
			got, ourErr := ourTemplate(t, dir, tc)
			if helmErr != nil || ourErr != nil {
				compareErrors(t, tc, helmErr, ourErr)
				return
			}
			if got == want {
				return
			}
			// Some of these charts draw random values; only those lines
			// may differ, and only in shape-preserving ways.
			if err := compareRandomAware(want, got); err != nil {
				t.Fatalf("output differs from helm template: %v", err)
			}
			again, err := helmTemplate(t, dir, tc)
			if err != nil {
				t.Fatalf("second helm render: %v", err)
			}
			if err := checkStableLines(want, again, got); err != nil {
				t.Fatalf("output differs on a line Helm renders the same every time: %v", err)
			}
		})
	}
}
