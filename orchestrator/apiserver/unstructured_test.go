package apiserver

import (
	"encoding/json"
	"reflect"
	"testing"

	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// TestToUnstructuredMatchesJSONRoundTrip: the direct conversion gives what
// a JSON round trip through apimachinery's json package gives (integers
// int64, other numbers float64, deep copies), for decoded objects and for
// values the server's own code sets.
func TestToUnstructuredMatchesJSONRoundTrip(t *testing.T) {
	t.Parallel()
	decoded, err := decodeObject([]byte(`{"apiVersion":"apps/v1","kind":"Deployment",
		"metadata":{"name":"web","generation":3,"labels":{"a":"b"},"annotations":null},
		"spec":{"replicas":2,"ratio":0.5,"big":12345678901234567890,"exp":1e3,"one":1.0,
		"template":{"spec":{"containers":[{"name":"c","ports":[{"containerPort":80}],"args":["-x",""]}]}},
		"flags":[true,false,null],"empty":{},"none":[]}}`))
	if err != nil {
		t.Fatal(err)
	}
	decoded["status"] = map[string]any{"observedGeneration": int64(3), "replicas": 2, "ready": int32(1), "f": 2.0, "g": 2.5, "s": []string{"x"}}
	want := func(o object) map[string]any {
		data, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		if err := utiljson.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}(decoded)
	got, err := toUnstructured(decoded)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Object, want) {
		t.Errorf("toUnstructured gave\n%#v\nthe JSON round trip\n%#v", got.Object, want)
	}
	// A copy: changing it leaves the object alone.
	got.Object["metadata"].(map[string]any)["labels"].(map[string]any)["a"] = "changed"
	if decoded["metadata"].(map[string]any)["labels"].(map[string]any)["a"] != "b" {
		t.Error("toUnstructured shares maps with the object")
	}
}

// TestEqualJSONMatchesEncodings: equalJSON says two values are equal
// exactly when their JSON encodings are, whatever mix of decoded and
// typed values they hold.
func TestEqualJSONMatchesEncodings(t *testing.T) {
	t.Parallel()
	values := []any{
		nil, "", "a", "1", true, false, json.Number("1"), json.Number("1.0"), json.Number("2"),
		int64(1), 1, 1.0, 1.5, int32(2),
		map[string]any(nil), []any(nil), map[string]any{"a": []any(nil)}, map[string]any{"a": []any{}},
		map[string]any{}, map[string]any{"a": nil}, map[string]any{"a": "b"}, map[string]any{"a": json.Number("1")},
		map[string]any{"a": int64(1)}, map[string]string{"a": "b"}, map[string]any{"b": "a"},
		[]any{}, []any{"a"}, []string{"a"}, []any{json.Number("1"), nil}, []any{int64(1), nil}, []any{nil, int64(1)},
		map[string]any{"x": []any{map[string]any{"y": json.Number("3")}}},
		map[string]any{"x": []any{map[string]any{"y": 3}}},
		map[string]any{"x": []any{map[string]any{"y": "3"}}},
	}
	for _, a := range values {
		for _, b := range values {
			x, _ := json.Marshal(a)
			y, _ := json.Marshal(b)
			if want := string(x) == string(y); equalJSON(a, b) != want {
				t.Errorf("equalJSON(%s, %s) = %v, want %v", x, y, !want, want)
			}
		}
	}
}
