package chart

// Helpers shared by the differential tests: where Helm's module is, and how
// to compare one of our charts with one of Helm's.

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	helmchart "helm.sh/helm/v3/pkg/chart"

	"pkg.dev/pkg/internal/helmtest"
)

// helmModuleDir finds helm.sh/helm/v3 in the module cache once.
var helmModuleDir = helmtest.ModuleDir

// helmDir returns the directory of Helm's module, or skips the test.
func helmDir(t testing.TB) string {
	t.Helper()
	dir, err := helmModuleDir()
	if err != nil || dir == "" {
		t.Skipf("helm.sh/helm/v3 module not available: %v", err)
	}
	return dir
}

// quietHelmLog silences the warnings Helm's loader prints through the
// standard logger (symlinks, requirements.yaml) for the test's duration.
func quietHelmLog(t testing.TB) {
	t.Helper()
	prev := log.Writer()
	log.SetOutput(io.Discard)
	t.Cleanup(func() { log.SetOutput(prev) })
}

// helmTestCharts lists the charts in Helm's testdata folders: every
// directory holding a Chart.yaml and every .tgz file, relative to the
// module directory.
func helmTestCharts(t testing.TB, mod string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(mod, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(mod, p)
		if d.IsDir() {
			if _, err := os.Stat(filepath.Join(p, "Chart.yaml")); err == nil && strings.Contains(rel, "testdata") {
				out = append(out, rel)
			}
			return nil
		}
		if strings.HasSuffix(p, ".tgz") && strings.Contains(rel, "testdata") {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// compareWithHelm reports every difference between our chart and Helm's:
// metadata, lock, values, schema, templates, files and raw files (names,
// bytes and order) and the dependency tree. Helm adds subcharts in Go map
// order, so dependencies are compared sorted by name and version.
func compareWithHelm(t testing.TB, where string, ours *Chart, theirs *helmchart.Chart) {
	t.Helper()
	if ours.Name() != theirs.Name() {
		t.Errorf("%s: name %q, Helm %q", where, ours.Name(), theirs.Name())
	}
	where += "(" + ours.Name() + ")"
	if a, b := mustJSON(t, ours.Metadata), mustJSON(t, theirs.Metadata); a != b {
		t.Errorf("%s: metadata\nours: %s\nhelm: %s", where, a, b)
	}
	if a, b := mustJSON(t, ours.Lock), mustJSON(t, theirs.Lock); a != b {
		t.Errorf("%s: lock\nours: %s\nhelm: %s", where, a, b)
	}
	if !reflect.DeepEqual(ours.Values, theirs.Values) {
		t.Errorf("%s: values\nours: %#v\nhelm: %#v", where, ours.Values, theirs.Values)
	}
	if !bytes.Equal(ours.Schema, theirs.Schema) || (ours.Schema == nil) != (theirs.Schema == nil) {
		t.Errorf("%s: schema differs", where)
	}
	compareFiles(t, where+" templates", ours.Templates, theirs.Templates)
	compareFiles(t, where+" files", ours.Files, theirs.Files)
	compareFiles(t, where+" raw", ours.Raw, theirs.Raw)

	od, hd := ours.Dependencies(), slices.Clone(theirs.Dependencies())
	if len(od) != len(hd) {
		t.Errorf("%s: %d dependencies, Helm %d", where, len(od), len(hd))
		return
	}
	key := func(name string, md any) string { return name + "@" + mustJSON(t, md) }
	slices.SortFunc(hd, func(a, b *helmchart.Chart) int {
		return strings.Compare(key(a.Name(), a.Metadata), key(b.Name(), b.Metadata))
	})
	ob := slices.Clone(od)
	slices.SortFunc(ob, func(a, b *Chart) int {
		return strings.Compare(key(a.Name(), a.Metadata), key(b.Name(), b.Metadata))
	})
	for i := range ob {
		if ob[i].Parent() != ours || ob[i].Root() != ours.Root() {
			t.Errorf("%s: dependency %s has the wrong parent", where, ob[i].Name())
		}
		if got, want := ob[i].ChartFullPath(), hd[i].ChartFullPath(); got != want {
			t.Errorf("%s: dependency path %s, Helm %s", where, got, want)
		}
		compareWithHelm(t, where+"/charts/", ob[i], hd[i])
	}
}

func compareFiles(t testing.TB, where string, ours []*File, theirs []*helmchart.File) {
	t.Helper()
	var a, b []string
	for _, f := range ours {
		a = append(a, f.Name)
	}
	for _, f := range theirs {
		b = append(b, f.Name)
	}
	if !slices.Equal(a, b) {
		t.Errorf("%s: names\nours: %q\nhelm: %q", where, a, b)
		return
	}
	for i := range ours {
		if !bytes.Equal(ours[i].Data, theirs[i].Data) {
			t.Errorf("%s: %s: contents differ", where, ours[i].Name)
		}
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sortHelmDeps reorders a Helm chart's dependency tree into the order our
// loader produced for the same chart, so that archives can be compared.
func sortHelmDeps(t testing.TB, ours *Chart, theirs *helmchart.Chart) {
	t.Helper()
	var sorted []*helmchart.Chart
	left := slices.Clone(theirs.Dependencies())
	for _, d := range ours.Dependencies() {
		i := slices.IndexFunc(left, func(h *helmchart.Chart) bool {
			return h.Name() == d.Name() && h.Metadata.Version == d.Metadata.Version
		})
		if i < 0 {
			t.Fatalf("dependency %s not in Helm's chart", d.Name())
		}
		sortHelmDeps(t, d, left[i])
		sorted = append(sorted, left[i])
		left = slices.Delete(left, i, i+1)
	}
	theirs.SetDependencies(sorted...)
}
