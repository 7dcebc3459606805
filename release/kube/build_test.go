package kube

import (
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"pkg.dev/pkg/release"
)

const crdWidgets = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`

func TestBuild(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	manifest := `
# a comment-only document
---
---
# Source: web/templates/ns.yaml
apiVersion: v1
kind: Namespace
metadata:
  name: team
---
# Source: web/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: plain
data: {a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: elsewhere
  namespace: team
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata: {name: s1}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata: {name: reader}
`
	list, err := e.client.Build(ctx(t), manifest, "prod")
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		kind, resource, ns, name string
		namespaced               bool
	}
	wants := []want{
		{"Namespace", "namespaces", "", "team", false},
		{"ConfigMap", "configmaps", "prod", "plain", true},
		{"ConfigMap", "configmaps", "team", "elsewhere", true},
		{"Secret", "secrets", "prod", "s1", true},
		{"ClusterRole", "clusterroles", "", "reader", false},
	}
	if len(list) != len(wants) {
		t.Fatalf("got %d resources (%s), want %d", len(list), names(list), len(wants))
	}
	for i, w := range wants {
		r := list[i]
		if r.GVK.Kind != w.kind || r.GVR.Resource != w.resource || r.Namespace != w.ns || r.Name != w.name || r.Namespaced != w.namespaced {
			t.Errorf("resource %d = %s %s ns=%q name=%q namespaced=%v, want %+v", i, r.GVK.Kind, r.GVR.Resource, r.Namespace, r.Name, r.Namespaced, w)
		}
		if r.Namespaced && r.Object.GetNamespace() != w.ns {
			t.Errorf("resource %d: object namespace %q, want %q", i, r.Object.GetNamespace(), w.ns)
		}
		if !r.Namespaced && r.Object.GetNamespace() != "" {
			t.Errorf("resource %d: cluster-scoped object got namespace %q", i, r.Object.GetNamespace())
		}
	}
	if got := list[1].String(); got != `ConfigMap "plain" in namespace "prod"` {
		t.Errorf("String() = %q", got)
	}
	if v, _, _ := unstructured.NestedString(list[1].Object.Object, "data", "a"); v != "1" {
		t.Errorf("data.a = %q, want 1", v)
	}
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name     string
		manifest string
		want     []string
	}{
		{"unknown kind with source", "# Source: web/templates/widget.yaml\napiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\n",
			[]string{`name "g" from "web/templates/widget.yaml": no matches for kind "Gadget" in version "example.com/v1": install its CustomResourceDefinition (CRD) first`}},
		{"unknown kind without source", "apiVersion: v1\nkind: Nope\nmetadata: {name: nope}\n",
			[]string{`kind "Nope"`, `version "v1"`, "install its CustomResourceDefinition"}},
		{"no kind", "# Source: web/templates/x.yaml\napiVersion: v1\nmetadata: {name: x}\n",
			[]string{"manifest document 1 (web/templates/x.yaml)", "kind is not set"}},
		{"no apiVersion", "kind: ConfigMap\nmetadata: {name: x}\n", []string{"apiVersion is not set", "ConfigMap"}},
		{"no name", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", []string{"no metadata.name"}},
		{"not a mapping", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\n- a\n- b\n", []string{"manifest document 2", "mapping"}},
		{"bad yaml", "apiVersion: v1\nkind: [\n", []string{"manifest document 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.client.Build(ctx(t), tt.manifest, "default")
			if err == nil {
				t.Fatal("Build succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	_, err := e.client.Build(ctx(t), "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\n", "default")
	var uk *UnknownKindError
	if !errors.As(err, &uk) || uk.Kind != "Gadget" {
		t.Errorf("error %v is no *UnknownKindError for Gadget", err)
	}
}

// A kind whose CRD is created after discovery was cached is found: the
// cache is refreshed once on a miss.
func TestBuildAfterCRDInstalled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	widget := "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 1}\n"
	if _, err := e.client.Build(ctx(t), widget, "default"); err == nil {
		t.Fatal("Build of a Widget succeeded before its CRD exists")
	}
	crd := e.create(crdWidgets)
	if err := e.client.Wait(ctx(t), crd, release.WaitOptions{Timeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	list, err := e.client.Build(ctx(t), widget, "default")
	if err != nil {
		t.Fatalf("Build after the CRD was created: %v", err)
	}
	if list[0].GVR.Resource != "widgets" || !list[0].Namespaced || list[0].Namespace != "default" {
		t.Errorf("got %+v", list[0])
	}
}
