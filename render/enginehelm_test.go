package render

// Helpers that put Helm v3.22.0's engine and ours side by side on the same
// inputs. Helm is used as a library here only: never from non-test code.

import (
	"fmt"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	helmchart "helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	helmengine "helm.sh/helm/v3/pkg/engine"

	"pkg.dev/pkg/chart"

	"pkg.dev/pkg/internal/helmtest"
)

// engFromHelm converts a chart tree loaded by Helm's loader into ours.
func engFromHelm(hc *helmchart.Chart) *chart.Chart {
	c := &chart.Chart{
		Raw:       engFromHelmFiles(hc.Raw),
		Metadata:  engFromHelmMeta(hc.Metadata),
		Templates: engFromHelmFiles(hc.Templates),
		Values:    hc.Values,
		Schema:    hc.Schema,
		Files:     engFromHelmFiles(hc.Files),
	}
	if hc.Lock != nil {
		c.Lock = &chart.Lock{
			Generated:    hc.Lock.Generated,
			Digest:       hc.Lock.Digest,
			Dependencies: engFromHelmDeps(hc.Lock.Dependencies),
		}
	}
	for _, d := range hc.Dependencies() {
		c.AddDependency(engFromHelm(d))
	}
	return c
}

func engFromHelmFiles(in []*helmchart.File) []*chart.File {
	if in == nil {
		return nil
	}
	out := make([]*chart.File, len(in))
	for i, f := range in {
		if f != nil {
			out[i] = &chart.File{Name: f.Name, Data: f.Data}
		}
	}
	return out
}

func engFromHelmMeta(m *helmchart.Metadata) *chart.Metadata {
	if m == nil {
		return nil
	}
	out := &chart.Metadata{
		Name:         m.Name,
		Home:         m.Home,
		Sources:      m.Sources,
		Version:      m.Version,
		Description:  m.Description,
		Keywords:     m.Keywords,
		Icon:         m.Icon,
		APIVersion:   m.APIVersion,
		Condition:    m.Condition,
		Tags:         m.Tags,
		AppVersion:   m.AppVersion,
		Deprecated:   m.Deprecated,
		Annotations:  m.Annotations,
		KubeVersion:  m.KubeVersion,
		Dependencies: engFromHelmDeps(m.Dependencies),
		Type:         m.Type,
	}
	for _, mt := range m.Maintainers {
		if mt == nil {
			out.Maintainers = append(out.Maintainers, nil)
			continue
		}
		out.Maintainers = append(out.Maintainers, &chart.Maintainer{Name: mt.Name, Email: mt.Email, URL: mt.URL})
	}
	return out
}

func engFromHelmDeps(in []*helmchart.Dependency) []*chart.Dependency {
	if in == nil {
		return nil
	}
	out := make([]*chart.Dependency, len(in))
	for i, d := range in {
		if d == nil {
			continue
		}
		out[i] = &chart.Dependency{
			Name:         d.Name,
			Version:      d.Version,
			Repository:   d.Repository,
			Condition:    d.Condition,
			Tags:         d.Tags,
			Enabled:      d.Enabled,
			ImportValues: d.ImportValues,
			Alias:        d.Alias,
		}
	}
	return out
}

// engHelmCaps are Helm's default capabilities as its release binary
// has them (the library keeps Kubernetes v1.20 and version "v3.22").
func engHelmCaps() *chartutil.Capabilities {
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = chartutil.KubeVersion{Version: "v1.37.0", Major: "1", Minor: "37"}
	caps.HelmVersion.Version = "v3.22.0"
	caps.HelmVersion.GitCommit = ""
	caps.HelmVersion.GitTreeState = "clean"
	caps.HelmVersion.GoVersion = runtime.Version()
	return caps
}

// engHelmModule is where Go keeps Helm's module, for its test charts.
var engHelmModule = helmtest.ModuleDir

func engHelmPath(t testing.TB, rel string) string {
	t.Helper()
	dir, err := engHelmModule()
	if err != nil {
		t.Skip(err)
	}
	return filepath.Join(dir, filepath.FromSlash(rel))
}

// engPair is one chart as both engines see it, with the values to render.
type engPair struct {
	helm *helmchart.Chart
	ours *chart.Chart
	// vals are coalesced values (Helm's), copied for each render.
	vals map[string]any
	rel  chartutil.ReleaseOptions
}

// engLoadPair loads a chart with Helm's loader, processes its dependencies
// and coalesces overrides into its values as Helm's install does, then
// converts the processed tree to ours.
func engLoadPair(t testing.TB, path string, overrides map[string]any) (*engPair, error) {
	t.Helper()
	hc, err := loader.Load(path)
	if err != nil {
		return nil, fmt.Errorf("loading: %w", err)
	}
	return engProcessPair(hc, overrides)
}

