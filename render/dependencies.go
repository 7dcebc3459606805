package render

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"

	"pkg.dev/pkg/chart"
)

// ProcessDependencies prepares a chart tree for rendering as Helm's
// chartutil.ProcessDependenciesWithMerge does, given the user's values:
//
//   - each Chart.yaml dependency is matched to a loaded subchart by name
//     and version range; an aliased one is replaced by a copy named after
//     its alias (the subchart's templates and files are shared, not copied);
//   - tags and then conditions, read from the coalesced values, enable or
//     disable dependencies, and disabled subcharts are dropped;
//   - import-values (a string "x" for the child's exports.x, or a
//     {child, parent} map) are copied from each subchart into its parent's
//     values, under the parent's own values.
//
// Like Helm, it changes the tree in place: the subchart lists, each
// dependency entry's Name, Enabled and ImportValues, and the Values of
// every chart that declares dependencies (which become its merged values,
// subchart sections and globals included). The maps the Values fields held
// before are not modified, only replaced. It works on a freshly loaded
// chart; to keep a loaded chart pristine (say, to render it again with
// other values), load it again or process a copy of the tree.
func ProcessDependencies(c *chart.Chart, vals map[string]any) error {
	return ValuesProcessor{}.ProcessDependencies(c, vals)
}

// ProcessDependencies is the package-level ProcessDependencies reporting
// warnings.
func (p ValuesProcessor) ProcessDependencies(c *chart.Chart, vals map[string]any) error {
	if err := p.enableDependencies(c, vals, ""); err != nil {
		return err
	}
	return p.importAll(c)
}

// compatible reports whether version satisfies the range constraint; an
// unparsable version or range is not compatible.
func compatible(constraint, version string) bool {
	v, err := semver.NewVersion(version)
	if err != nil {
		return false
	}
	r, err := semver.NewConstraint(constraint)
	if err != nil {
		return false
	}
	return r.Check(v)
}

// matches reports whether the loaded subchart sub satisfies dependency d.
func matches(sub *chart.Chart, d *chart.Dependency) bool {
	return sub != nil && sub.Metadata != nil && sub.Name() == d.Name && compatible(d.Version, sub.Metadata.Version)
}

// aliasCopy returns a shallow copy of the first subchart matching d, named
// after d's alias if it has one, or nil if none matches.
func aliasCopy(subs []*chart.Chart, d *chart.Dependency) *chart.Chart {
	for _, sub := range subs {
		if !matches(sub, d) {
			continue
		}
		cp := *sub
		md := *sub.Metadata
		cp.Metadata = &md
		if d.Alias != "" {
			md.Name = d.Alias
		}
		return &cp
	}
	return nil
}

// enableDependencies resolves aliases, evaluates tags and conditions and
// drops disabled subcharts, recursively. vals are the values seen from
// the root; path is c's position in them ("sub.subsub.").
func (p ValuesProcessor) enableDependencies(c *chart.Chart, vals map[string]any, path string) error {
	if c.Metadata == nil || c.Metadata.Dependencies == nil {
		return nil
	}
	reqs := c.Metadata.Dependencies

	// Subcharts that no dependency entry claims are kept as they are;
	// claimed ones are replaced by their (possibly aliased) copies.
	var subs []*chart.Chart
	for _, sub := range c.Dependencies() {
		claimed := false
		for _, d := range reqs {
			if d != nil && matches(sub, d) {
				claimed = true
				break
			}
		}
		if !claimed {
			subs = append(subs, sub)
		}
	}
	for _, d := range reqs {
		if d == nil {
			continue
		}
		if cp := aliasCopy(c.Dependencies(), d); cp != nil {
			subs = append(subs, cp)
		}
		if d.Alias != "" {
			d.Name = d.Alias
		}
	}
	c.SetDependencies(subs...)

	for _, d := range reqs {
		if d != nil {
			d.Enabled = true
		}
	}
	cvals, err := p.CoalesceValues(c, vals)
	if err != nil {
		return err
	}
	p.applyTags(reqs, cvals)
	p.applyConditions(reqs, cvals, path)

	disabled := map[string]bool{}
	for _, d := range reqs {
		if d != nil && !d.Enabled {
			disabled[d.Name] = true
		}
	}
	var keep []*chart.Chart
	for _, sub := range subs {
		if !disabled[sub.Name()] {
			keep = append(keep, sub)
		}
	}
	var keepReqs []*chart.Dependency
	for _, d := range reqs {
		if d != nil && !disabled[d.Name] {
			keepReqs = append(keepReqs, d)
		}
	}
	for _, sub := range keep {
		if err := p.enableDependencies(sub, cvals, path+sub.Name()+"."); err != nil {
			return err
		}
	}
	c.Metadata.Dependencies = keepReqs
	c.SetDependencies(keep...)
	return nil
}

