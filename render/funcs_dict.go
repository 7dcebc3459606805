package render

import (
	"fmt"
	"slices"
	"strconv"
)

// sprig's dict turns each key into a string, and a key that is not a
// string, []byte, error or fmt.Stringer with fmt's %v. Charts that key a
// dict by a map (to memoize by context, say) pay for fmt's reflection and
// sorting on every call. dictFunc is sprig's dict with a direct path that
// writes what %v writes for values trees; other keys go through fmt.

// dictFunc returns a dict function identical to sprig's.
func dictFunc(v ...any) map[string]any {
	d := make(map[string]any, (len(v)+1)/2)
	for i := 0; i < len(v); i += 2 {
		key := dictKey(v[i])
		if i+1 >= len(v) {
			d[key] = ""
			continue
		}
		d[key] = v[i+1]
	}
	return d
}

// dictKey is sprig's strval.
func dictKey(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case error:
		return v.Error()
	case fmt.Stringer:
		return v.String()
	}
	if b, ok := appendValueV(nil, v, 0); ok {
		return string(b)
	}
	return fmt.Sprintf("%v", v)
}

// appendValueVMaxDepth bounds the trees appendValueV formats.
const appendValueVMaxDepth = 100

// appendValueV appends what fmt's %v writes for v when v is a values
// tree (maps with string keys and lists of scalars), or returns false.
func appendValueV(b []byte, v any, depth int) ([]byte, bool) {
	if depth > appendValueVMaxDepth {
		return b, false
	}
	switch t := v.(type) {
	case nil:
		return append(b, "<nil>"...), true
	case string:
		return append(b, t...), true
	case bool:
		return strconv.AppendBool(b, t), true
	case int:
		return strconv.AppendInt(b, int64(t), 10), true
	case int64:
		return strconv.AppendInt(b, t, 10), true
	case float64:
		return strconv.AppendFloat(b, t, 'g', -1, 64), true
	case map[string]any:
		return appendMapV(b, t, depth)
	case Values:
		return appendMapV(b, t, depth)
	case []any:
		b = append(b, '[')
		for i, e := range t {
			if i > 0 {
				b = append(b, ' ')
			}
			var ok bool
			if b, ok = appendValueV(b, e, depth+1); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	}
	return b, false
}

// appendMapV writes a map as %v does: "map[k1:v1 k2:v2]", keys sorted.
func appendMapV(b []byte, m map[string]any, depth int) ([]byte, bool) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, "map["...)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, k...)
		b = append(b, ':')
		var ok bool
		if b, ok = appendValueV(b, m[k], depth+1); !ok {
			return b, false
		}
	}
	return append(b, ']'), true
}
