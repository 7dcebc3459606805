package render

import (
	"fmt"

	"pkg.dev/pkg/chart"
)

// CoalesceValues computes the values a chart is rendered with, as Helm's
// chartutil.CoalesceValues does: the user's vals win over each chart's
// defaults; tables merge while scalars and lists replace; each subchart's
// section is coalesced with that subchart's defaults; the global table
// flows down into every subchart; and a null from the user deletes the key
// it names. Warnings are discarded; use ValuesProcessor to receive them.
//
// Neither vals nor the charts' Values are modified, and the result shares
// no maps or lists with them, so it may be changed freely.
func CoalesceValues(c *chart.Chart, vals map[string]any) (Values, error) {
	return ValuesProcessor{}.CoalesceValues(c, vals)
}

// MergeValues is CoalesceValues keeping nulls instead of deleting keys,
// as Helm's chartutil.MergeValues does for upgrades that reuse values.
func MergeValues(c *chart.Chart, vals map[string]any) (Values, error) {
	return ValuesProcessor{}.MergeValues(c, vals)
}

// CoalesceValues is the package-level CoalesceValues reporting warnings.
func (p ValuesProcessor) CoalesceValues(c *chart.Chart, vals map[string]any) (Values, error) {
	return p.coalesceRoot(c, vals, false)
}

// MergeValues is the package-level MergeValues reporting warnings.
func (p ValuesProcessor) MergeValues(c *chart.Chart, vals map[string]any) (Values, error) {
	return p.coalesceRoot(c, vals, true)
}

func (p ValuesProcessor) coalesceRoot(c *chart.Chart, vals map[string]any, keepNulls bool) (Values, error) {
	dest := copyMap(vals)
	if dest == nil {
		dest = map[string]any{}
	}
	co := coalescer{p: p, keepNulls: keepNulls}
	if err := co.chart(c, dest, ""); err != nil {
		return nil, err
	}
	return dest, nil
}

// coalescer carries one coalescing pass. Its methods change the values
// tree they are given in place; that tree must belong to the pass (a copy
// of the user's values). A chart's own Values are only read: whatever is
// taken from them is copied.
type coalescer struct {
	p ValuesProcessor
	// keepNulls is MergeValues' mode: a user null stays a null.
	keepNulls bool
}

// chart coalesces c's defaults and then its subcharts into dest.
func (co coalescer) chart(c *chart.Chart, dest map[string]any, prefix string) error {
	co.defaults(c, dest, prefix)
	return co.subcharts(c, dest, prefix)
}

// subcharts coalesces each subchart of c into its section of dest, after
// handing it the globals.
func (co coalescer) subcharts(c *chart.Chart, dest map[string]any, prefix string) error {
	for _, sub := range c.Dependencies() {
		name := sub.Name()
		cur, ok := dest[name]
		if !ok {
			cur = map[string]any{}
			dest[name] = cur
		}
		section, ok := cur.(map[string]any)
		if !ok {
			return fmt.Errorf("type mismatch on %s: %t", name, cur)
		}
		subPrefix := joinKey(prefix, c.Name())
		co.globals(section, dest, subPrefix)
		if err := co.chart(sub, section, subPrefix); err != nil {
			return err
		}
	}
	return nil
}

