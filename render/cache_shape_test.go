package render

import (
	"path/filepath"
	"strings"
	"testing"

	"pkg.dev/pkg/chart"
)

// TestCacheSharesCopiesOfATree renders a chart with subcharts, aliases
// and a library through Template several times with one Cache: every
// render works on its own copy of the tree, yet the tree is prepared
// once; a change of values that drops a subchart changes the shape and
// prepares again; the output does not depend on the cache.
func TestCacheSharesCopiesOfATree(t *testing.T) {
	t.Parallel()
	c, err := chart.Load(filepath.Join("..", "testdata", "charts", "bigchart"))
	if err != nil {
		t.Fatal(err)
	}
	cache := &Cache{}
	defer cache.Close()
	render := func(vals map[string]any, cache *Cache) string {
		t.Helper()
		res, err := Template(c, vals, Options{ReleaseName: "r", Namespace: "ns", Cache: cache, Schemas: &SchemaCache{}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Manifest
	}
	want := render(nil, nil)
	for range 3 {
		if got := render(nil, cache); got != want {
			t.Fatal("output through the cache differs")
		}
	}
	if cache.nCharts != 1 {
		t.Fatalf("prepared %d trees, want 1", cache.nCharts)
	}
	// Disable the first conditional subchart.
	var cond string
	for _, d := range c.Metadata.Dependencies {
		if d.Condition != "" {
			cond = d.Condition
			break
		}
	}
	if cond == "" {
		t.Fatal("bigchart has no conditional dependency")
	}
	off := map[string]any{}
	table := off
	keys := strings.Split(cond, ".")
	for _, k := range keys[:len(keys)-1] {
		next := map[string]any{}
		table[k] = next
		table = next
	}
	table[keys[len(keys)-1]] = false
	if got, want := render(off, cache), render(off, nil); got != want {
		t.Fatal("output through the cache differs with a subchart disabled")
	}
	if cache.nCharts != 2 {
		t.Fatalf("prepared %d trees, want 2", cache.nCharts)
	}
}
