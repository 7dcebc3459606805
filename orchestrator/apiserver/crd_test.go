package apiserver

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/discovery"

	"pkg.dev/pkg/orchestrator/store"
)

// widgetCRD is a namespaced CRD with a status subresource and columns.
func widgetCRD() *apiextensionsv1.CustomResourceDefinition {
	schemaProps := &apiextensionsv1.JSONSchemaProps{Type: "object", XPreserveUnknownFields: ptrTo(true)}
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "widgets.example.com"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "example.com",
			Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{
				Plural: "widgets", Singular: "widget", Kind: "Widget", ShortNames: []string{"wd"}, Categories: []string{"all"},
			},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema:       &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: schemaProps},
				Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}},
				AdditionalPrinterColumns: []apiextensionsv1.CustomResourceColumnDefinition{
					{Name: "Size", Type: "integer", JSONPath: ".spec.size"},
					{Name: "Color", Type: "string", JSONPath: ".spec.color"},
					{Name: "Phase", Type: "string", JSONPath: ".status.phase", Priority: 1},
				},
			}},
		},
	}
}

func ptrTo[T any](v T) *T { return &v }

var widgets = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}

func widget(name string, size int64) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": name, "labels": map[string]any{"app": "w"}},
		"spec":     map[string]any{"size": size, "color": "blue"},
	}}
}

