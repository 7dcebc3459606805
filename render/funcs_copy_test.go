package render

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/Masterminds/sprig/v3"
)

// TestDeepCopyMatchesSprig copies values trees with our deepCopy and
// sprig's: same result, types, nil-ness and list capacities, sharing no
// map or list with the original.
func TestDeepCopyMatchesSprig(t *testing.T) {
	t.Parallel()
	ours := newFuncTable().funcs["deepCopy"].(func(any) any)
	oursMust := newFuncTable().funcs["mustDeepCopy"].(func(any) (any, error))
	theirs := sprig.TxtFuncMap()["deepCopy"].(func(any) any)
	r := rand.New(rand.NewPCG(5, 6))
	withCap := make([]any, 2, 9)
	withCap[0] = map[string]any{"x": []any(nil)}
	values := []any{
		map[string]any{"a": nil, "b": []any{nil, map[string]any(nil), []any(nil), []any{}}, "c": map[string]any(nil), "e": map[string]any{}},
		[]any{nil}, map[string]any(nil), []any(nil), withCap, "s", 1.5, 3, true,
		map[string]any{"x": []string{"a"}, "v": Values{"a": 1}, "n": int8(3)},
	}
	for len(values) < 300 {
		if v := yamlRandomValue(r, 4); v != nil {
			values = append(values, v)
		}
	}
	for i, v := range values {
		want := theirs(v)
		got := ours(v)
		gotMust, err := oursMust(v)
		if err != nil {
			t.Fatal(err)
		}
		if d := describeCopy(want); d != describeCopy(got) || d != describeCopy(gotMust) {
			t.Fatalf("value %d: got %s, want %s", i, describeCopy(got), d)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("value %d: got %#v, want %#v", i, got, want)
		}
		if shares(v, got) {
			t.Fatalf("value %d: the copy shares a map or list with the original", i)
		}
	}
	// deepCopy of nil fails as sprig's does (a panic the template engine
	// turns into an error).
	for _, fn := range []func(){func() { ours(nil) }, func() { theirs(nil) }} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("deepCopy nil did not panic")
				}
			}()
			fn()
		}()
	}
}

// describeCopy spells out types, nil-ness and capacities of a tree.
func describeCopy(v any) string {
	switch t := v.(type) {
	case map[string]any:
		s := fmt.Sprintf("map(nil=%v){", t == nil)
		for _, k := range yamlSortedKeys(t) {
			s += k + ":" + describeCopy(t[k]) + ","
		}
		return s + "}"
	case []any:
		s := fmt.Sprintf("list(nil=%v,cap=%d)[", t == nil, cap(t))
		for _, e := range t {
			s += describeCopy(e) + ","
		}
		return s + "]"
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

// shares reports whether copy holds a map or list of orig.
func shares(orig, copy any) bool {
	switch o := orig.(type) {
	case map[string]any:
		c := copy.(map[string]any)
		if o != nil && reflect.ValueOf(o).UnsafePointer() == reflect.ValueOf(c).UnsafePointer() {
			return true
		}
		for k := range o {
			if shares(o[k], c[k]) {
				return true
			}
		}
	case []any:
		c := copy.([]any)
		if len(o) > 0 && &o[0] == &c[0] {
			return true
		}
		for i := range o {
			if shares(o[i], c[i]) {
				return true
			}
		}
	}
	return false
}
