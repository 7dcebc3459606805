package render

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	helmchart "helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"

	"pkg.dev/pkg/chart"
)

// depSpecs are charts built in code for dependency processing.
var depSpecs = map[string]valChartSpec{
	"aliases-and-imports": {
		name: "root",
		values: `
tags: {front: true, odd: yes-string}
a2: {enabled: false}
fromParent: {keep: parent, over: parent}
cond: {str: "true", off: false}
`,
		deps: []valDepSpec{
			{name: "sub", alias: "a1", imports: []any{"data", "missing",
				map[string]any{"child": "tbl", "parent": "fromParent"},
				map[string]any{"child": "tbl", "parent": "x.y.z"},
				map[string]any{"child": "nope", "parent": "gone"},
				map[string]any{"child": 7},
				map[string]any{"child": "scalar", "parent": "s"},
				map[string]any{"child": "empty", "parent": "."},
				map[string]string{"child": "tbl", "parent": "ignored"},
				42,
			}},
			{name: "sub", alias: "a2", condition: "a2.enabled", imports: []any{"data"}},
			{name: "sub", alias: "a3", condition: " cond.str, cond.off ,a3.enabled", tags: []string{"front"}},
			{name: "tagged", tags: []string{"odd", "back"}},
			{name: "tagged", alias: "t2", tags: []string{"back"}},
			{name: "versioned", version: "^2.0.0"},
			{name: "badrange", version: "not a range"},
			{name: "absent"},
		},
		subs: []valChartSpec{
			{
				name: "sub",
				values: `
exports: {data: {exported: sub, over: sub}}
tbl: {over: sub, fromSub: 1, nested: {n: 1}}
empty: {}
scalar: 3
global: {g: sub}
`,
				deps: []valDepSpec{{name: "leaf", alias: "leafy", imports: []any{"more"}}, {name: "leaf", condition: "leaf.on"}},
				subs: []valChartSpec{{name: "leaf", values: `{exports: {more: {deep: leaf}}, on: false, v: 1}`}},
			},
			{name: "tagged", values: `{t: 1}`},
			{name: "versioned", values: `{v: 1}`},
			{name: "badrange", values: `{b: 1}`},
			{name: "unlisted", values: `{u: 1}`},
		},
	},
	"shared-import-tables": {
		name:   "root",
		values: `{over: {a: root}}`,
		deps: []valDepSpec{{name: "sub", imports: []any{
			map[string]any{"child": "t", "parent": "one"},
			map[string]any{"child": "t", "parent": "two"},
			map[string]any{"child": "u", "parent": "one"},
			map[string]any{"child": "t", "parent": "."},
			map[string]any{"child": "u", "parent": "."},
			map[string]any{"child": "t", "parent": "over"},
		}}},
		subs: []valChartSpec{{name: "sub", values: `{t: {in: {x: 1}, k: t}, u: {in: {y: 2}, k: u, n: null}}`}},
	},
	"no-deps-listed": {
		name:   "root",
		values: `{a: 1}`,
		subs:   []valChartSpec{{name: "sub", values: `{b: 2}`}},
	},
}

