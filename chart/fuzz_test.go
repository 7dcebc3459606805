package chart

import (
	"archive/tar"
	"bytes"
	"testing"
	"time"
)

// fuzzTime stamps archives written by the fuzz target.
var fuzzTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// FuzzLoadArchive feeds arbitrary bytes to LoadArchive. It must never
// panic, and whatever it accepts must be a valid chart that packages and
// loads again.
func FuzzLoadArchive(f *testing.F) {
	good := chartEntries("demo")
	seeds := [][]byte{
		nil,
		[]byte("\x1f\x8b\x08"),
		[]byte("apiVersion: v2\nname: x\nversion: 1.0.0\n"),
		buildArchive(f, good...),
		buildArchive(f),
		buildArchive(f, with(good, entry{name: "demo/../evil", body: "x"})...),
		buildArchive(f, with(good, entry{name: "demo/link", typ: tar.TypeSymlink, link: "/etc"})...),
		buildArchive(f, with(good, entry{name: `demo\charts\sub\Chart.yaml`, body: "apiVersion: v1\nname: sub\nversion: 0.1.0\n"})...),
		buildArchive(f, with(good,
			entry{name: "demo/charts/sub-1.0.0.tgz", body: string(buildArchive(f, chartEntries("sub")...))},
			entry{name: "demo/Chart.lock", body: "generated: 2020-01-01T00:00:00Z\n"},
			entry{name: "demo/requirements.yaml", body: "dependencies: [{name: a, alias: b}]\n"},
		)...),
		buildArchive(f, entry{name: "demo/Chart.yaml", body: "apiVersion: v2\nname: [\n"}),
		buildArchive(f, entry{name: "demo/Chart.yaml", body: "name: x\nversion: 1\ndependencies: [null]\n"}),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := LoadArchive(bytes.NewReader(data))
		if err != nil {
			if c != nil {
				t.Fatal("chart returned with an error")
			}
			return
		}
		if c.Metadata == nil {
			t.Fatal("loaded without metadata")
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("loaded an invalid chart: %v", err)
		}
		var buf bytes.Buffer
		if err := WriteArchive(&buf, c, fuzzTime); err != nil {
			return // e.g. an invalid values.schema.json is refused when packaging
		}
		again, err := LoadArchive(&buf)
		if err != nil {
			t.Fatalf("a packaged chart does not load again: %v", err)
		}
		if again.Name() != c.Name() || len(again.Templates) != len(c.Templates) {
			t.Fatalf("round trip changed the chart")
		}
	})
}
