package render

import (
	"os"
	"reflect"
	"testing"

	helmchart "helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"

	"pkg.dev/pkg/chart"
)

// coalesceSpecs are charts built in code for coalescing edge cases.
var coalesceSpecs = map[string]valChartSpec{
	"globals": {
		name: "root",
		values: `
global: {a: {b: {x: 1}, c: 1}, s: root, l: [1, 2]}
top: {keep: me}
sub: {fromParent: 1, global: {a: {b: {p: 1}}}}
`,
		subs: []valChartSpec{{
			name: "sub",
			values: `
global: {a: {b: {y: 2}, d: 2}, s: sub, own: 3, t: {z: 1}}
fromSub: 2
fromParent: 0
leaf: {global: {deep: 1}}
`,
			subs: []valChartSpec{{
				name:   "leaf",
				values: `{global: {a: {b: {z: 3}}, s: leaf, t: notatable}, v: leaf}`,
			}},
		}, {
			name:   "other",
			values: `{global: {a: {b: {w: 4}}, s: other}}`,
		}},
	},
	"nulls": {
		name: "root",
		values: `
a: 1
b: null
t: {x: 1, y: 2, n: null, in: {p: 1, q: 2}}
e: {}
sub: {k: parent}
`,
		subs: []valChartSpec{{
			name:   "sub",
			values: `{k: v, m: {n: 1, o: 2}, z: null}`,
		}},
	},
	"mismatch": {
		name: "level1",
		values: `
name: moby
table: {a: 1, deep: {b: 2}}
scalar: 5
list: [1, 2]
`,
		subs: []valChartSpec{{
			name:   "level2",
			values: `{name: pequod, global: 7}`,
			subs: []valChartSpec{{
				name:   "level3",
				values: `{name: ahab, boat: true, spear: {tip: true, sail: {cotton: true}}}`,
			}},
		}},
	},
	"siblings-same-name-values": {
		name:   "root",
		values: `{a: {b: 1}, a2: {global: 1}}`,
		subs: []valChartSpec{
			{name: "a", values: `{c: 2, global: {g: 1}}`},
			{name: "a2", values: `{c: 3}`},
		},
	},
}

// coalesceInputs are user values tried on every chart.
var coalesceInputs = map[string]string{
	"none":  "",
	"empty": "{}",
	"coleridge": `
poet: "Coleridge"
stanza: ["at", "length"]
mariner: {with: crossbow, shot: ALBATROSS}
water: {water: {where: everywhere}}
`,
	"nulls": `
a: null
b: null
t: {x: null, in: {p: null}, new: null, n: null}
e: {foo: bar, baz: null}
sub: {k: null, m: {n: null}, z: null, extra: null}
subchart1: {SC1data: null, global: null}
albatross: null
alpine: {global: {x: null}}
`,
	"globals": `
global: {a: {b: {u: 1}}, s: user, name: Ishmael, nested: {boat: true}}
sub: {global: {a: {b: {v: 1}, d: 9}, own: user}, leaf: {global: {s: userleaf}}}
subchart1: {global: {s: 1}}
`,
	"global-not-table": `global: 5`,
	"sub-global-not-table": `
sub: {global: [1]}
level2: {global: x}
subchart1: {global: x}
mariner: {global: 1}
`,
	"global-conflicts": `
global: {a: 1, t: {x: 1}}
sub: {global: {a: {x: 1}, t: 2, s: {deep: 1}}}
`,
	"mismatch": `
table: 5
scalar: {a: 1}
list: {a: 1}
name: [x]
level2:
  level3:
    boat: {mast: true}
    spear: {tip: {sharp: true}, sail: true}
`,
	"type-mismatch-sub":  `{sub: str, level2: 3, subchart1: [1], a: x, mariner: true, app1: 1}`,
	"null-sub":           `{sub: null, level2: null, subchart1: null, a: null, alpine: null, app1: null}`,
	"helm-coalesce-yaml": string(helmCoalesceYAML),
}

// helmCoalesceYAML is the user values of Helm's own coalescing test.
var helmCoalesceYAML = []byte(`
top: yup
bottom: null
right: Null
left: NULL
front: ~
back: ""
nested:
  boat: null
global:
  name: Ishmael
  subject: Queequeg
  nested:
    boat: true
pequod:
  boat: null
  global:
    name: Stinky
    harpooner: Tashtego
    nested:
      boat: false
      sail: true
      foo2: null
  ahab:
    scope: whale
    boat: null
    nested:
      foo: true
      boat: null
    object: null
`)

