package apiserver

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

// warningRecorder keeps the Warning headers a client sees.
type warningRecorder struct {
	mu   sync.Mutex
	msgs []string
}

// HandleWarningHeader records one warning.
func (w *warningRecorder) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

// take returns and forgets the warnings seen so far.
func (w *warningRecorder) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.msgs
	w.msgs = nil
	return out
}

// createSchemaCRD stores testdata/crd-widgets.yaml, a Widget CRD whose
// schema has required fields, bounds, an enum, defaults, a list map and
// a part that keeps unknown fields.
func createSchemaCRD(t *testing.T, ts *testServer) {
	t.Helper()
	data, err := os.ReadFile("testdata/crd-widgets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	crd := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &crd.Object); err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if _, err := ts.dyn.Resource(gvr).Create(context.Background(), crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// schemaWidget is a Widget with spec.
func schemaWidget(name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": name},
		"spec":     spec,
	}}
}

func TestCustomResourceSchema(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	createSchemaCRD(t, ts)
	ctx := context.Background()
	warnings := &warningRecorder{}
	cfg := *ts.config
	cfg.WarningHandler = warnings
	dyn, err := dynamic.NewForConfig(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	ws := dyn.Resource(widgets).Namespace("default")

	// Unknown fields are dropped with a warning, kept under
	// x-kubernetes-preserve-unknown-fields; defaults are set.
	got, err := ws.Create(ctx, schemaWidget("a", map[string]any{
		"size": int64(3), "bogus": true,
		"ports": []any{map[string]any{"name": "http"}},
		"extra": map[string]any{"anything": map[string]any{"goes": int64(1)}},
	}), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(got.Object, "spec", "bogus"); found {
		t.Errorf("unknown field kept: %v", got.Object["spec"])
	}
	if v, _, _ := unstructured.NestedInt64(got.Object, "spec", "extra", "anything", "goes"); v != 1 {
		t.Errorf("preserved field lost: %v", got.Object["spec"])
	}
	if c, _, _ := unstructured.NestedString(got.Object, "spec", "color"); c != "red" {
		t.Errorf("color not defaulted: %v", got.Object["spec"])
	}
	ports, _, _ := unstructured.NestedSlice(got.Object, "spec", "ports")
	if len(ports) != 1 || ports[0].(map[string]any)["port"] != int64(80) {
		t.Errorf("port not defaulted in list item: %v", ports)
	}
	if w := warnings.take(); len(w) != 1 || w[0] != `unknown field "spec.bogus"` {
		t.Errorf("warnings = %q", w)
	}

	// Strict validation refuses unknown fields.
	_, err = ws.Create(ctx, schemaWidget("b", map[string]any{"size": int64(3), "bogus": true}), metav1.CreateOptions{FieldValidation: "Strict"})
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), `strict decoding error: unknown field "spec.bogus"`) {
		t.Errorf("strict create: %v", err)
	}

	// Schema violations are 422 Invalid with one cause per field.
	invalid := []struct {
		name  string
		spec  map[string]any
		field string
		cause metav1.CauseType
		msg   string
	}{
		{"too big", map[string]any{"size": int64(20)}, "spec.size", metav1.CauseTypeFieldValueInvalid, "spec.size in body should be less than or equal to 10"},
		{"missing", map[string]any{"color": "red"}, "spec.size", metav1.CauseTypeFieldValueRequired, "Required value"},
		{"enum", map[string]any{"size": int64(1), "color": "pink"}, "spec.color", metav1.CauseTypeFieldValueNotSupported, `supported values: "red", "green", "blue"`},
		{"type", map[string]any{"size": "big"}, "spec.size", metav1.CauseTypeTypeInvalid, "spec.size in body must be of type integer"},
	}
	for _, tt := range invalid {
		_, err := ws.Create(ctx, schemaWidget("bad", tt.spec), metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) {
			t.Errorf("%s: want Invalid, got %v", tt.name, err)
			continue
		}
		st := err.(apierrors.APIStatus).Status()
		if !strings.HasPrefix(st.Message, `Widget.example.com "bad" is invalid: `) || !strings.Contains(st.Message, tt.msg) {
			t.Errorf("%s: message %q", tt.name, st.Message)
		}
		if st.Details == nil || len(st.Details.Causes) == 0 || st.Details.Causes[0].Field != tt.field || st.Details.Causes[0].Type != tt.cause {
			t.Errorf("%s: causes %+v", tt.name, st.Details)
		}
	}

	// Updates are validated too, and leave the object as it was.
	cur, err := ws.Get(ctx, "a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedField(cur.Object, int64(0), "spec", "size")
	if _, err := ws.Update(ctx, cur, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
		t.Errorf("invalid update: %v", err)
	}
	// Status through its subresource: known fields kept, others dropped.
	cur, _ = ws.Get(ctx, "a", metav1.GetOptions{})
	cur.Object["status"] = map[string]any{"ready": true, "noise": "x"}
	st, err := ws.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("status update: %v", err)
	}
	if !strings.Contains(strings.Join(warnings.take(), ","), `unknown field "status.noise"`) {
		t.Errorf("no warning for status.noise")
	}
	if s, _, _ := unstructured.NestedMap(st.Object, "status"); len(s) != 1 || s["ready"] != true {
		t.Errorf("status = %v", s)
	}
}

