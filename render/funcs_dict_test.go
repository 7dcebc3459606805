package render

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/Masterminds/sprig/v3"
)

// TestDictMatchesSprig builds dicts with keys of every kind, values
// trees drawn at random among them, with our dict and sprig's.
func TestDictMatchesSprig(t *testing.T) {
	t.Parallel()
	theirs := sprig.TxtFuncMap()["dict"].(func(...any) map[string]any)
	ours := newFuncTable().funcs["dict"].(func(...any) map[string]any)
	r := rand.New(rand.NewPCG(7, 8))
	keys := []any{
		"s", []byte("b"), errors.New("e"), DefaultCapabilities().KubeVersion, nil, 1, int64(-2), 2.5, math.Inf(1),
		math.NaN(), 1e21, 100000000.0, true, float32(1.5), uint8(3), []string{"a"}, map[string]string{"a": "b"},
		map[string]any{"b": 1, "a": []any{nil, map[string]any(nil), []any(nil)}}, Values{"x": Values{"y": 1}},
		[]any{map[string]any{"k": "v"}, 2}, struct{ A int }{1}, &struct{ A int }{1}, map[int]string{2: "b", 1: "a"},
	}
	for range 300 {
		keys = append(keys, yamlRandomValue(r, 4))
	}
	handled := 0
	for i, k := range keys {
		args := []any{k, i, "other", "v"}
		if want, got := theirs(args...), ours(args...); !reflect.DeepEqual(got, want) {
			t.Fatalf("key %d (%#v): got %#v, want %#v", i, k, got, want)
		}
		if got, ok := appendValueV(nil, k, 0); ok {
			handled++
			if want := fmt.Sprintf("%v", k); string(got) != want {
				t.Fatalf("key %d: got %q, want %q", i, got, want)
			}
		}
	}
	if handled < 250 {
		t.Errorf("the direct path formatted only %d keys", handled)
	}
	for _, args := range [][]any{{}, {"a"}, {"a", 1, "b"}, {"a", 1, "a", 2}} {
		if want, got := theirs(args...), ours(args...); !reflect.DeepEqual(got, want) {
			t.Errorf("%v: got %#v, want %#v", args, got, want)
		}
	}
}

func BenchmarkDictMapKey(b *testing.B) {
	key := map[string]any{"resources": map[string]any{"limits": map[string]any{"cpu": "100m", "memory": "128Mi"}},
		"replicas": 3.0, "ports": []any{80.0, 443.0}, "name": "web", "enabled": true}
	for _, side := range []struct {
		name string
		dict func(...any) map[string]any
	}{{"sprig", sprig.TxtFuncMap()["dict"].(func(...any) map[string]any)}, {"pkg", dictFunc}} {
		b.Run(side.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				side.dict(key, "v")
			}
		})
	}
}