func TestCustomResources(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t)
	ext, err := apiextensionsclient.NewForConfig(ts.config)
	if err != nil {
		t.Fatal(err)
	}
	crd, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, widgetCRD(), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []apiextensionsv1.CustomResourceDefinitionConditionType{apiextensionsv1.Established, apiextensionsv1.NamesAccepted} {
		found := false
		for _, c := range crd.Status.Conditions {
			found = found || (c.Type == want && c.Status == apiextensionsv1.ConditionTrue)
		}
		if !found {
			t.Errorf("condition %s not true: %+v", want, crd.Status.Conditions)
		}
	}
	if crd.Status.AcceptedNames.Kind != "Widget" || !slices.Equal(crd.Status.StoredVersions, []string{"v1"}) {
		t.Errorf("status = %+v", crd.Status)
	}

	res := ts.dyn.Resource(widgets).Namespace("default")
	t.Run("crud", func(t *testing.T) {
		w, err := ts.dyn.Resource(widgets).Namespace("default").Watch(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		created, err := res.Create(ctx, widget("one", 3), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-w.ResultChan():
			if ev.Type != watch.Added {
				t.Errorf("watch event %s", ev.Type)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no watch event")
		}
		if created.GetUID() == "" || created.GetResourceVersion() == "" {
			t.Errorf("created lacks uid or rv: %v", created.Object)
		}
		got, err := res.Get(ctx, "one", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if v, _, _ := unstructured.NestedInt64(got.Object, "spec", "size"); v != 3 {
			t.Errorf("size = %d", v)
		}
		got.Object["spec"].(map[string]any)["size"] = int64(4)
		got.Object["status"] = map[string]any{"phase": "Ignored"}
		upd, err := res.Update(ctx, got, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := upd.Object["status"]; ok {
			t.Errorf("update changed status: %v", upd.Object["status"])
		}
		if upd.GetGeneration() != 2 {
			t.Errorf("generation = %d", upd.GetGeneration())
		}
		upd.Object["status"] = map[string]any{"phase": "Ready"}
		st, err := res.UpdateStatus(ctx, upd, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p, _, _ := unstructured.NestedString(st.Object, "status", "phase"); p != "Ready" {
			t.Errorf("status phase = %q", p)
		}
		if _, err := res.Patch(ctx, "one", types.MergePatchType, []byte(`{"spec":{"color":"red"}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		p, err := res.Patch(ctx, "one", types.JSONPatchType, []byte(`[{"op":"replace","path":"/spec/size","value":7}]`), metav1.PatchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if c, _, _ := unstructured.NestedString(p.Object, "spec", "color"); c != "red" {
			t.Errorf("color = %q", c)
		}
		_, err = res.Patch(ctx, "one", types.StrategicMergePatchType, []byte(`{"spec":{"size":1}}`), metav1.PatchOptions{})
		if se, ok := err.(*apierrors.StatusError); !ok || se.ErrStatus.Code != http.StatusUnsupportedMediaType {
			t.Errorf("strategic merge patch: %v, want 415", err)
		}
		if _, err := res.Create(ctx, widget("two", 1), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		list, err := res.List(ctx, metav1.ListOptions{LabelSelector: "app=w"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 2 || list.GetKind() != "WidgetList" {
			t.Errorf("list = %s with %d items", list.GetKind(), len(list.Items))
		}
		if err := res.Delete(ctx, "two", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := res.Get(ctx, "two", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("get after delete: %v", err)
		}
	})

	t.Run("discovery", func(t *testing.T) {
		if !slices.ContainsFunc(ts.srv.Resources(), func(r Resource) bool { return r.Resource == "widgets" && r.Status }) {
			t.Error("Server.Resources lacks widgets")
		}
		dc, err := discovery.NewDiscoveryClientForConfig(ts.config)
		if err != nil {
			t.Fatal(err)
		}
		for _, legacy := range []bool{false, true} {
			dc.UseLegacyDiscovery = legacy
			rl, err := dc.ServerResourcesForGroupVersion("example.com/v1")
			if err != nil {
				t.Fatalf("legacy=%v: %v", legacy, err)
			}
			var names []string
			for _, r := range rl.APIResources {
				names = append(names, r.Name)
				if r.Name == "widgets" && (!slices.Equal(r.ShortNames, []string{"wd"}) || !r.Namespaced || r.Kind != "Widget") {
					t.Errorf("legacy=%v: widgets = %+v", legacy, r)
				}
			}
			if !slices.Equal(names, []string{"widgets", "widgets/status"}) {
				t.Errorf("legacy=%v: resources = %v", legacy, names)
			}
		}
	})

	t.Run("table", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, ts.http.URL+"/apis/example.com/v1/namespaces/default/widgets", nil)
		req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var tbl metav1.Table
		if err := json.NewDecoder(resp.Body).Decode(&tbl); err != nil {
			t.Fatal(err)
		}
		var cols []string
		for _, c := range tbl.ColumnDefinitions {
			cols = append(cols, c.Name)
		}
		if !slices.Equal(cols, []string{"Name", "Size", "Color", "Phase"}) {
			t.Errorf("columns = %v", cols)
		}
		if len(tbl.Rows) != 1 || tbl.Rows[0].Cells[0] != "one" || tbl.Rows[0].Cells[1] != float64(7) || tbl.Rows[0].Cells[2] != "red" || tbl.Rows[0].Cells[3] != "Ready" {
			t.Errorf("rows = %+v", tbl.Rows)
		}
	})

	t.Run("delete CRD deletes its objects", func(t *testing.T) {
		if err := ext.ApiextensionsV1().CustomResourceDefinitions().Delete(ctx, "widgets.example.com", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := res.Get(ctx, "one", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("get after CRD deletion: %v", err)
		}
		kv, err := ts.srv.cfg.Store.List(ctx, "/registry/example.com/", store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(kv.Items) != 0 {
			t.Errorf("%d objects left in the store", len(kv.Items))
		}
		dc, _ := discovery.NewDiscoveryClientForConfig(ts.config)
		if _, err := dc.ServerResourcesForGroupVersion("example.com/v1"); !apierrors.IsNotFound(err) {
			t.Errorf("discovery after CRD deletion: %v", err)
		}
	})
}

func TestCustomResourcesClusterScopedAndRestart(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ts := serveStore(t, st, Config{}, func(*Config) {})
	ext, err := apiextensionsclient.NewForConfig(ts.config)
	if err != nil {
		t.Fatal(err)
	}
	crd := widgetCRD()
	crd.Name, crd.Spec.Names.Plural, crd.Spec.Names.Kind, crd.Spec.Names.ShortNames = "gizmos.example.com", "gizmos", "Gizmo", nil
	crd.Spec.Names.Singular = ""
	crd.Spec.Scope = apiextensionsv1.ClusterScoped
	if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	gizmos := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "gizmos"}
	g := widget("g1", 1)
	g.SetKind("Gizmo")
	if _, err := ts.dyn.Resource(gizmos).Create(ctx, g, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.dyn.Resource(gizmos).Namespace("default").Create(ctx, g, metav1.CreateOptions{}); err == nil {
		t.Error("namespaced create of a cluster-scoped custom resource succeeded")
	}
	// A new server over the same store serves the stored CRDs.
	ts2 := serveStore(t, st, Config{}, func(*Config) {})
	got, err := ts2.dyn.Resource(gizmos).Get(ctx, "g1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetNamespace() != "" {
		t.Errorf("namespace = %q", got.GetNamespace())
	}
	if err := ts2.dyn.Resource(gizmos).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	list, err := ts2.dyn.Resource(gizmos).List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 0 {
		t.Errorf("list after deletecollection: %v, %v", list, err)
	}
}

func TestInvalidCRD(t *testing.T) {
	ts := newTestServer(t)
	ext, err := apiextensionsclient.NewForConfig(ts.config)
	if err != nil {
		t.Fatal(err)
	}
	crd := widgetCRD()
	crd.Name = "wrong.example.com"
	_, err = ext.ApiextensionsV1().CustomResourceDefinitions().Create(context.Background(), crd, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `must be spec.names.plural+"."+spec.group`) {
		t.Errorf("err = %v, want Invalid", err)
	}
}

func TestCustomResourceVersions(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t)
	ext, err := apiextensionsclient.NewForConfig(ts.config)
	if err != nil {
		t.Fatal(err)
	}
	crd := widgetCRD()
	beta := crd.Spec.Versions[0]
	beta.Name, beta.Storage = "v1beta1", false
	crd.Spec.Versions = append([]apiextensionsv1.CustomResourceDefinitionVersion{beta}, crd.Spec.Versions...)
	if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(ts.config)
	if err != nil {
		t.Fatal(err)
	}
	for _, legacy := range []bool{false, true} {
		dc.UseLegacyDiscovery = legacy
		groups, err := dc.ServerGroups()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, g := range groups.Groups {
			if g.Name != "example.com" {
				continue
			}
			n++
			if len(g.Versions) != 2 || g.PreferredVersion.Version != "v1" || g.Versions[1].Version != "v1beta1" {
				t.Errorf("legacy=%v: group %+v", legacy, g)
			}
		}
		if n != 1 {
			t.Errorf("legacy=%v: example.com listed %d times", legacy, n)
		}
	}
	code, _, body := ts.get(t, "/apis/example.com", "")
	var g metav1.APIGroup
	if err := json.Unmarshal(body, &g); code != 200 || err != nil || len(g.Versions) != 2 {
		t.Errorf("/apis/example.com: %d %v %s", code, err, body)
	}
	b := widget("b", 1)
	b.SetAPIVersion("example.com/v1beta1")
	if _, err := ts.dyn.Resource(schema.GroupVersionResource{Group: "example.com", Version: "v1beta1", Resource: "widgets"}).Namespace("default").
		Create(ctx, b, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.dyn.Resource(widgets).Namespace("default").Get(ctx, "b", metav1.GetOptions{}); err != nil {
		t.Errorf("v1 get of an object written at v1beta1: %v", err)
	}
}

func TestCustomResourceScale(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t)
	ext, err := apiextensionsclient.NewForConfig(ts.config)
	if err != nil {
		t.Fatal(err)
	}
	crd := widgetCRD()
	crd.Spec.Versions[0].Subresources.Scale = &apiextensionsv1.CustomResourceSubresourceScale{
		SpecReplicasPath: ".spec.replicas", StatusReplicasPath: ".status.replicas",
	}
	if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	w := widget("s", 1)
	w.Object["spec"].(map[string]any)["replicas"] = int64(2)
	res := ts.dyn.Resource(widgets).Namespace("default")
	if _, err := res.Create(ctx, w, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sc, err := res.Get(ctx, "s", metav1.GetOptions{}, "scale")
	if err != nil {
		t.Fatal(err)
	}
	if sc.GetKind() != "Scale" {
		t.Errorf("scale kind %q", sc.GetKind())
	}
	if r, _, _ := unstructured.NestedInt64(sc.Object, "spec", "replicas"); r != 2 {
		t.Errorf("scale replicas = %d", r)
	}
	if _, err := res.Patch(ctx, "s", types.MergePatchType, []byte(`{"spec":{"replicas":5}}`), metav1.PatchOptions{}, "scale"); err != nil {
		t.Fatal(err)
	}
	got, err := res.Get(ctx, "s", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _ := unstructured.NestedInt64(got.Object, "spec", "replicas"); r != 5 {
		t.Errorf("replicas after scale = %d", r)
	}
	dc, _ := discovery.NewDiscoveryClientForConfig(ts.config)
	rl, err := dc.ServerResourcesForGroupVersion("example.com/v1")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rl.APIResources {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"widgets", "widgets/status", "widgets/scale"}) {
		t.Errorf("resources = %v", names)
	}
}