// globals merges the global table of parent into the one of section: the
// parent's entries win, tables merging one level deep as Helm merges them.
func (co coalescer) globals(section, parent map[string]any, prefix string) {
	var to, from map[string]any
	switch g := section[GlobalKey].(type) {
	case nil:
		if _, ok := section[GlobalKey]; ok {
			co.p.warnf("warning: skipping globals because destination %s is not a table.", GlobalKey)
			return
		}
		to = map[string]any{}
	case map[string]any:
		to = g
	default:
		co.p.warnf("warning: skipping globals because destination %s is not a table.", GlobalKey)
		return
	}
	switch g := parent[GlobalKey].(type) {
	case nil:
		if _, ok := parent[GlobalKey]; ok {
			co.p.warnf("warning: skipping globals because source %s is not a table.", GlobalKey)
			return
		}
		from = map[string]any{}
	case map[string]any:
		from = g
	default:
		co.p.warnf("warning: skipping globals because source %s is not a table.", GlobalKey)
		return
	}
	for key, val := range from {
		table, ok := val.(map[string]any)
		if !ok {
			if cur, ok := to[key]; ok && isTable(cur) {
				co.p.warnf("key %s is table. Skipping", key)
			} else {
				to[key] = val
			}
			continue
		}
		// Helm copies the parent's table one level deep only; deeper
		// tables stay shared with the parent's globals, and merging the
		// subchart's own globals into them shows through there too.
		top := make(map[string]any, len(table))
		for k, v := range table {
			top[k] = v
		}
		cur, ok := to[key]
		if !ok {
			to[key] = top
			continue
		}
		curTable, ok := cur.(map[string]any)
		if !ok {
			co.p.warnf("Conflict: cannot merge map onto non-map for %q. Skipping.", key)
			continue
		}
		co.tables(top, curTable, joinKey(prefix, key), true, false)
		to[key] = top
	}
	section[GlobalKey] = to
}

// defaults fills dest with the defaults of chart c that the user did not
// set, merging tables; a user null deletes the key unless keepNulls.
func (co coalescer) defaults(c *chart.Chart, dest map[string]any, prefix string) {
	subPrefix := joinKey(prefix, c.Name())
	for key, def := range c.Values {
		cur, ok := dest[key]
		if !ok {
			dest[key] = copyTree(def)
			continue
		}
		if cur == nil {
			if !co.keepNulls {
				delete(dest, key)
			}
			continue
		}
		curTable, ok := cur.(map[string]any)
		if !ok {
			continue
		}
		defTable, ok := def.(map[string]any)
		if !ok {
			if def != nil {
				co.p.warnf("warning: skipped value for %s.%s: Not a table.", subPrefix, key)
			}
			continue
		}
		// A subchart's section keeps its nulls here: they are dealt
		// with when the subchart itself is coalesced.
		keep := co.keepNulls || isSubchartName(c, key)
		co.tables(curTable, defTable, joinKey(subPrefix, key), keep, true)
	}
}

// isSubchartName reports whether c has a subchart called name.
func isSubchartName(c *chart.Chart, name string) bool {
	for _, sub := range c.Dependencies() {
		if sub.Name() == name {
			return true
		}
	}
	return false
}

// tables merges src under dst, which wins, and returns dst (or src when
// dst is nil). A null in dst deletes the key when src has a value for it,
// unless keepNulls. With copySrc, what is taken from src is deep-copied;
// without, it is shared, as Helm shares it.
func (co coalescer) tables(dst, src map[string]any, prefix string, keepNulls, copySrc bool) map[string]any {
	if src == nil {
		return dst
	}
	if dst == nil {
		return src
	}
	for key, val := range src {
		cur, ok := dst[key]
		switch {
		case !ok:
			if copySrc {
				val = copyTree(val)
			}
			dst[key] = val
		case cur == nil:
			if !keepNulls && val != nil {
				delete(dst, key)
			}
		case isTable(val):
			if curTable, ok := cur.(map[string]any); ok {
				co.tables(curTable, val.(map[string]any), joinKey(prefix, key), keepNulls, copySrc)
			} else {
				co.p.warnf("warning: cannot overwrite table with non table for %s (%v)", joinKey(prefix, key), val)
			}
		case isTable(cur) && val != nil:
			co.p.warnf("warning: destination for %s is a table. Ignoring non-table value (%v)", joinKey(prefix, key), val)
		}
	}
	return dst
}

// joinKey joins two parts of a dotted key, either of which may be empty
// ("" and "a" give "a").
func joinKey(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// CoalesceTables merges src under dst as Helm's chartutil.CoalesceTables
// does: dst's values win, src fills in the keys dst lacks, tables merge
// recursively, and a null in dst deletes the key src would fill. dst is
// changed and returned; what is taken from src is copied.
func CoalesceTables(dst, src map[string]any) map[string]any {
	return coalescer{}.tables(dst, src, "", false, true)
}
