package render

// Benchmarks of the whole `template` pipeline against Helm v3.22.0 used
// in-process: dependencies, values, schema, engine, NOTES and sorting,
// as `helm template` runs them, with chart loading left out on both sides.
//
//	go test -run '^$' -bench 'Template' -benchmem ./render/
//
// docs/benchmarks.md records the results and how to read them.

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	helmchart "helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	helmengine "helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"

	"pkg.dev/pkg/chart"
)

// pipeChart is one chart of the pipeline benchmarks, loaded once by each
// side's loader.
type pipeChart struct {
	name string
	helm *helmchart.Chart
	ours *chart.Chart
	// random charts render differently on every run (under Helm too), so
	// their outputs are not compared before timing.
	random bool
}

// pipeHelmCharts are the charts of Helm's own test data the pipeline
// benchmarks add to this repository's: subcharts with NOTES and CRDs,
// aliases with tags, conditions and import-values, a values schema, a
// library dependency, and install ordering.
var pipeHelmCharts = []string{
	"cmd/helm/testdata/testcharts/subchart",
	"pkg/chartutil/testdata/subpop",
	"cmd/helm/testdata/testcharts/chart-with-schema",
	"cmd/helm/testdata/testcharts/chart-with-lib-dep",
	"cmd/helm/testdata/testcharts/object-order",
}