func engProcessPair(hc *helmchart.Chart, overrides map[string]any) (*engPair, error) {
	if overrides == nil {
		overrides = map[string]any{}
	}
	if err := chartutil.ProcessDependenciesWithMerge(hc, overrides); err != nil {
		return nil, fmt.Errorf("processing dependencies: %w", err)
	}
	vals, err := chartutil.CoalesceValues(hc, overrides)
	if err != nil {
		return nil, fmt.Errorf("coalescing: %w", err)
	}
	return &engPair{
		helm: hc,
		ours: engFromHelm(hc),
		vals: vals,
		rel:  chartutil.ReleaseOptions{Name: "rel", Namespace: "ns", Revision: 1, IsInstall: true},
	}, nil
}

// engOptions are the engine options a differential test sets on both
// sides.
type engOptions struct {
	strict, lint, dns bool
}

// renderHelm renders p with Helm's engine.
func (p *engPair) renderHelm(o engOptions) (map[string]string, error) {
	if err := engCheckKubeVersion(p); err != nil {
		return nil, err
	}
	// ToRenderValues coalesces the values it is given with the chart's;
	// give it none and set exactly the values our engine gets.
	top, err := chartutil.ToRenderValuesWithSchemaValidation(p.helm, nil, p.rel, engHelmCaps(), true)
	if err != nil {
		return nil, err
	}
	top["Values"] = chartutil.Values(engCopyValues(p.vals))
	e := helmengine.Engine{Strict: o.strict, LintMode: o.lint, EnableDNS: o.dns}
	return e.Render(p.helm, top)
}

// renderOurs renders p with our engine.
func (p *engPair) renderOurs(e Engine) (map[string]string, error) {
	rel := ReleaseOptions{Name: p.rel.Name, Namespace: p.rel.Namespace, Revision: p.rel.Revision, IsUpgrade: p.rel.IsUpgrade, IsInstall: p.rel.IsInstall}
	if err := CheckKubeVersion(p.ours, nil); err != nil {
		return nil, err
	}
	top, err := RenderValues(p.ours, engCopyValues(p.vals), rel, nil)
	if err != nil {
		return nil, err
	}
	return e.Render(p.ours, top)
}

// engCopyValues deep-copies a values tree, keeping types.
func engCopyValues(v map[string]any) map[string]any {
	if v == nil {
		return nil
	}
	out := make(map[string]any, len(v))
	for k, e := range v {
		out[k] = engCopyValue(e)
	}
	return out
}

func engCopyValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return engCopyValues(t)
	case chartutil.Values:
		return chartutil.Values(engCopyValues(t))
	case Values:
		return Values(engCopyValues(t))
	case []any:
		if t == nil {
			return t
		}
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = engCopyValue(e)
		}
		return out
	}
	return v
}

// engCompare fails t unless both engines produced the same templates
// with the same text, or failed with the same message. With random set,
// lines that differ must still have the same structure (see engSameShape).
func engCompare(t testing.TB, want map[string]string, wantErr error, got map[string]string, gotErr error, random bool) {
	t.Helper()
	if wantErr != nil || gotErr != nil {
		if wantErr == nil || gotErr == nil || wantErr.Error() != gotErr.Error() {
			t.Fatalf("errors differ:\nhelm: %v\nours: %v", wantErr, gotErr)
		}
		t.Logf("both failed: %v", gotErr)
		return
	}
	var names []string
	for name := range want {
		names = append(names, name)
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		w, inWant := want[name]
		g, inGot := got[name]
		switch {
		case !inWant:
			t.Errorf("%s: rendered by us only", name)
		case !inGot:
			t.Errorf("%s: rendered by helm only", name)
		case w == g:
		case random && engSameShape(w, g):
		default:
			t.Errorf("%s differs:\n--- helm\n%s\n--- ours\n%s", name, w, g)
		}
	}
}

var (
	engPEMBlock   = regexp.MustCompile(`-----BEGIN ([A-Z ]+)-----[^-]*-----END ([A-Z ]+)-----`)
	engShapeToken = regexp.MustCompile(`[A-Za-z0-9+/=._-]+|[^A-Za-z0-9+/=._-]+`)
	engWordToken  = regexp.MustCompile(`^[A-Za-z0-9+/=._-]+$`)
)

// engSameShape compares texts that hold random values (keys, certificates,
// passwords, UUIDs): PEM blocks count as one token each, and lines that
// differ must split into the same punctuation with word tokens of the
// same length, or both long (encoded keys and certificates vary in size).
func engSameShape(a, b string) bool {
	a = engPEMBlock.ReplaceAllString(a, "PEM($1)")
	b = engPEMBlock.ReplaceAllString(b, "PEM($1)")
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(la) != len(lb) {
		return false
	}
	for i := range la {
		if la[i] == lb[i] {
			continue
		}
		ta, tb := engShapeToken.FindAllString(la[i], -1), engShapeToken.FindAllString(lb[i], -1)
		if len(ta) != len(tb) {
			return false
		}
		for j := range ta {
			x, y := ta[j], tb[j]
			if x == y {
				continue
			}
			if !engWordToken.MatchString(x) || !engWordToken.MatchString(y) {
				return false
			}
			if len(x) != len(y) && (len(x) < 40 || len(y) < 40) {
				return false
			}
		}
	}
	return true
}
