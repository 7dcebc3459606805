package lint

import (
	"reflect"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	"sigs.k8s.io/yaml"
)

func yamlMap(t *testing.T, s string) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCoalesceTablesMatchesHelm merges overrides and chart values as the
// values rule does, with Helm's function and ours, and compares both the
// result and what became of the overrides' own tables.
func TestCoalesceTablesMatchesHelm(t *testing.T) {
	tests := []struct{ name, overrides, values string }{
		{"empty", `{}`, `{}`},
		{"override wins", `a: 1`, `a: 2`},
		{"defaults fill nested tables", `image: {tag: x}`, `image: {repository: r, tag: y}`},
		{"null deletes a default", `image: {tag: null}`, `image: {tag: y, repository: r}`},
		{"null without default stays", `x: null`, `y: 1`},
		{"top-level null of a table", `db: null`, `db: {host: h}`},
		{"table over scalar", `a: {b: 1}`, `a: 2`},
		{"scalar over table", `a: 2`, `a: {b: 1}`},
		{"lists replace", `l: [1]`, `l: [2, 3]`},
		{"default null", `a: {}`, `a: {b: null}`},
		{"deep", `a: {b: {c: {d: 1}}}`, `a: {b: {c: {e: 2}, f: 3}, g: 4}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hOver, hVals := yamlMap(t, tt.overrides), yamlMap(t, tt.values)
			want := chartutil.CoalesceTables(make(map[string]any, len(hOver)), hOver)
			want = chartutil.CoalesceTables(want, hVals)

			oOver, oVals := yamlMap(t, tt.overrides), yamlMap(t, tt.values)
			got := coalesceTables(make(map[string]any, len(oOver)), oOver)
			got = coalesceTables(got, oVals)

			if !reflect.DeepEqual(got, want) {
				t.Errorf("merged: got %v, want %v", got, want)
			}
			if !reflect.DeepEqual(oOver, hOver) {
				t.Errorf("overrides afterwards: got %v, want %v", oOver, hOver)
			}
		})
	}
}
