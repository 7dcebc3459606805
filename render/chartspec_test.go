package render

import (
	"bytes"
	"fmt"
	"log"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	helmchart "helm.sh/helm/v3/pkg/chart"
	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/chart"
)

// valChartSpec describes a small chart built in code for the values tests.
type valChartSpec struct {
	name    string
	version string // "0.1.0" when empty
	values  string // values.yaml
	schema  string // values.schema.json, if any
	deps    []valDepSpec
	subs    []valChartSpec
}

// valDepSpec is one Chart.yaml dependency entry.
type valDepSpec struct {
	name, version, condition, alias string
	tags                            []string
	imports                         []any
}

// helm builds the spec as a Helm chart.
func (s valChartSpec) helm(t testing.TB) *helmchart.Chart {
	t.Helper()
	version := s.version
	if version == "" {
		version = "0.1.0"
	}
	c := &helmchart.Chart{Metadata: &helmchart.Metadata{Name: s.name, Version: version, APIVersion: "v2"}}
	if s.values != "" {
		if err := yaml.Unmarshal([]byte(s.values), &c.Values); err != nil {
			t.Fatalf("chart %s: values: %v", s.name, err)
		}
	}
	if s.schema != "" {
		c.Schema = []byte(s.schema)
	}
	for _, d := range s.deps {
		v := d.version
		if v == "" {
			v = "*"
		}
		c.Metadata.Dependencies = append(c.Metadata.Dependencies, &helmchart.Dependency{
			Name: d.name, Version: v, Condition: d.condition, Alias: d.alias,
			Tags: d.tags, ImportValues: d.imports,
		})
	}
	for _, sub := range s.subs {
		c.AddDependency(sub.helm(t))
	}
	return c
}

// both builds the spec twice: for Helm and, converted, for us.
func (s valChartSpec) both(t testing.TB) (*helmchart.Chart, *chart.Chart) {
	t.Helper()
	return s.helm(t), valFromHelm(s.helm(t))
}

// valYAML decodes a YAML document the way values files are decoded.
func valYAML(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("values %q: %v", s, err)
	}
	return m
}

// helmLog captures what Helm's code prints through the standard logger.
// Tests using it must not run in parallel with other Helm calls.
var valHelmLogMu sync.Mutex

func valCaptureHelmLog(f func()) []string {
	valHelmLogMu.Lock()
	defer valHelmLogMu.Unlock()
	var buf bytes.Buffer
	out, flags := log.Writer(), log.Flags()
	log.SetOutput(&buf)
	log.SetFlags(0)
	defer func() { log.SetOutput(out); log.SetFlags(flags) }()
	f()
	return valSplitLog(buf.String())
}

func valSplitLog(s string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	return lines
}

// valWarnings collects our warnings, sorted.
type valWarnings struct{ msgs []string }

func (w *valWarnings) add(msg string) { w.msgs = append(w.msgs, msg) }

func (w *valWarnings) sorted() []string {
	var out []string
	for _, m := range w.msgs {
		out = append(out, valSplitLog(m)...)
	}
	sort.Strings(out)
	return out
}

// valSameStrings compares two sorted lists, nil and empty alike.
func valSameStrings(a, b []string) bool {
	return len(a) == 0 && len(b) == 0 || reflect.DeepEqual(a, b)
}

// valSnapshot prints every chart's Values in the tree (fmt sorts map
// keys), keyed by chart path, to show later that nothing changed them.
func valSnapshot(c *chart.Chart) map[string]string {
	out := map[string]string{}
	var walk func(*chart.Chart, string)
	walk = func(c *chart.Chart, path string) {
		p := fmt.Sprintf("%s/%s", path, c.Name())
		out[p] = fmt.Sprintf("%#v", c.Values)
		for _, d := range c.Dependencies() {
			walk(d, p)
		}
	}
	walk(c, "")
	return out
}