// depInputs are user values for dependency processing.
var depInputs = map[string]string{
	"none":                       "",
	"tags-no-effect":             `{tags: {nothinguseful: false}}`,
	"tags-disable-group":         `{tags: {front-end: false, front: false}}`,
	"tags-switch-groups":         `{tags: {front-end: false, back-end: true, back: true}}`,
	"tags-children":              `{tags: {subcharta: false, subchartb: false}}`,
	"tags-reenable-parent":       `{tags: {front-end: false, subchart1: true, back-end: false}}`,
	"conditions-enable":          `{subchart1: {enabled: true}, subchart2: {enabled: true}, a2: {enabled: true}}`,
	"conditions-disable":         `{subchart1: {enabled: false}, subchart2: {enabled: false}, a1: {enabled: false}}`,
	"second-condition":           `{subchart1: {subcharta: {enabled: false}}, cond: {str: 1}}`,
	"tags-and-condition":         `{subchart2: {subchartc: {enabled: false}}, tags: {back-end: true}}`,
	"condition-beats-tag":        `{subchart1: {enabled: false}, tags: {front-end: true}}`,
	"alias-conditions":           `{subchart1: {enabled: false}, subchart2alias: {enabled: true, subchartb: {enabled: true}}}`,
	"non-bool":                   `{subchart1: {enabled: "yes"}, tags: {front-end: 1, odd: 2}, a2: {enabled: {x: 1}}}`,
	"tags-not-table":             `{tags: [front-end]}`,
	"leaf-on":                    `{a1: {leaf: {on: true}}, a3: {enabled: true, leaf: {on: true}}}`,
	"override-imports":           `{fromParent: {over: user}, a1: {tbl: {over: user}}, one: {k: user}}`,
	"nulls":                      `{fromParent: null, a1: {tbl: null}, sub: {t: null}, subchart1: {SC1data: null}}`,
	"type-mismatch":              `{a1: str, subchart1: 5, sub: [1]}`,
	"app-ports":                  `{app1: {service: {port: 1}}, app3: {library: {service: {port: 2}}}}`,
	"import-values-env":          `{dev: {enabled: true}, prod: {enabled: false}}`,
	"import-values-env-disabled": `{dev: {enabled: false}, prod: {enabled: false}}`,
}

func depChartCases() []valChartCase {
	cases := valuesChartCases()
	for name, spec := range depSpecs {
		cases = append(cases, valChartCase{"spec/" + name, spec.both})
	}
	return cases
}

// TestProcessDependenciesMatchesHelm compares the processed chart trees
// (subcharts, dependency entries, every chart's values), the warnings, and
// the values then coalesced and validated, with Helm's
// ProcessDependenciesWithMerge. It captures Helm's log: not parallel.
func TestProcessDependenciesMatchesHelm(t *testing.T) {
	for _, cc := range depChartCases() {
		for inName, in := range depInputs {
			t.Run(cc.name+"/"+inName, func(t *testing.T) {
				compareProcessDependencies(t, cc.build, in)
			})
		}
	}
}

// compareProcessDependencies runs one chart and user values through
// Helm's dependency processing, coalescing and validation, and ours.
func compareProcessDependencies(t *testing.T, build func(testing.TB) (*helmchart.Chart, *chart.Chart), in string) {
	t.Helper()
	hc, oc := build(t)
	user := valYAML(t, in)
	userBefore := valSnapshotMap(user)
	var wantErr error
	var want chartutil.Values
	var wantCoalesceErr, wantSchemaErr error
	wantLog := valCaptureHelmLog(func() {
		wantErr = chartutil.ProcessDependenciesWithMerge(hc, valYAML(t, in))
		if wantErr == nil {
			want, wantCoalesceErr = chartutil.CoalesceValues(hc, valYAML(t, in))
			if wantCoalesceErr == nil {
				wantSchemaErr = chartutil.ValidateAgainstSchema(hc, want)
			}
		}
	})
	t.Logf("Helm: error %v, schema error %v, %d warnings", wantErr, wantSchemaErr, len(wantLog))
	var w valWarnings
	p := ValuesProcessor{Warn: w.add}
	gotErr := p.ProcessDependencies(oc, user)
	if valErrText(gotErr) != valErrText(wantErr) {
		t.Fatalf("error = %v, Helm's = %v", gotErr, wantErr)
	}
	if g, h := describeOurs(oc), describeHelm(hc); !reflect.DeepEqual(g, h) {
		t.Errorf("processed trees differ:\n got  %s\n want %s", g, h)
	}
	if wantErr == nil {
		got, err := p.CoalesceValues(oc, user)
		if valErrText(err) != valErrText(wantCoalesceErr) {
			t.Fatalf("coalesce error = %v, Helm's = %v", err, wantCoalesceErr)
		}
		if err == nil {
			if !reflect.DeepEqual(map[string]any(got), map[string]any(want)) {
				t.Errorf("coalesced values differ:\n got  %#v\n want %#v", got, want)
			}
			if err := p.ValidateAgainstSchema(oc, got); valErrText(err) != valErrText(wantSchemaErr) {
				t.Errorf("schema error = %v, Helm's = %v", err, wantSchemaErr)
			}
		}
	}
	if !valSameStrings(w.sorted(), wantLog) {
		t.Errorf("warnings differ:\n got  %q\n want %q", w.sorted(), wantLog)
	}
	if valSnapshotMap(user) != userBefore {
		t.Errorf("user values changed")
	}
}

