package render

import (
	"path/filepath"
	"testing"

	helmchart "helm.sh/helm/v3/pkg/chart"
	helmloader "helm.sh/helm/v3/pkg/chart/loader"

	"pkg.dev/pkg/chart"

	"pkg.dev/pkg/internal/helmtest"
)

// valFromHelm converts a chart loaded by Helm's loader into our model,
// subcharts included, so that the values tests do not depend on our own
// loader. Dependency entries are copied (processing mutates them); file
// contents and values maps are shared.
func valFromHelm(hc *helmchart.Chart) *chart.Chart {
	c := &chart.Chart{
		Values:    hc.Values,
		Schema:    hc.Schema,
		Raw:       valConvFiles(hc.Raw),
		Templates: valConvFiles(hc.Templates),
		Files:     valConvFiles(hc.Files),
	}
	if m := hc.Metadata; m != nil {
		c.Metadata = &chart.Metadata{
			Name: m.Name, Home: m.Home, Sources: m.Sources, Version: m.Version,
			Description: m.Description, Keywords: m.Keywords, Icon: m.Icon,
			APIVersion: m.APIVersion, Condition: m.Condition, Tags: m.Tags,
			AppVersion: m.AppVersion, Deprecated: m.Deprecated, Annotations: m.Annotations,
			KubeVersion: m.KubeVersion, Type: m.Type,
			Dependencies: valConvDeps(m.Dependencies),
		}
		for _, mt := range m.Maintainers {
			c.Metadata.Maintainers = append(c.Metadata.Maintainers, &chart.Maintainer{Name: mt.Name, Email: mt.Email, URL: mt.URL})
		}
	}
	if hc.Lock != nil {
		c.Lock = &chart.Lock{Generated: hc.Lock.Generated, Digest: hc.Lock.Digest, Dependencies: valConvDeps(hc.Lock.Dependencies)}
	}
	for _, d := range hc.Dependencies() {
		c.AddDependency(valFromHelm(d))
	}
	return c
}

func valConvFiles(in []*helmchart.File) []*chart.File {
	var out []*chart.File
	for _, f := range in {
		out = append(out, &chart.File{Name: f.Name, Data: f.Data})
	}
	return out
}

func valConvDeps(in []*helmchart.Dependency) []*chart.Dependency {
	if in == nil {
		return nil
	}
	out := make([]*chart.Dependency, 0, len(in))
	for _, d := range in {
		if d == nil {
			out = append(out, nil)
			continue
		}
		out = append(out, &chart.Dependency{
			Name: d.Name, Version: d.Version, Repository: d.Repository,
			Condition: d.Condition, Tags: append([]string(nil), d.Tags...),
			Enabled: d.Enabled, ImportValues: append([]any(nil), d.ImportValues...), Alias: d.Alias,
		})
	}
	return out
}

// valHelmModule is Helm's module directory in the module cache.
var valHelmModule = helmtest.ModuleDir

// valHelmPath is the path of one of Helm's own test charts, relative to
// its module (e.g. "pkg/chartutil/testdata/subpop").
func valHelmPath(t testing.TB, rel string) string {
	t.Helper()
	dir, err := valHelmModule()
	if err != nil || dir == "" {
		t.Fatalf("locating helm.sh/helm/v3: %v", err)
	}
	return filepath.Join(dir, filepath.FromSlash(rel))
}

// valLoadHelm loads a chart with Helm's loader.
func valLoadHelm(t testing.TB, path string) *helmchart.Chart {
	t.Helper()
	hc, err := helmloader.Load(path)
	if err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	return hc
}

// valLoadBoth loads a chart twice with Helm's loader: once for Helm's side of
// a test and once, converted, for ours, so neither side sees the other's
// mutations.
func valLoadBoth(t testing.TB, path string) (*helmchart.Chart, *chart.Chart) {
	t.Helper()
	return valLoadHelm(t, path), valFromHelm(valLoadHelm(t, path))
}