// applyTags enables or disables dependencies from the "tags" table: a
// dependency is disabled when at least one of its tags is false and none
// is true, and enabled otherwise.
func (p ValuesProcessor) applyTags(reqs []*chart.Dependency, vals Values) {
	tags, err := vals.Table("tags")
	if err != nil {
		return
	}
	for _, d := range reqs {
		if d == nil {
			continue
		}
		var anyTrue, anyFalse bool
		for _, tag := range d.Tags {
			v, ok := tags[tag]
			if !ok {
				continue
			}
			b, ok := v.(bool)
			switch {
			case !ok:
				p.warnf("Warning: Tag '%s' for chart %s returned non-bool value", tag, d.Name)
			case b:
				anyTrue = true
			default:
				anyFalse = true
			}
		}
		d.Enabled = anyTrue || !anyFalse
	}
}

// applyConditions sets each dependency's Enabled from the first of its
// comma-separated condition paths that holds a bool.
func (p ValuesProcessor) applyConditions(reqs []*chart.Dependency, vals Values, path string) {
	for _, d := range reqs {
		if d == nil {
			continue
		}
		for _, cond := range strings.Split(strings.TrimSpace(d.Condition), ",") {
			if cond == "" {
				continue
			}
			v, err := vals.PathValue(path + cond)
			if err != nil {
				if _, ok := err.(ErrNoValue); !ok {
					p.warnf("Warning: PathValue returned error %v", err)
				}
				continue
			}
			if b, ok := v.(bool); ok {
				d.Enabled = b
				break
			}
			p.warnf("Warning: Condition path '%s' for chart %s returned non-bool value", cond, d.Name)
		}
	}
}

// importAll runs import-values bottom up: subcharts first.
func (p ValuesProcessor) importAll(c *chart.Chart) error {
	for _, sub := range c.Dependencies() {
		if err := p.importAll(sub); err != nil {
			return err
		}
	}
	return p.importValues(c)
}

// importValues replaces c.Values by its merged values with the
// import-values of its dependencies merged under them, and rewrites every
// import-values entry in the {child, parent} form Helm leaves behind.
func (p ValuesProcessor) importValues(c *chart.Chart) error {
	if c.Metadata == nil || c.Metadata.Dependencies == nil {
		return nil
	}
	merged, err := p.MergeValues(c, nil)
	if err != nil {
		return err
	}
	co := coalescer{p: p, keepNulls: true}
	imported := map[string]any{}
	for _, d := range c.Metadata.Dependencies {
		if d == nil {
			continue
		}
		var rewritten []any
		for _, iv := range d.ImportValues {
			switch iv := iv.(type) {
			case map[string]any:
				child := fmt.Sprintf("%v", iv["child"])
				parent := fmt.Sprintf("%v", iv["parent"])
				rewritten = append(rewritten, map[string]string{"child": child, "parent": parent})
				table, err := merged.Table(d.Name + "." + child)
				if err != nil {
					p.warnf("Warning: ImportValues missing table from chart %s: %v", d.Name, err)
					continue
				}
				imported = co.tables(imported, nestUnder(parent, table.AsMap()), "", true, false)
			case string:
				child := "exports." + iv
				rewritten = append(rewritten, map[string]string{"child": child, "parent": "."})
				table, err := merged.Table(d.Name + "." + child)
				if err != nil {
					p.warnf("Warning: ImportValues missing table: %v", err)
					continue
				}
				imported = co.tables(imported, table.AsMap(), "", true, false)
			}
		}
		d.ImportValues = rewritten
	}
	// Imports rank below the parent's own values. The merged values are
	// copied first because the imports may share tables with them; with
	// nothing imported they are the result as they are.
	if len(imported) == 0 {
		c.Values = merged
		return nil
	}
	c.Values = co.tables(copyMap(merged), imported, "", true, false)
	return nil
}

// nestUnder returns data placed under a dotted path ("a.b" gives
// {a: {b: data}}); the path "." returns data itself.
func nestUnder(path string, data map[string]any) map[string]any {
	if path == "." {
		return data
	}
	keys := strings.Split(path, ".")
	out := data
	for i := len(keys) - 1; i >= 0; i-- {
		out = map[string]any{keys[i]: out}
	}
	return out
}
