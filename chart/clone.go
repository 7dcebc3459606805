package chart

// Clone returns a copy of the chart tree that can be changed without
// touching c: the tree itself (every Chart, its Metadata and dependency
// entries, Lock and the file lists) is copied, while file contents and
// values maps are shared. Value processing rewrites a chart's subchart list,
// dependency entries and Values field, so render works on a clone and a
// loaded chart can be rendered any number of times.
func (c *Chart) Clone() *Chart {
	if c == nil {
		return nil
	}
	out := *c
	out.parent = nil
	if c.Metadata != nil {
		m := *c.Metadata
		m.Dependencies = cloneDependencies(c.Metadata.Dependencies)
		out.Metadata = &m
	}
	if c.Lock != nil {
		l := *c.Lock
		l.Dependencies = cloneDependencies(c.Lock.Dependencies)
		out.Lock = &l
	}
	out.Raw = append([]*File(nil), c.Raw...)
	out.Templates = append([]*File(nil), c.Templates...)
	out.Files = append([]*File(nil), c.Files...)
	out.dependencies = nil
	for _, d := range c.dependencies {
		out.AddDependency(d.Clone())
	}
	return &out
}

func cloneDependencies(deps []*Dependency) []*Dependency {
	if deps == nil {
		return nil
	}
	out := make([]*Dependency, len(deps))
	for i, d := range deps {
		if d == nil {
			continue
		}
		cp := *d
		cp.Tags = append([]string(nil), d.Tags...)
		cp.ImportValues = append([]any(nil), d.ImportValues...)
		out[i] = &cp
	}
	return out
}
