package apiserver

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/openapi3"
)

// getJSON fetches path from ts and decodes it.
func getJSON(t *testing.T, ts *testServer, path string, into any) {
	t.Helper()
	resp, err := http.Get(ts.http.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func TestOpenAPISchemas(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	start := time.Now()
	var doc map[string]any
	getJSON(t, ts, "/openapi/v3/apis/apps/v1", &doc)
	t.Logf("first apps/v1 document built and served in %v", time.Since(start))
	schemas := mapOf(doc, "components", "schemas")
	dep := mapOf(schemas, "io.k8s.api.apps.v1.Deployment")
	if dep == nil {
		t.Fatalf("no Deployment schema among %d", len(schemas))
	}
	if gvk := slice(dep, "x-kubernetes-group-version-kind"); len(gvk) != 1 || str(gvk[0], "kind") != "Deployment" || str(gvk[0], "group") != "apps" {
		t.Errorf("Deployment gvk = %v", gvk)
	}
	checks := []struct {
		name string
		path []string
		want any
	}{
		{"integer with format", []string{"io.k8s.api.apps.v1.DeploymentSpec", "properties", "replicas", "format"}, "int32"},
		{"list map", []string{"io.k8s.api.core.v1.PodSpec", "properties", "containers", "x-kubernetes-list-type"}, "map"},
		{"required", []string{"io.k8s.api.apps.v1.DeploymentSpec", "required"}, []any{"selector", "template"}},
		{"description", []string{"io.k8s.api.apps.v1.Deployment", "description"}, "Deployment enables declarative updates for Pods and ReplicaSets."},
		{"reference", []string{"io.k8s.api.apps.v1.Deployment", "properties", "spec", "allOf"}, []any{map[string]any{"$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"}}},
		{"time", []string{"io.k8s.apimachinery.pkg.apis.meta.v1.Time", "format"}, "date-time"},
	}
	for _, c := range checks {
		got := get(schemas, c.path...)
		if !equalJSON(got, c.want) {
			t.Errorf("%s: %v = %v, want %v", c.name, strings.Join(c.path, "."), got, c.want)
		}
	}

	// client-go's OpenAPI v3 client reads the documents and finds every
	// served group version.
	root := openapi3.NewRoot(ts.client.Discovery().OpenAPIV3())
	gvs, err := root.GroupVersions()
	if err != nil || len(gvs) < 10 {
		t.Fatalf("group versions: %v %v", gvs, err)
	}
	core, err := root.GVSpec(gvs[0])
	if err != nil {
		t.Fatal(err)
	}
	if core.Components == nil || len(core.Components.Schemas) == 0 {
		t.Errorf("no schemas in %v", gvs[0])
	}

	// Creating a CRD adds its group's document and changes nothing else.
	var before map[string]any
	getJSON(t, ts, "/openapi/v3", &before)
	createSchemaCRD(t, ts)
	var after map[string]any
	getJSON(t, ts, "/openapi/v3", &after)
	if str(after, "paths", "apis/apps/v1", "serverRelativeURL") != str(before, "paths", "apis/apps/v1", "serverRelativeURL") {
		t.Errorf("apps/v1 hash changed with a CRD")
	}
	url := str(after, "paths", "apis/example.com/v1", "serverRelativeURL")
	if url == "" {
		t.Fatalf("no example.com/v1 document: %v", after)
	}
	var custom map[string]any
	getJSON(t, ts, url, &custom)
	w := mapOf(custom, "components", "schemas", "com.example.v1.Widget")
	if get(w, "properties", "spec", "properties", "size", "maximum") == nil || mapOf(custom, "components", "schemas", objectMetaModel) == nil {
		t.Errorf("Widget schema = %v", w)
	}
}

// TestOpenAPIEveryKind checks that every served built-in kind has its
// schema, marked with its group, version and kind, in its document.
func TestOpenAPIEveryKind(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	docs := map[string]map[string]any{}
	for _, res := range ts.srv.Resources() {
		rel := gvPath(res.GroupVersion())
		if docs[rel] == nil {
			var doc map[string]any
			getJSON(t, ts, "/openapi/v3/"+rel, &doc)
			docs[rel] = doc
		}
		found := false
		for _, sch := range mapOf(docs[rel], "components", "schemas") {
			for _, gvk := range slice(sch, "x-kubernetes-group-version-kind") {
				if str(gvk, "group") == res.Group && str(gvk, "version") == res.Version && str(gvk, "kind") == res.Kind {
					found = true
					if mapOf(sch, "properties", "metadata") == nil {
						t.Errorf("%s: schema without metadata", res.Kind)
					}
				}
			}
		}
		if !found {
			t.Errorf("no schema for %s in %s", res.GroupVersionKind(), rel)
		}
	}
}
