package apiserver

import (
	"strings"
	"testing"

	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// TestValidateStructural checks each schema rule with kube-apiserver's
// messages, on a schema given as JSON.
func TestValidateStructural(t *testing.T) {
	t.Parallel()
	const schemaJSON = `{"type":"object","properties":{
		"name":{"type":"string","pattern":"^[a-z]+$","minLength":2,"maxLength":5},
		"count":{"type":"integer","minimum":0,"exclusiveMinimum":true,"multipleOf":2},
		"ratio":{"type":"number","maximum":1},
		"tags":{"type":"array","items":{"type":"string"},"maxItems":2,"minItems":1,"uniqueItems":true},
		"labels":{"type":"object","additionalProperties":{"type":"string"},"minProperties":1,"maxProperties":2},
		"port":{"x-kubernetes-int-or-string":true,"anyOf":[{"type":"integer"},{"type":"string"}]},
		"note":{"type":"string","nullable":true},
		"mode":{"type":"string","enum":["a","b"]},
		"at":{"type":"string","format":"date-time"},
		"addr":{"type":"string","format":"ipv4"},
		"id":{"type":"string","format":"uuid"},
		"other":{"type":"string","format":"email"},
		"nested":{"type":"object","required":["id"],"properties":{"id":{"type":"string"}}}
	}}`
	cs := (&schemaCache{}).get(mustJSONMap(t, schemaJSON))
	if cs == nil || cs.structural == nil {
		t.Fatal("schema is not structural")
	}
	tests := []struct {
		name string
		obj  string
		want []string // error strings, in order; none for a valid object
	}{
		{"valid", `{"name":"abc","count":4,"ratio":0.5,"tags":["x"],"labels":{"a":"b"},"port":"http","note":null,"mode":"a","nested":{"id":"i"}}`, nil},
		{"int port", `{"port":8080}`, nil},
		{"pattern", `{"name":"ab1"}`, []string{`name: Invalid value: "ab1": name in body should match '^[a-z]+$'`}},
		{"short", `{"name":"a"}`, []string{`name: Invalid value: "a": name in body should be at least 2 chars long`}},
		{"long", `{"name":"abcdef"}`, []string{`name: Too long: may not be more than 5 bytes`}},
		{"exclusive minimum", `{"count":0}`, []string{`count: Invalid value: 0: count in body should be greater than 0`}},
		{"multiple", `{"count":3}`, []string{`count: Invalid value: 3: count in body should be a multiple of 2`}},
		{"maximum", `{"ratio":1.5}`, []string{`ratio: Invalid value: 1.5: ratio in body should be less than or equal to 1`}},
		{"integer as number", `{"count":2.0}`, nil},
		{"fraction as integer", `{"count":2.5}`, []string{`count: Invalid value: "number": count in body must be of type integer: "number"`}},
		{"too many items", `{"tags":["a","b","c"]}`, []string{`tags: Too many: 3: must have at most 2 items`}},
		{"too few items", `{"tags":[]}`, []string{`tags: Invalid value: []: tags in body should have at least 1 items`}},
		{"duplicates", `{"tags":["a","a"]}`, []string{`tags: Invalid value: ["a","a"]: tags in body shouldn't contain duplicates`}},
		{"item type", `{"tags":[1]}`, []string{`tags[0]: Invalid value: "integer": tags[0] in body must be of type string: "integer"`}},
		{"map values", `{"labels":{"a":1}}`, []string{`labels.a: Invalid value: "integer": labels.a in body must be of type string: "integer"`}},
		{"too many properties", `{"labels":{"a":"1","b":"2","c":"3"}}`, []string{`labels: Too many: 3: must have at most 2 items`}},
		{"int or string", `{"port":true}`, []string{`port: Invalid value: "boolean": port in body must be of type integer,string: "boolean"`}},
		{"not nullable", `{"name":null}`, []string{`name: Invalid value: "null": name in body must be of type string: "null"`}},
		{"enum", `{"mode":"c"}`, []string{`mode: Unsupported value: "c": supported values: "a", "b"`}},
		{"required", `{"nested":{}}`, []string{`nested.id: Required value`}},
		{"formats", `{"at":"2026-11-27T03:30:00Z","addr":"10.0.0.1","id":"0b9e8e4c-7d1f-4b7a-9a52-2f0e5a6c1d3e","other":"anything"}`, nil},
		{"date-time", `{"at":"yesterday"}`, []string{`at: Invalid value: "yesterday": at in body must be of type date-time: "yesterday"`}},
		{"ipv4", `{"addr":"::1"}`, []string{`addr in body must be of type ipv4: "::1"`}},
		{"uuid", `{"id":"x"}`, []string{`id in body must be of type uuid: "x"`}},
		{"several", `{"name":"A","mode":"c"}`, []string{`mode: Unsupported value`, `name: Invalid value: "A": name in body should be at least 2 chars long`, `name in body should match`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			errs := validateStructural(mustJSONMap(t, tt.obj), cs.structural)
			if len(errs) != len(tt.want) {
				t.Fatalf("errors = %v, want %d: %q", errs, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if got := errs[i].Error(); !strings.Contains(got, w) {
					t.Errorf("error %d = %q, want %q", i, got, w)
				}
			}
		})
	}
}

// mustJSONMap decodes a JSON object as unstructured content.
func mustJSONMap(t *testing.T, s string) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := utiljson.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}
