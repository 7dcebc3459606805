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