// helmValuesCharts are Helm's own test charts used by the values tests.
var helmValuesCharts = []string{
	"pkg/chartutil/testdata/subpop",
	"pkg/chartutil/testdata/frobnitz",
	"pkg/chartutil/testdata/dependent-chart-alias",
	"pkg/chartutil/testdata/dependent-chart-no-requirements-yaml",
	"pkg/chartutil/testdata/dependent-chart-with-all-in-requirements-yaml",
	"pkg/chartutil/testdata/dependent-chart-with-mixed-requirements-yaml",
	"pkg/chartutil/testdata/three-level-dependent-chart/umbrella",
	"pkg/chartutil/testdata/import-values-from-enabled-subchart/parent-chart",
	"pkg/chartutil/testdata/joonix",
}

// valChartCase is one chart of the differential tests, built afresh for
// each side.
type valChartCase struct {
	name  string
	build func(t testing.TB) (*helmchart.Chart, *chart.Chart)
}

func valuesChartCases() []valChartCase {
	var cases []valChartCase
	for _, rel := range helmValuesCharts {
		cases = append(cases, valChartCase{rel, func(t testing.TB) (*helmchart.Chart, *chart.Chart) {
			return valLoadBoth(t, valHelmPath(t, rel))
		}})
	}
	for name, spec := range coalesceSpecs {
		cases = append(cases, valChartCase{"spec/" + name, spec.both})
	}
	return cases
}

// TestCoalesceValuesMatchesHelm compares values, errors and warnings of
// CoalesceValues and MergeValues with Helm's. It captures Helm's log, so
// it does not run in parallel.
func TestCoalesceValuesMatchesHelm(t *testing.T) {
	for _, cc := range valuesChartCases() {
		for inName, in := range coalesceInputs {
			for _, merge := range []bool{false, true} {
				name := cc.name + "/" + inName
				if merge {
					name += "/merge"
				}
				t.Run(name, func(t *testing.T) {
					hc, oc := cc.build(t)
					before := valSnapshot(oc)
					var want chartutil.Values
					var wantErr error
					wantLog := valCaptureHelmLog(func() {
						if merge {
							want, wantErr = chartutil.MergeValues(hc, valYAML(t, in))
						} else {
							want, wantErr = chartutil.CoalesceValues(hc, valYAML(t, in))
						}
					})
					var w valWarnings
					p := ValuesProcessor{Warn: w.add}
					user := valYAML(t, in)
					userBefore := valSnapshotMap(user)
					var got Values
					var gotErr error
					if merge {
						got, gotErr = p.MergeValues(oc, user)
					} else {
						got, gotErr = p.CoalesceValues(oc, user)
					}
					if valErrText(gotErr) != valErrText(wantErr) {
						t.Fatalf("error = %v, Helm's = %v", gotErr, wantErr)
					}
					if gotErr == nil && !reflect.DeepEqual(map[string]any(got), map[string]any(want)) {
						t.Errorf("values differ from Helm's:\n got  %#v\n want %#v", got, want)
					}
					if !valSameStrings(w.sorted(), wantLog) {
						t.Errorf("warnings differ:\n got  %q\n want %q", w.sorted(), wantLog)
					}
					if after := valSnapshot(oc); !reflect.DeepEqual(before, after) {
						t.Errorf("chart values changed:\n before %v\n after  %v", before, after)
					}
					if valSnapshotMap(user) != userBefore {
						t.Errorf("user values changed")
					}
				})
			}
		}
	}
}

func valSnapshotMap(m map[string]any) string {
	return valSnapshot(&chart.Chart{Metadata: &chart.Metadata{}, Values: m})["/"]
}

