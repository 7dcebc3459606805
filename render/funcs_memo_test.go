package render

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/Masterminds/sprig/v3"
)

// TestMemoDecoders decodes texts through the memo twice, changing the
// first result in between: both must equal a fresh decode.
func TestMemoDecoders(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 10))
	texts := []string{"", "null", "a: 1", "- 1\n- 2", "[1, 2]", `{"a": [1, {"b": null}]}`, "a: [", "{", "x: !!binary aGk=",
		"a: &x 1\nb: *x", "1e3", "a:\n  b:\n    c: [1, 2, {d: e}]"}
	for range 200 {
		texts = append(texts, encodeYAML(yamlRandomValue(r, 3)), encodeJSON(yamlRandomValue(r, 3)))
	}
	funcs := newFuncTable().funcs
	for _, name := range []string{"fromYaml", "fromJson"} {
		memo := funcs[name].(func(string) map[string]any)
		plain := map[string]func(string) map[string]any{"fromYaml": decodeYAML, "fromJson": decodeJSON}[name]
		for _, s := range texts {
			first := memo(s)
			if first != nil {
				first["scribbled"] = true
			}
			if got, want := memo(s), plain(s); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s(%q) = %#v, want %#v", name, s, got, want)
			}
		}
	}
	for _, name := range []string{"fromYamlArray", "fromJsonArray"} {
		memo := funcs[name].(func(string) []any)
		plain := map[string]func(string) []any{"fromYamlArray": decodeYAMLArray, "fromJsonArray": decodeJSONArray}[name]
		for _, s := range texts {
			if first := memo(s); len(first) > 0 {
				first[0] = "scribbled"
			}
			if got, want := memo(s), plain(s); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s(%q) = %#v, want %#v", name, s, got, want)
			}
		}
	}
}

// TestMemoSemverCompare compares the memoized semverCompare with
// sprig's, errors included.
func TestMemoSemverCompare(t *testing.T) {
	t.Parallel()
	theirs := sprig.TxtFuncMap()["semverCompare"].(func(string, string) (bool, error))
	ours := newFuncTable().funcs["semverCompare"].(func(string, string) (bool, error))
	for range 2 {
		for _, c := range []string{">=1.19-0", "<1.20", "~1.2", "^2", "bad constraint", ">= 1.2, < 1.37"} {
			for _, v := range []string{"v1.37.0", "1.19.4", "1.2.3", "2.0.0", "nope", ""} {
				wok, werr := theirs(c, v)
				gok, gerr := ours(c, v)
				if wok != gok || (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
					t.Errorf("semverCompare(%q, %q) = %v, %v; want %v, %v", c, v, gok, gerr, wok, werr)
				}
			}
		}
	}
}
