package render

import (
	"path/filepath"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	helmengine "helm.sh/helm/v3/pkg/engine"
)

// engBenchCharts are the charts BenchmarkRender renders: Helm's scaffold
// (`helm create`), a bitnami-style chart with a common library and heavy
// use of tpl, a chart of 130 templates, and a small one.
func engBenchCharts(b *testing.B) map[string]string {
	b.Helper()
	dir := b.TempDir()
	scaffold, err := chartutil.Create("scaffold", dir)
	if err != nil {
		b.Fatal(err)
	}
	return map[string]string{
		"scaffold": scaffold,
		"webstack": filepath.Join("..", "testdata", "charts", "webstack"),
		"bigchart": filepath.Join("..", "testdata", "charts", "bigchart"),
		"hello":    filepath.Join("..", "testdata", "charts", "hello"),
	}
}

// BenchmarkRender renders each chart with Helm's engine and ours: "helm"
// and "ours" parse on every render (Engine.Render without a cache);
// "ours-cache" reuses parses through a Cache; "ours-prepared" renders a
// Prepared chart. Both engines get the same top-level values.
//
//	go test -bench . -benchmem -run '^$' ./render/
func BenchmarkRender(b *testing.B) {
	for _, name := range []string{"scaffold", "webstack", "bigchart", "hello"} {
		path := engBenchCharts(b)[name]
		p, err := engLoadPair(b, path, nil)
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		helmTop, err := chartutil.ToRenderValuesWithSchemaValidation(p.helm, nil, p.rel, engHelmCaps(), true)
		if err != nil {
			b.Fatal(err)
		}
		helmTop["Values"] = chartutil.Values(engCopyValues(p.vals))
		rel := ReleaseOptions{Name: p.rel.Name, Namespace: p.rel.Namespace, Revision: p.rel.Revision, IsInstall: true}
		ourTop, err := RenderValues(p.ours, engCopyValues(p.vals), rel, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := (helmengine.Engine{}).Render(p.helm, helmTop); err != nil {
			b.Fatalf("%s: helm: %v", name, err)
		}

		b.Run(name+"/helm", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := (helmengine.Engine{}).Render(p.helm, helmTop); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/ours", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := (Engine{}).Render(p.ours, ourTop); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/ours-cache", func(b *testing.B) {
			b.ReportAllocs()
			e := Engine{Cache: &Cache{}}
			for b.Loop() {
				if _, err := e.Render(p.ours, ourTop); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/ours-prepared", func(b *testing.B) {
			b.ReportAllocs()
			prep, err := Engine{}.Prepare(p.ours)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := prep.Render(ourTop); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