// treeView is a chart tree reduced to what dependency processing changes,
// comparable across Helm's model and ours.
type treeView map[string]chartView

type chartView struct {
	Name   string
	Values map[string]any
	Deps   []depView
	Subs   []string
}

type depView struct {
	Name, Alias, Condition, Version string
	Tags                            []string
	Enabled                         bool
	ImportValues                    []any
}

func (v treeView) String() string {
	var keys []string
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %s: %+v", k, v[k])
	}
	return b.String()
}

func describeOurs(c *chart.Chart) treeView {
	out := treeView{}
	var walk func(c *chart.Chart, path string)
	walk = func(c *chart.Chart, path string) {
		path += "/" + c.Name()
		cv := chartView{Name: c.Name(), Values: c.Values}
		for _, d := range c.Metadata.Dependencies {
			if d == nil {
				cv.Deps = append(cv.Deps, depView{Name: "<nil>"})
				continue
			}
			cv.Deps = append(cv.Deps, depView{d.Name, d.Alias, d.Condition, d.Version, d.Tags, d.Enabled, d.ImportValues})
		}
		if c.Metadata.Dependencies != nil && cv.Deps == nil {
			cv.Deps = []depView{}
		}
		for _, s := range c.Dependencies() {
			cv.Subs = append(cv.Subs, s.Name())
			walk(s, path)
		}
		// Helm's loader lists some subcharts in random order (frobnitz's
		// alpine); compare the sets.
		sort.Strings(cv.Subs)
		out[path] = cv
	}
	walk(c, "")
	return out
}

func describeHelm(c *helmchart.Chart) treeView {
	out := treeView{}
	var walk func(c *helmchart.Chart, path string)
	walk = func(c *helmchart.Chart, path string) {
		path += "/" + c.Name()
		cv := chartView{Name: c.Name(), Values: c.Values}
		for _, d := range c.Metadata.Dependencies {
			if d == nil {
				cv.Deps = append(cv.Deps, depView{Name: "<nil>"})
				continue
			}
			cv.Deps = append(cv.Deps, depView{d.Name, d.Alias, d.Condition, d.Version, d.Tags, d.Enabled, d.ImportValues})
		}
		if c.Metadata.Dependencies != nil && cv.Deps == nil {
			cv.Deps = []depView{}
		}
		for _, s := range c.Dependencies() {
			cv.Subs = append(cv.Subs, s.Name())
			walk(s, path)
		}
		// Helm's loader lists some subcharts in random order (frobnitz's
		// alpine); compare the sets.
		sort.Strings(cv.Subs)
		out[path] = cv
	}
	walk(c, "")
	return out
}

// TestProcessDependenciesLeavesOldValues shows that processing replaces
// the charts' Values without writing into the maps they held.
func TestProcessDependenciesLeavesOldValues(t *testing.T) {
	t.Parallel()
	for _, cc := range depChartCases() {
		t.Run(cc.name, func(t *testing.T) {
			t.Parallel()
			_, c := cc.build(t)
			var maps []map[string]any
			var texts []string
			var walk func(*chart.Chart)
			walk = func(c *chart.Chart) {
				maps = append(maps, c.Values)
				texts = append(texts, fmt.Sprintf("%#v", c.Values))
				for _, d := range c.Dependencies() {
					walk(d)
				}
			}
			walk(c)
			if err := ProcessDependencies(c, map[string]any{"tags": map[string]any{"front": true}}); err != nil {
				t.Fatal(err)
			}
			for i, m := range maps {
				if got := fmt.Sprintf("%#v", m); got != texts[i] {
					t.Fatalf("a chart's original values map changed:\n before %s\n after  %s", texts[i], got)
				}
			}
		})
	}
}

