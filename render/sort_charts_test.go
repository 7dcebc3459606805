package render

import (
	"os"
	"path/filepath"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
)

// TestSortManifestsMatchesHelmOnTestdataCharts renders every chart under
// testdata/charts with Helm's own engine and sorts the output both ways.
func TestSortManifestsMatchesHelmOnTestdataCharts(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob(filepath.Join("..", "testdata", "charts", "*", "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rendered := 0
	for _, chartFile := range dirs {
		dir := filepath.Dir(chartFile)
		files, ok := helmRender(t, dir)
		if !ok {
			continue
		}
		rendered++
		t.Run(filepath.Base(dir), func(t *testing.T) {
			for _, order := range []KindSortOrder{InstallOrder(), UninstallOrder()} {
				hooks, manifests, err := SortManifests(files, order)
				hHooks, hManifests, hErr := helmSortManifests(files, order)
				if d := diffSortResults(hooks, manifests, err, hHooks, hManifests, hErr); d != "" {
					t.Fatalf("differs from Helm: %s", d)
				}
			}
		})
	}
	if rendered == 0 {
		t.Fatalf("rendered none of %d charts", len(dirs))
	}
}

// helmRender renders the chart in dir with Helm's engine and its default
// values, as `helm template` would; false if Helm cannot.
func helmRender(t *testing.T, dir string) (map[string]string, bool) {
	t.Helper()
	if _, err := os.Stat(dir); err != nil {
		return nil, false
	}
	ch, err := loader.Load(dir)
	if err != nil {
		t.Logf("%s: Helm cannot load it: %v", dir, err)
		return nil, false
	}
	if err := chartutil.ProcessDependenciesWithMerge(ch, map[string]any{}); err != nil {
		t.Logf("%s: Helm cannot resolve its dependencies: %v", dir, err)
		return nil, false
	}
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = chartutil.KubeVersion{Version: "v1.37.0", Major: "1", Minor: "37"}
	vals, err := chartutil.ToRenderValues(ch, map[string]any{}, chartutil.ReleaseOptions{
		Name: "release-name", Namespace: "default", Revision: 1, IsInstall: true,
	}, caps)
	if err != nil {
		t.Logf("%s: Helm cannot take its values: %v", dir, err)
		return nil, false
	}
	files, err := engine.Render(ch, vals)
	if err != nil {
		t.Logf("%s: Helm cannot render it: %v", dir, err)
		return nil, false
	}
	return files, true
}