// pipeChartPaths lists the charts of the pipeline benchmarks by name:
// every chart under testdata/charts but the error charts, Helm's scaffold
// (`helm create`) and pipeHelmCharts.
func pipeChartPaths(b *testing.B) (names []string, paths map[string]string) {
	b.Helper()
	root := filepath.Join("..", "testdata", "charts")
	dirs, err := os.ReadDir(root)
	if err != nil {
		b.Fatal(err)
	}
	paths = map[string]string{}
	for _, d := range dirs {
		if d.IsDir() && d.Name() != "errors" {
			paths[d.Name()] = filepath.Join(root, d.Name())
		}
	}
	scaffold, err := chartutil.Create("scaffold", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	paths["helm-scaffold"] = scaffold
	for _, rel := range pipeHelmCharts {
		paths["helm-"+path.Base(rel)] = engHelmPath(b, rel)
	}
	for name := range paths {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, paths
}

// pipeLoad loads one chart with each side's loader and checks that both
// pipelines give the same output on it, and the same again on a second
// render, before anything is timed.
func pipeLoad(b *testing.B, name, p string) pipeChart {
	b.Helper()
	hc, err := loader.Load(p)
	if err != nil {
		b.Fatalf("%s: helm cannot load it: %v", p, err)
	}
	oc, err := chart.Load(p)
	if err != nil {
		b.Fatalf("%s: cannot load it: %v", p, err)
	}
	pc := pipeChart{name: name, helm: hc, ours: oc, random: engRandomChart("pkg/" + name)}
	want, err := pipeHelm(hc, pipeHelmCaps())
	if err != nil {
		b.Fatalf("%s: helm: %v", name, err)
	}
	got, err := pipeOurs(oc, Options{})
	if err != nil {
		b.Fatalf("%s: pkg: %v", name, err)
	}
	if !pc.random && got != want {
		b.Fatalf("%s: outputs differ: %v", name, pipeFirstDiff(want, got))
	}
	// The pipelines leave the loaded chart unmodified.
	if again, err := pipeOurs(oc, Options{}); err != nil || (!pc.random && again != got) {
		b.Fatalf("%s: second pkg render differs (%v)", name, err)
	}
	if again, err := pipeHelm(hc, pipeHelmCaps()); err != nil || (!pc.random && again != want) {
		b.Fatalf("%s: second helm render differs (%v)", name, err)
	}
	return pc
}

// pipeHelmCaps are the capabilities of the reference binary.
func pipeHelmCaps() *chartutil.Capabilities { return engHelmCaps() }

// pipeHelm runs what `helm template release-name CHART` runs after
// loading the chart, on a copy of hc: ProcessDependenciesWithMerge,
// ToRenderValuesWithSchemaValidation, the kubeVersion check, the engine,
// NOTES extraction, SortManifests and the manifest buffer
// (action.Install with ClientOnly and renderResources), and returns what
// the command prints.
func pipeHelm(hc *helmchart.Chart, caps *chartutil.Capabilities) (string, error) {
	c := cloneHelmTree(hc)
	vals := map[string]any{}
	if err := chartutil.ProcessDependenciesWithMerge(c, vals); err != nil {
		return "", err
	}
	opts := chartutil.ReleaseOptions{Name: "release-name", Namespace: "default", Revision: 1, IsInstall: true}
	top, err := chartutil.ToRenderValuesWithSchemaValidation(c, vals, opts, caps, false)
	if err != nil {
		return "", err
	}
	if kv := c.Metadata.KubeVersion; kv != "" && !chartutil.IsCompatibleRange(kv, caps.KubeVersion.String()) {
		return "", fmt.Errorf("chart requires kubeVersion: %s", kv)
	}
	files, err := helmengine.Engine{}.Render(c, top)
	if err != nil {
		return "", err
	}
	var notes bytes.Buffer
	for k, v := range files {
		if strings.HasSuffix(k, "NOTES.txt") {
			if k == path.Join(c.Name(), "templates", "NOTES.txt") {
				notes.WriteString(v)
			}
			delete(files, k)
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	for _, m := range manifests {
		fmt.Fprintf(&buf, "---\n# Source: %s\n%s\n", m.Name, m.Content)
	}
	return pipeHelmOutput(buf.String(), hooks), nil
}

// pipeHelmOutput is what cmd/helm's template prints for a manifest and
// its hooks.
func pipeHelmOutput(manifest string, hooks []*release.Hook) string {
	var out bytes.Buffer
	fmt.Fprintln(&out, strings.TrimSpace(manifest))
	for _, h := range hooks {
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
	}
	return out.String()
}

// pipeOurs runs Template as `pkg template release-name CHART` does and
// returns what the command prints.
func pipeOurs(c *chart.Chart, o Options) (string, error) {
	o.ReleaseName, o.Namespace, o.Revision = "release-name", "default", 1
	res, err := Template(c, map[string]any{}, o)
	if err != nil {
		return "", err
	}
	return TemplateOutput(res.Manifest, res.Hooks, OutputOptions{})
}

// pipeFirstDiff describes the first line where two outputs differ.
func pipeFirstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) && i < len(g); i++ {
		if w[i] != g[i] {
			return fmt.Sprintf("line %d: helm %q, pkg %q", i+1, w[i], g[i])
		}
	}
	return fmt.Sprintf("helm has %d lines, pkg %d", len(w), len(g))
}

// pipeQuiet silences the warnings Helm logs while coalescing values.
func pipeQuiet(b *testing.B) {
	b.Helper()
	out := log.Writer()
	log.SetOutput(io.Discard)
	b.Cleanup(func() { log.SetOutput(out) })
}

// pipeSides are the variants each benchmark runs: Helm's pipeline; ours
// with a Cache and a SchemaCache shared by every iteration (a long-lived
// process, or any repeated use); and ours without caches (a one-shot
// `pkg template`).
var pipeSides = []string{"helm", "pkg", "pkg-nocache"}

// pipeRunner returns one render of pc by side; the caches of "pkg" live
// as long as the runner.
func pipeRunner(side string) func(pc pipeChart) error {
	switch side {
	case "helm":
		caps := pipeHelmCaps()
		return func(pc pipeChart) error {
			_, err := pipeHelm(pc.helm, caps)
			return err
		}
	case "pkg":
		o := Options{Cache: &Cache{}, Schemas: &SchemaCache{}}
		return func(pc pipeChart) error {
			_, err := pipeOurs(pc.ours, o)
			return err
		}
	default:
		return func(pc pipeChart) error {
			_, err := pipeOurs(pc.ours, Options{})
			return err
		}
	}
}

// BenchmarkTemplate renders each chart per iteration with Helm's pipeline
// and ours; see pipeSides. A chart is loaded and checked only when the
// -bench pattern selects it.
func BenchmarkTemplate(b *testing.B) {
	pipeQuiet(b)
	names, paths := pipeChartPaths(b)
	for _, name := range names {
		b.Run(name, func(b *testing.B) {
			pc := pipeLoad(b, name, paths[name])
			for _, side := range pipeSides {
				b.Run(side, func(b *testing.B) {
					run := pipeRunner(side)
					b.ReportAllocs()
					for b.Loop() {
						if err := run(pc); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkTemplateAll renders every chart of BenchmarkTemplate once per
// iteration: the headline throughput of each side.
func BenchmarkTemplateAll(b *testing.B) {
	pipeQuiet(b)
	names, paths := pipeChartPaths(b)
	var charts []pipeChart
	for _, name := range names {
		charts = append(charts, pipeLoad(b, name, paths[name]))
	}
	for _, side := range pipeSides {
		b.Run(side, func(b *testing.B) {
			run := pipeRunner(side)
			b.ReportAllocs()
			for b.Loop() {
				for _, pc := range charts {
					if err := run(pc); err != nil {
						b.Fatalf("%s: %v", pc.name, err)
					}
				}
			}
		})
	}
}