// TestCoalesceResultIsFresh shows the result shares nothing with the
// chart: changing every table and list in it leaves the chart's values as
// they were, and a second coalesce gives the same result as the first.
func TestCoalesceResultIsFresh(t *testing.T) {
	t.Parallel()
	for _, cc := range valuesChartCases() {
		t.Run(cc.name, func(t *testing.T) {
			t.Parallel()
			_, c := cc.build(t)
			before := valSnapshot(c)
			first, err := CoalesceValues(c, nil)
			if err != nil {
				t.Fatal(err)
			}
			firstText := valSnapshotMap(first)
			valScribble(first)
			if after := valSnapshot(c); !reflect.DeepEqual(before, after) {
				t.Fatalf("changing the result changed the chart:\n before %v\n after  %v", before, after)
			}
			second, err := CoalesceValues(c, nil)
			if err != nil {
				t.Fatal(err)
			}
			if valSnapshotMap(second) != firstText {
				t.Fatalf("second coalesce differs from the first")
			}
		})
	}
}

// valScribble writes into every table and list of a values tree.
func valScribble(v any) {
	switch t := v.(type) {
	case map[string]any:
		for _, e := range t {
			valScribble(e)
		}
		t["scribbled"] = true
	case Values:
		valScribble(map[string]any(t))
	case []any:
		for i, e := range t {
			valScribble(e)
			if !isTable(e) {
				t[i] = "scribbled"
			}
		}
	}
}

func TestCoalesceValuesNilChartValues(t *testing.T) {
	t.Parallel()
	c := &chart.Chart{Metadata: &chart.Metadata{Name: "bare"}}
	c.AddDependency(&chart.Chart{Metadata: &chart.Metadata{Name: "sub"}})
	got, err := CoalesceValues(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Values{"sub": map[string]any{"global": map[string]any{}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

// BenchmarkCoalesceValues compares our coalescing with Helm's on Helm's
// subpop chart and the coleridge values.
func BenchmarkCoalesceValues(b *testing.B) {
	hc, oc := valLoadBoth(b, valHelmPath(b, "pkg/chartutil/testdata/subpop"))
	data, err := os.ReadFile(valHelmPath(b, "pkg/chartutil/testdata/coleridge.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	vals := valYAML(b, string(data))
	b.Run("pkg", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := CoalesceValues(oc, vals); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("helm", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := chartutil.CoalesceValues(hc, vals); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzCoalesceValues cross-checks coalescing and merging with Helm's on a
// root/sub/leaf chart whose values, and the user's, come from the fuzzer.
func FuzzCoalesceValues(f *testing.F) {
	for _, spec := range coalesceSpecs {
		for _, in := range coalesceInputs {
			sub := ""
			if len(spec.subs) > 0 {
				sub = spec.subs[0].values
			}
			f.Add(spec.values, sub, in, false)
		}
	}
	f.Fuzz(func(t *testing.T, rootVals, subVals, userVals string, merge bool) {
		var root, sub, user map[string]any
		for _, p := range []struct {
			s string
			m *map[string]any
		}{{rootVals, &root}, {subVals, &sub}, {userVals, &user}} {
			v, err := ReadValues([]byte(p.s))
			if err != nil {
				t.Skip()
			}
			*p.m = v
		}
		spec := valChartSpec{name: "root", values: rootVals, subs: []valChartSpec{
			{name: "sub", values: subVals, subs: []valChartSpec{{name: "leaf", values: subVals}}},
			{name: "other", values: rootVals},
		}}
		hc, oc := spec.both(t)
		before := valSnapshot(oc)
		var want chartutil.Values
		var wantErr error
		wantLog := valCaptureHelmLog(func() {
			if merge {
				want, wantErr = chartutil.MergeValues(hc, copyMap(user))
			} else {
				want, wantErr = chartutil.CoalesceValues(hc, copyMap(user))
			}
		})
		var w valWarnings
		p := ValuesProcessor{Warn: w.add}
		var got Values
		var gotErr error
		if merge {
			got, gotErr = p.MergeValues(oc, user)
		} else {
			got, gotErr = p.CoalesceValues(oc, user)
		}
		if valErrText(gotErr) != valErrText(wantErr) {
			t.Fatalf("error = %v, Helm's = %v", gotErr, wantErr)
		}
		if gotErr == nil && !reflect.DeepEqual(map[string]any(got), map[string]any(want)) {
			t.Fatalf("values differ:\n got  %#v\n want %#v", got, want)
		}
		if !valSameStrings(w.sorted(), wantLog) {
			t.Fatalf("warnings differ:\n got  %q\n want %q", w.sorted(), wantLog)
		}
		if after := valSnapshot(oc); !reflect.DeepEqual(before, after) {
			t.Fatalf("chart values changed")
		}
	})
}
