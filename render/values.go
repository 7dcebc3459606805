package render

import (
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"
)

// GlobalKey is the values key whose table is shared with every subchart.
const GlobalKey = "global"

// Values is a tree of chart values as decoded from YAML: maps are
// map[string]any, lists are []any.
type Values map[string]any

// ReadValues decodes a YAML document into Values as Helm does (through
// sigs.k8s.io/yaml, so numbers become float64). An empty or null document
// yields an empty, non-nil Values. Errors carry the YAML line, in Helm's
// words ("error converting YAML to JSON: yaml: line 3: ...").
func ReadValues(data []byte) (Values, error) {
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return Values{}, nil
	}
	return Values(m), nil
}

// YAML encodes the values as YAML with sorted keys, as Helm does.
func (v Values) YAML() (string, error) {
	b, err := yaml.Marshal(v)
	return string(b), err
}

// Encode writes the values to w as YAML, as YAML returns them.
func (v Values) Encode(w io.Writer) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// AsMap returns v as a plain map, never nil.
func (v Values) AsMap() map[string]any {
	if len(v) == 0 {
		return map[string]any{}
	}
	return v
}

// Table returns the table at a dotted path such as "foo.bar". When an
// element is missing or not a table it returns ErrNoTable naming that
// element; like Helm, the table returned alongside the error is the last
// one reached when the element is missing, and an empty one when the
// element exists but is not a table.
func (v Values) Table(path string) (Values, error) {
	t := v
	for _, key := range strings.Split(path, ".") {
		next, err := t.child(key)
		if err != nil {
			return next, err
		}
		t = next
	}
	return t, nil
}

// child returns the table stored under key.
func (v Values) child(key string) (Values, error) {
	val, ok := v[key]
	if !ok {
		return v, ErrNoTable{Key: key}
	}
	switch t := val.(type) {
	case map[string]any:
		return t, nil
	case Values:
		return t, nil
	}
	return Values{}, ErrNoTable{Key: key}
}

// PathValue returns the value at a dotted path such as "chapter.one.title".
// The value must not itself be a table: for a table, or a missing key, it
// returns ErrNoValue naming the last path element.
func (v Values) PathValue(path string) (any, error) {
	if path == "" {
		return nil, errEmptyPath
	}
	keys := strings.Split(path, ".")
	last := keys[len(keys)-1]
	t := v
	if len(keys) > 1 {
		var err error
		if t, err = v.Table(strings.Join(keys[:len(keys)-1], ".")); err != nil {
			return nil, ErrNoValue{Key: last}
		}
	}
	val, ok := t[last]
	if !ok || isTable(val) {
		return nil, ErrNoValue{Key: last}
	}
	return val, nil
}

// isTable reports whether v is a values table. Only map[string]any counts,
// as in Helm: a nested Values is deliberately not a table here.
func isTable(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}

// copyTree deep-copies maps and lists of a values tree; scalars and other
// types are shared. A nil map or list stays nil (of its type), as Helm's
// copystructure-based copy leaves it.
func copyTree(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return copyMap(t)
	case Values:
		if t == nil {
			return t
		}
		return Values(copyMap(t))
	case []any:
		if t == nil {
			return t
		}
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = copyTree(e)
		}
		return out
	}
	return v
}

// copyMap deep-copies a values table; nil stays nil.
func copyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, e := range m {
		out[k] = copyTree(e)
	}
	return out
}

// ValuesProcessor runs Helm's value steps (dependency processing,
// coalescing, schema validation) with a place to send the warnings Helm
// would log. The zero value is ready to use and discards warnings; the
// package-level functions of the same names use it.
type ValuesProcessor struct {
	// Warn receives each warning Helm prints to its log while processing
	// values, worded as Helm words it (without the log's timestamp).
	Warn func(msg string)
	// LoadSchemaRef returns the document a values.schema.json $ref points
	// to when its URL has the file, http or https scheme. Helm reads such
	// references from disk or the network; render does neither, so with
	// LoadSchemaRef nil they fail to compile.
	LoadSchemaRef func(url string) ([]byte, error)
	// Schemas, if set, keeps compiled schemas across calls. Without it,
	// each distinct schema is compiled once per ValidateAgainstSchema call.
	Schemas *SchemaCache
}

// warnf formats and reports a warning.
func (p ValuesProcessor) warnf(format string, args ...any) {
	if p.Warn != nil {
		p.Warn(fmt.Sprintf(format, args...))
	}
}
