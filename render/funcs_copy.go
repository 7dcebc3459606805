package render

// sprig's deepCopy and mustDeepCopy copy through reflection
// (github.com/mitchellh/copystructure), which is most of what a common
// pattern, merging a chart's defaults into each of many items
// (mergeOverwrite (deepCopy .Values.defaults) ...), costs. For a values
// tree, maps of type map[string]any and lists of type []any holding
// scalars, copyValuesTree makes the same copy directly: the same types,
// nil maps and lists kept nil, lists with their capacity. Anything else
// goes to sprig's.

// copyFuncs returns deepCopy and mustDeepCopy with a direct path for
// values trees in front of sprig's (deep and mustDeep).
func copyFuncs(deep func(any) any, mustDeep func(any) (any, error)) (func(any) any, func(any) (any, error)) {
	return func(v any) any {
			if c, ok := copyValuesTree(v, 0); ok && v != nil {
				return c
			}
			return deep(v)
		}, func(v any) (any, error) {
			if c, ok := copyValuesTree(v, 0); ok && v != nil {
				return c, nil
			}
			return mustDeep(v)
		}
}

// copyTreeMaxDepth bounds the trees copyValuesTree copies; deeper ones
// (or cyclic ones) go to sprig's.
const copyTreeMaxDepth = 1000

// copyValuesTree deep-copies v if it is a values tree, or returns false.
func copyValuesTree(v any, depth int) (any, bool) {
	if depth > copyTreeMaxDepth {
		return nil, false
	}
	switch t := v.(type) {
	case nil, string, bool, float64, float32, int, int64, int32, int16, int8, uint, uint64, uint32, uint16, uint8:
		return v, true
	case map[string]any:
		if t == nil {
			return t, true
		}
		out := make(map[string]any, len(t))
		for k, e := range t {
			c, ok := copyValuesTree(e, depth+1)
			if !ok {
				return nil, false
			}
			out[k] = c
		}
		return out, true
	case []any:
		if t == nil {
			return t, true
		}
		out := make([]any, len(t), cap(t))
		for i, e := range t {
			c, ok := copyValuesTree(e, depth+1)
			if !ok {
				return nil, false
			}
			out[i] = c
		}
		return out, true
	}
	return nil, false
}
