package apiserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"pkg.dev/pkg/orchestrator/store"
)

// object is a decoded Kubernetes object in its JSON form.
type object = map[string]any

// decodeObject parses JSON into an object, keeping numbers exact.
func decodeObject(data []byte) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var o object
	if err := dec.Decode(&o); err != nil {
		return nil, err
	}
	if o == nil {
		return nil, fmt.Errorf("object is null")
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the object")
	}
	return o, nil
}

// fromKV decodes a stored object and stamps its resourceVersion with the
// revision that last changed it.
func fromKV(kv store.KV) (object, error) {
	o, err := decodeObject(kv.Value)
	if err != nil {
		return nil, fmt.Errorf("decoding stored object %s: %w", kv.Key, err)
	}
	meta(o)["resourceVersion"] = strconv.FormatInt(kv.ModRev, 10)
	return o, nil
}

// storedBytes encodes o for the store, without its resourceVersion.
func storedBytes(o object) ([]byte, error) {
	m := meta(o)
	rv, had := m["resourceVersion"]
	delete(m, "resourceVersion")
	data, err := json.Marshal(o)
	if had {
		m["resourceVersion"] = rv
	}
	return data, err
}

// meta returns o's metadata map, creating it if needed.
func meta(o object) map[string]any {
	m, ok := o["metadata"].(map[string]any)
	if !ok {
		m = map[string]any{}
		o["metadata"] = m
	}
	return m
}

// deepCopy copies o through JSON.
func deepCopy(o object) object {
	data, err := json.Marshal(o)
	if err != nil {
		return nil
	}
	c, err := decodeObject(data)
	if err != nil {
		return nil
	}
	return c
}

// equalJSON reports whether a and b encode to the same JSON.
func equalJSON(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return jsonBytesEqual(a, b)
		}
		if len(x) != len(y) || (x == nil) != (y == nil) { // null is not {} or []
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equalJSON(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok {
			return jsonBytesEqual(a, b)
		}
		if len(x) != len(y) || (x == nil) != (y == nil) { // null is not {} or []
			return false
		}
		for i := range x {
			if !equalJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case string:
		if y, ok := b.(string); ok {
			return x == y
		}
	case bool:
		if y, ok := b.(bool); ok {
			return x == y
		}
	case nil:
		if b == nil {
			return true
		}
	case json.Number:
		if y, ok := b.(json.Number); ok && x == y {
			return true
		}
	}
	// Values of other types, or of different types (a json.Number and an
	// int64, say), are equal when their encodings are.
	return jsonBytesEqual(a, b)
}

// jsonBytesEqual compares the JSON encodings of a and b.
func jsonBytesEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// get walks a path of map keys from v and returns what it finds, nil when
// the path does not exist.
func get(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// str returns the string at path, "" when absent or not a string.
func str(v any, path ...string) string {
	s, _ := get(v, path...).(string)
	return s
}

// num returns the integer at path, 0 when absent.
func num(v any, path ...string) int64 {
	switch n := get(v, path...).(type) {
	case json.Number:
		i, _ := n.Int64()
		return i
	case float64:
		return int64(n)
	case int64:
		return n
	case int32:
		return int64(n)
	case int:
		return int64(n)
	}
	return 0
}

// slice returns the list at path, nil when absent.
func slice(v any, path ...string) []any {
	s, _ := get(v, path...).([]any)
	return s
}

// mapOf returns the map at path, nil when absent.
func mapOf(v any, path ...string) map[string]any {
	m, _ := get(v, path...).(map[string]any)
	return m
}

// stringMap returns the map of strings at path, such as labels.
func stringMap(v any, path ...string) map[string]string {
	m := mapOf(v, path...)
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, x := range m {
		if s, ok := x.(string); ok {
			out[k] = s
		}
	}
	return out
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// specOf returns o without metadata and status: the part of the object
// whose changes bump metadata.generation.
func specOf(o object) map[string]any {
	out := make(map[string]any, len(o))
	for k, v := range o {
		switch k {
		case "metadata", "status", "apiVersion", "kind":
			continue
		}
		out[k] = v
	}
	return out
}