func TestCustomResourceApply(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	createSchemaCRD(t, ts)
	ctx := context.Background()
	ws := ts.dyn.Resource(widgets).Namespace("default")

	first := schemaWidget("w", map[string]any{"size": int64(2), "ports": []any{map[string]any{"name": "http", "port": int64(8080)}}, "tags": []any{"a"}})
	if _, err := ws.Apply(ctx, "w", first, metav1.ApplyOptions{FieldManager: "one"}); err != nil {
		t.Fatalf("first apply: %v", err)
	}
	// A second manager adds a port and a tag: the list map merges by
	// name and the set by value, as the schema says.
	second := schemaWidget("w", map[string]any{"ports": []any{map[string]any{"name": "https", "port": int64(8443)}}, "tags": []any{"b"}})
	got, err := ws.Apply(ctx, "w", second, metav1.ApplyOptions{FieldManager: "two"})
	if err != nil {
		t.Fatalf("second apply: %v", err)
	}
	ports, _, _ := unstructured.NestedSlice(got.Object, "spec", "ports")
	tags, _, _ := unstructured.NestedStringSlice(got.Object, "spec", "tags")
	if len(ports) != 2 || len(tags) != 2 {
		t.Errorf("after two managers: ports %v tags %v", ports, tags)
	}
	// Changing the first manager's port conflicts, per list item.
	third := schemaWidget("w", map[string]any{"ports": []any{map[string]any{"name": "http", "port": int64(9090)}}})
	_, err = ws.Apply(ctx, "w", third, metav1.ApplyOptions{FieldManager: "two"})
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), `conflict with "one": .spec.ports[name="http"].port`) {
		t.Fatalf("conflicting apply: %v", err)
	}
	// An invalid apply is refused like any write.
	_, err = ws.Apply(ctx, "w", schemaWidget("w", map[string]any{"size": int64(99)}), metav1.ApplyOptions{FieldManager: "one", Force: true})
	if !apierrors.IsInvalid(err) {
		t.Errorf("invalid apply: %v", err)
	}
	// A field the schema does not declare is refused by apply.
	_, err = ws.Apply(ctx, "w", schemaWidget("w", map[string]any{"bogus": int64(1)}), metav1.ApplyOptions{FieldManager: "one"})
	if err == nil || !strings.Contains(err.Error(), "field not declared in schema") {
		t.Errorf("apply of an unknown field: %v", err)
	}
}

// TestCustomResourceServedVersions reads an object written through one
// version of a CRD through another: with no conversion webhook, only its
// apiVersion changes, in gets, lists and watches.
func TestCustomResourceServedVersions(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	crd := widgetCRD()
	beta := crd.Spec.Versions[0]
	beta.Name, beta.Storage = "v1beta1", false
	crd.Spec.Versions = append(crd.Spec.Versions, beta)
	data, err := json.Marshal(crd)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal(data, &u.Object); err != nil {
		t.Fatal(err)
	}
	u.SetAPIVersion("apiextensions.k8s.io/v1")
	u.SetKind("CustomResourceDefinition")
	gvr := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if _, err := ts.dyn.Resource(gvr).Create(ctx, u, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	betaWidgets := schema.GroupVersionResource{Group: "example.com", Version: "v1beta1", Resource: "widgets"}
	w := widget("w", 1)
	w.SetAPIVersion("example.com/v1beta1")
	if _, err := ts.dyn.Resource(betaWidgets).Namespace("default").Create(ctx, w, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	watcher, err := ts.dyn.Resource(widgets).Namespace("default").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Stop()
	got, err := ts.dyn.Resource(widgets).Namespace("default").Get(ctx, "w", metav1.GetOptions{})
	if err != nil || got.GetAPIVersion() != "example.com/v1" {
		t.Fatalf("get through v1: %v %v", err, got)
	}
	list, err := ts.dyn.Resource(widgets).Namespace("default").List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 || list.Items[0].GetAPIVersion() != "example.com/v1" {
		t.Fatalf("list through v1: %v %+v", err, list)
	}
	beta1, err := ts.dyn.Resource(betaWidgets).Namespace("default").List(ctx, metav1.ListOptions{})
	if err != nil || len(beta1.Items) != 1 || beta1.Items[0].GetAPIVersion() != "example.com/v1beta1" {
		t.Fatalf("list through v1beta1: %v %+v", err, beta1)
	}
	ev := <-watcher.ResultChan()
	if o, ok := ev.Object.(*unstructured.Unstructured); !ok || o.GetAPIVersion() != "example.com/v1" {
		t.Errorf("watch through v1: %+v", ev.Object)
	}
}
