package chartutil

import (
	"io"
	"strings"

	"sigs.k8s.io/yaml"
)

// Values is a tree of chart values as decoded from YAML: maps are
// map[string]any, lists are []any.
type Values map[string]any

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
	if !ok || IsTable(val) {
		return nil, ErrNoValue{Key: last}
	}
	return val, nil
}

// IsTable reports whether v is a values table. Only map[string]any counts,
// as in Helm: a nested Values is deliberately not a table here.
func IsTable(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}
