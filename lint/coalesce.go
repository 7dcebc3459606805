package lint

// coalesceTables merges src into dst, dst winning, as Helm's
// chartutil.CoalesceTables does for the values rule, and returns dst.
// Nested tables present on both sides are merged into dst's own table in
// place, so a caller's nested override tables receive the defaults of
// src; a key dst sets to null is dropped when src has a value for it.
// render.CoalesceValues never changes its input; the values rule needs
// this in-place merge because Helm's lint hands the modified overrides to
// the later rules and to the next chart.
func coalesceTables(dst, src map[string]any) map[string]any {
	if src == nil {
		return dst
	}
	if dst == nil {
		return src
	}
	srcHad := make(map[string]bool, len(src))
	for k, v := range src {
		if v != nil {
			srcHad[k] = true
		}
	}
	for k, v := range dst {
		if v == nil {
			src[k] = nil
		}
	}
	for k, sv := range src {
		dv, ok := dst[k]
		switch {
		case ok && dv == nil && srcHad[k]:
			// The user nulled a default: the key goes away.
			delete(dst, k)
		case !ok:
			dst[k] = sv
		default:
			st, sIsTable := sv.(map[string]any)
			dt, dIsTable := dv.(map[string]any)
			if sIsTable && dIsTable {
				coalesceTables(dt, st)
			}
			// A table cannot replace a value or a value a table: dst wins.
		}
	}
	return dst
}
