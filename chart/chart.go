package chart

import (
	"path"
	"strings"
)

// APIVersionV1 and APIVersionV2 are the chart API versions Helm 3 accepts.
const (
	APIVersionV1 = "v1"
	APIVersionV2 = "v2"
)

// Chart types.
const (
	TypeApplication = "application"
	TypeLibrary     = "library"
)

// File is one file of a chart: its path relative to the chart root, with
// forward slashes, and its contents.
type File struct {
	Name string
	Data []byte
}

// Chart is a loaded chart. Subcharts are held in a tree: Dependencies lists
// the charts found under charts/, and Parent points back up.
type Chart struct {
	// Raw holds every file of the chart as loaded, templates included, in
	// load order. It is what `show` and packaging read.
	Raw []*File
	// Metadata is the parsed Chart.yaml (requirements.yaml folded in for
	// apiVersion v1 charts).
	Metadata *Metadata
	// Lock is the parsed Chart.lock (requirements.lock for v1), or nil.
	Lock *Lock
	// Templates are the files under templates/, in load order (for a
	// directory, lexical order component by component), as in Helm.
	Templates []*File
	// Values are the chart's default values from values.yaml.
	Values map[string]any
	// Schema is the raw values.schema.json, or nil.
	Schema []byte
	// Files are the remaining files: everything that is not Chart.yaml,
	// values.yaml, values.schema.json, a template or part of a subchart.
	// This is what .Files serves to templates.
	Files []*File

	parent       *Chart
	dependencies []*Chart
}

// Name returns the chart's name from its metadata, or "".
func (c *Chart) Name() string {
	if c == nil || c.Metadata == nil {
		return ""
	}
	return c.Metadata.Name
}

// AppVersion returns the chart's appVersion, or "".
func (c *Chart) AppVersion() string {
	if c == nil || c.Metadata == nil {
		return ""
	}
	return c.Metadata.AppVersion
}

// IsRoot reports whether the chart has no parent.
func (c *Chart) IsRoot() bool { return c.parent == nil }

// Parent returns the chart's parent, or nil for the root.
func (c *Chart) Parent() *Chart { return c.parent }

// Root returns the top of the tree the chart belongs to.
func (c *Chart) Root() *Chart {
	for c.parent != nil {
		c = c.parent
	}
	return c
}

// Dependencies returns the subcharts loaded under charts/.
func (c *Chart) Dependencies() []*Chart { return c.dependencies }

// AddDependency appends subcharts and makes c their parent.
func (c *Chart) AddDependency(charts ...*Chart) {
	for _, d := range charts {
		d.parent = c
		c.dependencies = append(c.dependencies, d)
	}
}

// SetDependencies replaces the subcharts, making c their parent.
func (c *Chart) SetDependencies(charts ...*Chart) {
	c.dependencies = nil
	c.AddDependency(charts...)
}

// IsLibrary reports whether the chart is of type library.
func (c *Chart) IsLibrary() bool {
	return c.Metadata != nil && c.Metadata.Type == TypeLibrary
}

// ChartPath is the chart's position in the tree as Helm names it in
// template names and .Template.BasePath: "root.charts.sub.charts.leaf".
func (c *Chart) ChartPath() string {
	if c.parent == nil {
		return c.Name()
	}
	return c.parent.ChartPath() + "." + c.Name()
}

// ChartFullPath is the chart's position as a path: "root/charts/sub".
func (c *Chart) ChartFullPath() string {
	if c.parent == nil {
		return c.Name()
	}
	return c.parent.ChartFullPath() + "/charts/" + c.Name()
}

// CRDs returns the files under crds/ with a .yaml, .yml or .json
// extension (in any letter case, as Helm), in load order.
func (c *Chart) CRDs() []*File {
	var out []*File
	for _, f := range c.Files {
		if !strings.HasPrefix(f.Name, "crds/") {
			continue
		}
		switch strings.ToLower(path.Ext(f.Name)) {
		case ".yaml", ".yml", ".json":
			out = append(out, f)
		}
	}
	return out
}

// CRD is one CRD file with the chart it belongs to.
type CRD struct {
	// Name is the file's path within its chart, such as "crds/foo.yaml".
	Name string
	// Filename is the path from the root chart, such as
	// "root/charts/sub/crds/foo.yaml", as Helm prints it in `# Source:`.
	Filename string
	File     *File
}

// CRDObjects returns the CRD files of the chart and of all its subcharts,
// the chart's own first, then each subchart's in dependency order.
func (c *Chart) CRDObjects() []CRD {
	var out []CRD
	for _, f := range c.CRDs() {
		out = append(out, CRD{Name: f.Name, Filename: path.Join(c.ChartFullPath(), f.Name), File: f})
	}
	for _, d := range c.dependencies {
		out = append(out, d.CRDObjects()...)
	}
	return out
}

// MissingDependencies names the dependencies Chart.yaml declares that are
// not present under charts/, in declaration order.
func (c *Chart) MissingDependencies() []string {
	if c.Metadata == nil {
		return nil
	}
	have := map[string]bool{}
	for _, d := range c.dependencies {
		have[d.Name()] = true
	}
	var missing []string
	for _, r := range c.Metadata.Dependencies {
		if r != nil && !have[r.Name] {
			missing = append(missing, r.Name)
		}
	}
	return missing
}