func TestProcessDependenciesAliasExample(t *testing.T) {
	t.Parallel()
	spec := valChartSpec{
		name: "root",
		deps: []valDepSpec{
			{name: "db", alias: "primary"},
			{name: "db", alias: "replica", condition: "replica.enabled"},
			{name: "cache", imports: []any{"settings"}},
		},
		subs: []valChartSpec{
			{name: "db", values: `{port: 5432}`},
			{name: "cache", values: `{exports: {settings: {cacheSize: 64}}}`},
		},
	}
	_, c := spec.both(t)
	if err := ProcessDependencies(c, map[string]any{"replica": map[string]any{"enabled": false}}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range c.Dependencies() {
		names = append(names, d.Name())
	}
	if want := []string{"primary", "cache"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("subcharts = %v, want %v", names, want)
	}
	if got := c.Values["cacheSize"]; got != float64(64) {
		t.Fatalf("imported cacheSize = %#v, want 64", got)
	}
	if got := c.Metadata.Dependencies[1].ImportValues; !reflect.DeepEqual(got, []any{map[string]string{"child": "exports.settings", "parent": "."}}) {
		t.Fatalf("rewritten import-values = %#v", got)
	}
}

// cloneHelmTree copies a Helm chart tree deeply enough for dependency
// processing to run on it again: charts, metadata and dependency entries.
func cloneHelmTree(c *helmchart.Chart) *helmchart.Chart {
	cp := &helmchart.Chart{Raw: c.Raw, Lock: c.Lock, Templates: c.Templates, Values: c.Values, Schema: c.Schema, Files: c.Files}
	md := *c.Metadata
	md.Dependencies = nil
	for _, d := range c.Metadata.Dependencies {
		dd := *d
		md.Dependencies = append(md.Dependencies, &dd)
	}
	cp.Metadata = &md
	for _, s := range c.Dependencies() {
		cp.AddDependency(cloneHelmTree(s))
	}
	return cp
}

// BenchmarkProcessDependencies compares dependency processing with Helm's
// on its subpop chart (aliases, tags, conditions, import-values).
func BenchmarkProcessDependencies(b *testing.B) {
	hc := valLoadHelm(b, valHelmPath(b, "pkg/chartutil/testdata/subpop"))
	vals := map[string]any{"tags": map[string]any{"back-end": true}}
	b.Run("pkg", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			c := valFromHelm(hc)
			b.StartTimer()
			if err := ProcessDependencies(c, vals); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("helm", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			c := cloneHelmTree(hc)
			b.StartTimer()
			if err := chartutil.ProcessDependenciesWithMerge(c, vals); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzProcessDependencies cross-checks dependency processing, and the
// coalescing and validation after it, with Helm's for arbitrary user
// values on Helm's subpop chart and the alias/import spec chart.
func FuzzProcessDependencies(f *testing.F) {
	for _, in := range depInputs {
		f.Add(in, false)
		f.Add(in, true)
	}
	subpop := valLoadHelm(f, valHelmPath(f, "pkg/chartutil/testdata/subpop"))
	f.Fuzz(func(t *testing.T, in string, useSubpop bool) {
		if _, err := ReadValues([]byte(in)); err != nil {
			t.Skip()
		}
		build := depSpecs["aliases-and-imports"].both
		if useSubpop {
			build = func(testing.TB) (*helmchart.Chart, *chart.Chart) {
				return cloneHelmTree(subpop), valFromHelm(subpop)
			}
		}
		compareProcessDependencies(t, build, in)
	})
}
