package render

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"pkg.dev/pkg/chart"
)

// Options configure one render of a chart, as `helm template` and the
// release actions configure Helm's.
type Options struct {
	// ReleaseName is .Release.Name; it must be a valid release name.
	ReleaseName string
	// Namespace is .Release.Namespace.
	Namespace string
	// Revision is .Release.Revision; 0 means 1.
	Revision int
	// IsUpgrade sets .Release.IsUpgrade instead of .Release.IsInstall.
	IsUpgrade bool
	// Capabilities are what templates see; nil means DefaultCapabilities().
	Capabilities *Capabilities
	// IncludeCRDs puts the files under crds/ (of the chart and its
	// subcharts) at the head of Manifest.
	IncludeCRDs bool
	// SkipSchemaValidation disables the values.schema.json checks.
	SkipSchemaValidation bool
	// SubchartNotes renders the NOTES.txt of subcharts too.
	SubchartNotes bool
	// Strict makes a missing value an error instead of an empty one.
	Strict bool
	// Lookup serves the lookup function; nil returns empty results, as
	// Helm does without a cluster.
	Lookup LookupFunc
	// Cache keeps parsed templates across renders; nil parses afresh.
	Cache *Cache
	// Schemas keeps compiled values schemas across renders; nil compiles
	// afresh.
	Schemas *SchemaCache
	// Warn receives the warnings Helm logs while processing values.
	Warn func(msg string)
}

// Result is a rendered chart.
type Result struct {
	// Manifest is every document that is not a hook, CRDs first when asked
	// for, each written as "---\n# Source: PATH\nBODY\n": the manifest a
	// Helm release stores. After a render error it holds what was rendered,
	// for debugging.
	Manifest string
	// Manifests are the documents that are not hooks, in install order.
	Manifests []Manifest
	// Hooks are the hook documents, in the order Helm lists them.
	Hooks []*Hook
	// CRDs are the crds/ files at the head of Manifest (IncludeCRDs only).
	CRDs []chart.CRD
	// Notes is the rendered NOTES.txt.
	Notes string
	// Values are the coalesced values the templates saw as .Values.
	Values Values
}

// Template renders c with the user's values vals (from -f and --set*) as
// `helm template` and `helm install` render it: dependencies are enabled,
// aliased and imported, values coalesced and checked against the schemas,
// the templates executed, and the output split into hooks and manifests in
// install order. c itself is not modified.
//
// Errors that happen once rendering has begun (the kubeVersion check, the
// templates, the YAML of their output) come back with a non-nil Result
// holding what was rendered, as Helm returns a partial release; `template`
// then suggests --debug to see it.
func Template(c *chart.Chart, vals map[string]any, opts Options) (*Result, error) {
	if err := ValidateReleaseName(opts.ReleaseName); err != nil {
		return nil, fmt.Errorf("release name %q: %w", opts.ReleaseName, err)
	}
	caps := opts.Capabilities
	if caps == nil {
		caps = DefaultCapabilities()
	}
	if vals == nil {
		vals = map[string]any{}
	}
	c = c.Clone()
	vp := ValuesProcessor{Warn: opts.Warn, Schemas: opts.Schemas}
	if err := vp.ProcessDependencies(c, vals); err != nil {
		return nil, err
	}
	coalesced, err := vp.CoalesceValues(c, vals)
	if err != nil {
		return nil, err
	}
	if !opts.SkipSchemaValidation {
		if err := vp.ValidateAgainstSchema(c, coalesced); err != nil {
			return nil, fmt.Errorf("values don't meet the specifications of the schema(s) in the following chart(s):\n%w", err)
		}
	}
	rev := opts.Revision
	if rev == 0 {
		rev = 1
	}
	res := &Result{Values: coalesced}
	if err := CheckKubeVersion(c, caps); err != nil {
		return res, err
	}
	top, err := RenderValues(c, coalesced, ReleaseOptions{
		Name:      opts.ReleaseName,
		Namespace: opts.Namespace,
		Revision:  rev,
		IsInstall: !opts.IsUpgrade,
		IsUpgrade: opts.IsUpgrade,
	}, caps)
	if err != nil {
		return res, err
	}
	eng := Engine{Strict: opts.Strict, Lookup: opts.Lookup, Cache: opts.Cache}
	files, err := eng.Render(c, top)
	if err != nil {
		return res, err
	}
	res.Notes = extractNotes(files, c.Name(), opts.SubchartNotes)

	hooks, manifests, err := SortManifests(files, InstallOrder())
	if err != nil {
		// Give the user everything that rendered, to find the bad YAML.
		var b strings.Builder
		for _, name := range sortedKeys(files) {
			if strings.TrimSpace(files[name]) == "" {
				continue
			}
			fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", name, files[name])
		}
		res.Manifest = b.String()
		return res, err
	}
	res.Hooks, res.Manifests = hooks, manifests

	var b strings.Builder
	if opts.IncludeCRDs {
		res.CRDs = c.CRDObjects()
		for _, crd := range res.CRDs {
			fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", crd.Filename, crd.File.Data)
		}
	}
	for _, m := range manifests {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.Name, m.Content)
	}
	res.Manifest = b.String()
	return res, nil
}

// extractNotes removes every NOTES.txt from files and returns the root
// chart's (and, with subNotes, every chart's, joined by newlines).
func extractNotes(files map[string]string, chartName string, subNotes bool) string {
	const suffix = "NOTES.txt"
	rootNotes := path.Join(chartName, "templates", suffix)
	var b strings.Builder
	for _, k := range sortedKeys(files) {
		if !strings.HasSuffix(k, suffix) {
			continue
		}
		if subNotes || k == rootNotes {
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(files[k])
		}
		delete(files, k)
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// CheckDependencies reports the dependencies Chart.yaml lists that are not
// present under charts/, as Helm checks before installing.
func CheckDependencies(c *chart.Chart) error {
	if missing := c.MissingDependencies(); len(missing) > 0 {
		return fmt.Errorf("found in Chart.yaml, but missing in charts/ directory: %s", strings.Join(missing, ", "))
	}
	return nil
}
