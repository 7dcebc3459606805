package apiserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func TestAppendStamped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, raw, want string
		ok              bool
	}{
		{name: "configmap", raw: `{"apiVersion":"v1","data":{"a":"b"},"kind":"ConfigMap","metadata":{"name":"x"}}`,
			want: `{"apiVersion":"v1","data":{"a":"b"},"kind":"ConfigMap","metadata":{"resourceVersion":"42","name":"x"}}`, ok: true},
		{name: "empty metadata", raw: `{"metadata":{}}`, want: `{"metadata":{"resourceVersion":"42"}}`, ok: true},
		{name: "spaces", raw: ` { "metadata" : { } } `, want: ` { "metadata" : {"resourceVersion":"42" } } `, ok: true},
		{name: "nested metadata first", raw: `{"a":{"metadata":{"x":1}},"b":"\"metadata\":{","metadata":{"n":"m"}}`,
			want: `{"a":{"metadata":{"x":1}},"b":"\"metadata\":{","metadata":{"resourceVersion":"42","n":"m"}}`, ok: true},
		{name: "metadata as a value", raw: `{"kind":"metadata","metadata":{"n":1}}`, want: `{"kind":"metadata","metadata":{"resourceVersion":"42","n":1}}`, ok: true},
		{name: "no metadata", raw: `{"kind":"X","spec":{"metadata":{}}}`},
		{name: "metadata not an object", raw: `{"metadata":null}`},
		{name: "not an object", raw: `[{"metadata":{}}]`},
		{name: "truncated string", raw: `{"metadata`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			ok := appendStamped(&buf, []byte(tc.raw), 42)
			if ok != tc.ok || buf.String() != tc.want {
				t.Errorf("appendStamped(%s) = %q, %v; want %q, %v", tc.raw, buf.String(), ok, tc.want, tc.ok)
			}
		})
	}
}

// TestRawListMatchesDecodedList checks that the raw list answers the same
// objects as the general path, which a field selector that keeps
// everything forces, with and without a label selector.
func TestRawListMatchesDecodedList(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	for name, label := range map[string]string{"a": "v", "b": "v", "c": "w"} {
		body := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"` + name + `","labels":{"k":"` + label + `"}},"data":{"n":"1"}}`
		req := httptest.NewRequest(http.MethodPost, "/api/v1/namespaces/default/configmaps", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		ts.srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			t.Fatalf("create %s: %d %s", name, rec.Code, rec.Body)
		}
	}
	get := func(query string) map[string]any {
		t.Helper()
		rec := httptest.NewRecorder()
		ts.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/namespaces/default/configmaps"+query, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("list%s: %d %s", query, rec.Code, rec.Body)
		}
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	const everything = "fieldSelector=metadata.name%21%3Dnone"
	for _, tc := range []struct {
		raw   string
		items int
	}{
		{"", 3},
		{"?limit=2", 2},
		{"?labelSelector=k%3Dv", 2},
		{"?labelSelector=k%3Dw", 1},
		{"?labelSelector=k%21%3Dv", 1},
		{"?labelSelector=k%2Cj", 0},
	} {
		decodedQuery := "?" + everything
		if tc.raw != "" {
			decodedQuery = tc.raw + "&" + everything
		}
		raw, decoded := get(tc.raw), get(decodedQuery)
		// Only the raw list, without a selector, counts what remains.
		rawMeta, _ := raw["metadata"].(map[string]any)
		if want := strings.Contains(tc.raw, "limit"); (rawMeta["remainingItemCount"] == 1.0) != want {
			t.Errorf("list%s: remainingItemCount %v", tc.raw, rawMeta["remainingItemCount"])
		}
		delete(rawMeta, "remainingItemCount")
		if !reflect.DeepEqual(raw, decoded) {
			t.Errorf("list%s = %v\nlist%s = %v", tc.raw, raw, decodedQuery, decoded)
		}
		items, _ := raw["items"].([]any)
		if len(items) != tc.items {
			t.Fatalf("list%s has %d items, want %d: %v", tc.raw, len(items), tc.items, raw)
		}
		if len(items) == 0 {
			continue
		}
		md, _ := items[0].(map[string]any)["metadata"].(map[string]any)
		if md["resourceVersion"] == nil || md["resourceVersion"] == "" {
			t.Errorf("list%s: first item has no resourceVersion: %v", tc.raw, md)
		}
	}
}

func TestRawLabels(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw  string
		want map[string]string
		ok   bool
	}{
		{raw: `{"data":{"labels":{"x":"y"}},"metadata":{"labels":{"a":"b","c":"d"},"name":"n"}}`, want: map[string]string{"a": "b", "c": "d"}, ok: true},
		{raw: `{"metadata":{"annotations":{"labels":"{\"}"},"name":"n"}}`, ok: true},
		{raw: `{"metadata":{"labels":{"a":"}"}}}`, want: map[string]string{"a": "}"}, ok: true},
		{raw: `{"kind":"X"}`},
		{raw: `{"metadata":{"labels":{"a":1}}}`},
		{raw: `{"metadata":{"labels":{"a":"b"}`},
	} {
		got, ok := rawLabels([]byte(tc.raw))
		if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("rawLabels(%s) = %v, %v; want %v, %v", tc.raw, got, ok, tc.want, tc.ok)
		}
	}
}
