package apiserver

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	appsv1apply "k8s.io/client-go/applyconfigurations/apps/v1"
	autoscalingv1apply "k8s.io/client-go/applyconfigurations/autoscaling/v1"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"
	metav1apply "k8s.io/client-go/applyconfigurations/meta/v1"
)

// managers returns "manager/operation[/subresource]" for each entry of
// managedFields, in order.
func managers(entries []metav1.ManagedFieldsEntry) []string {
	var out []string
	for _, e := range entries {
		s := e.Manager + "/" + string(e.Operation)
		if e.Subresource != "" {
			s += "/" + e.Subresource
		}
		out = append(out, s)
	}
	return out
}

// managerEntry returns the managedFields entry of manager, nil when none.
func managerEntry(entries []metav1.ManagedFieldsEntry, manager string) *metav1.ManagedFieldsEntry {
	for i := range entries {
		if entries[i].Manager == manager {
			return &entries[i]
		}
	}
	return nil
}

func TestApplyTyped(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")

	// Apply creates.
	cfg := corev1apply.ConfigMap("applied", "default").WithData(map[string]string{"a": "1", "b": "2"}).WithLabels(map[string]string{"team": "x"})
	cm, err := cms.Apply(ctx, cfg, metav1.ApplyOptions{FieldManager: "alice"})
	if err != nil {
		t.Fatalf("apply create: %v", err)
	}
	if cm.Data["a"] != "1" || cm.UID == "" || cm.ResourceVersion == "" {
		t.Fatalf("apply create returned %+v", cm)
	}
	if got := managers(cm.ManagedFields); strings.Join(got, ",") != "alice/Apply" {
		t.Fatalf("managedFields after create = %v", got)
	}
	if fs := string(cm.ManagedFields[0].FieldsV1.Raw); !strings.Contains(fs, `"f:data":{"f:a":{},"f:b":{}}`) || !strings.Contains(fs, `"f:labels":{"f:team":{}}`) {
		t.Errorf("alice's fields = %s", fs)
	}

	// A second manager taking a field alice owns conflicts.
	_, err = cms.Apply(ctx, corev1apply.ConfigMap("applied", "default").WithData(map[string]string{"a": "bob"}), metav1.ApplyOptions{FieldManager: "bob"})
	if !apierrors.IsConflict(err) {
		t.Fatalf("conflicting apply: want a Conflict, got %v", err)
	}
	st := err.(apierrors.APIStatus).Status()
	if st.Message != `Apply failed with 1 conflict: conflict with "alice": .data.a` {
		t.Errorf("conflict message = %q", st.Message)
	}
	if st.Details == nil || len(st.Details.Causes) != 1 || st.Details.Causes[0].Type != metav1.CauseTypeFieldManagerConflict || st.Details.Causes[0].Field != ".data.a" {
		t.Errorf("conflict details = %+v", st.Details)
	}

	// A dry run with force changes nothing.
	dry, err := cms.Apply(ctx, corev1apply.ConfigMap("applied", "default").WithData(map[string]string{"a": "bob"}), metav1.ApplyOptions{FieldManager: "bob", Force: true, DryRun: []string{metav1.DryRunAll}})
	if err != nil || dry.Data["a"] != "bob" {
		t.Fatalf("dry-run forced apply: %v %+v", err, dry)
	}
	if cur, _ := cms.Get(ctx, "applied", metav1.GetOptions{}); cur.Data["a"] != "1" || len(cur.ManagedFields) != 1 {
		t.Fatalf("dry run changed the object: %+v", cur)
	}

	// Forcing takes the field over.
	cm, err = cms.Apply(ctx, corev1apply.ConfigMap("applied", "default").WithData(map[string]string{"a": "bob"}), metav1.ApplyOptions{FieldManager: "bob", Force: true})
	if err != nil {
		t.Fatalf("forced apply: %v", err)
	}
	if cm.Data["a"] != "bob" || cm.Data["b"] != "2" {
		t.Errorf("forced apply data = %v", cm.Data)
	}
	if fs := string(managerEntry(cm.ManagedFields, "alice").FieldsV1.Raw); strings.Contains(fs, `"f:a"`) {
		t.Errorf("alice still owns data.a: %s", fs)
	}

	// Alice applying without b removes b, which only she owned.
	cm, err = cms.Apply(ctx, corev1apply.ConfigMap("applied", "default").WithLabels(map[string]string{"team": "x"}), metav1.ApplyOptions{FieldManager: "alice"})
	if err != nil {
		t.Fatalf("apply dropping a field: %v", err)
	}
	if _, ok := cm.Data["b"]; ok || cm.Data["a"] != "bob" {
		t.Errorf("after alice dropped b: %v", cm.Data)
	}

	// An update records an Update entry for its manager.
	cm.Data["c"] = "3"
	cm, err = cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: "carol"})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	e := managerEntry(cm.ManagedFields, "carol")
	if e == nil || e.Operation != metav1.ManagedFieldsOperationUpdate || !strings.Contains(string(e.FieldsV1.Raw), `"f:c"`) {
		t.Fatalf("carol's entry = %+v", e)
	}

	// Apply refuses a patch without a field manager.
	_, err = ts.client.CoreV1().RESTClient().Patch(types.ApplyPatchType).Namespace("default").Resource("configmaps").Name("applied").
		Body([]byte(`{"apiVersion":"v1","kind":"ConfigMap"}`)).Do(ctx).Get()
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "fieldManager: Required value: is required for apply patch") {
		t.Errorf("apply without fieldManager: %v", err)
	}
	// A field manager is at most 128 printable characters.
	_, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "long"}}, metav1.CreateOptions{FieldManager: strings.Repeat("m", 129)})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long`) {
		t.Errorf("create with a long fieldManager: %v", err)
	}
	// force is for apply only.
	_, err = ts.client.CoreV1().RESTClient().Patch(types.MergePatchType).Namespace("default").Resource("configmaps").Name("applied").
		Param("force", "true").Body([]byte(`{}`)).Do(ctx).Get()
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "force: Forbidden: may not be specified for non-apply patch") {
		t.Errorf("merge patch with force: %v", err)
	}
}

func TestApplyDeployment(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	deps := ts.client.AppsV1().Deployments("default")
	dep := appsv1apply.Deployment("web", "default").WithSpec(appsv1apply.DeploymentSpec().
		WithReplicas(2).
		WithSelector(metav1apply.LabelSelector().WithMatchLabels(map[string]string{"app": "web"})).
		WithTemplate(corev1apply.PodTemplateSpec().
			WithLabels(map[string]string{"app": "web"}).
			WithSpec(corev1apply.PodSpec().WithContainers(
				corev1apply.Container().WithName("web").WithImage("nginx:1").WithPorts(corev1apply.ContainerPort().WithContainerPort(80)),
			))))
	got, err := deps.Apply(ctx, dep, metav1.ApplyOptions{FieldManager: "ci"})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if got.Generation != 1 || *got.Spec.RevisionHistoryLimit != 10 || got.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
		t.Errorf("applied Deployment not defaulted: %+v", got.Spec)
	}
	// Scaling through the scale subresource records the scale manager.
	if _, err := deps.UpdateScale(ctx, "web", &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: autoscalingv1.ScaleSpec{Replicas: 5}}, metav1.UpdateOptions{FieldManager: "hpa"}); err != nil {
		t.Fatalf("scale: %v", err)
	}
	got, err = deps.Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e := managerEntry(got.ManagedFields, "hpa"); e == nil || e.Subresource != "scale" || !strings.Contains(string(e.FieldsV1.Raw), "f:replicas") {
		t.Errorf("hpa entry = %+v", e)
	}
	// The applier's replicas now conflict with the scaler's.
	_, err = deps.Apply(ctx, dep, metav1.ApplyOptions{FieldManager: "ci"})
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), `conflict with "hpa" with subresource "scale"`) {
		t.Fatalf("apply after scale: %v", err)
	}
	// A change to the container list merges by name.
	dep.Spec.Replicas = nil
	dep.Spec.Template.Spec.Containers[0].WithImage("nginx:2")
	got, err = deps.Apply(ctx, dep, metav1.ApplyOptions{FieldManager: "ci"})
	if err != nil {
		t.Fatalf("apply image change: %v", err)
	}
	if *got.Spec.Replicas != 5 || got.Spec.Template.Spec.Containers[0].Image != "nginx:2" || got.Generation != 3 {
		t.Errorf("after image change: replicas %d image %s generation %d", *got.Spec.Replicas, got.Spec.Template.Spec.Containers[0].Image, got.Generation)
	}
	// Status written through its subresource is owned there.
	got.Status.ObservedGeneration = got.Generation
	got, err = deps.UpdateStatus(ctx, got, metav1.UpdateOptions{FieldManager: "controller"})
	if err != nil {
		t.Fatal(err)
	}
	if e := managerEntry(got.ManagedFields, "controller"); e == nil || e.Subresource != "status" {
		t.Errorf("controller entry = %+v", e)
	}
}

func TestApplyDynamic(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "services"}
	svc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "api"},
		"spec": map[string]any{
			"selector": map[string]any{"app": "api"},
			"ports":    []any{map[string]any{"name": "http", "port": int64(80)}},
		},
	}}
	got, err := ts.dyn.Resource(gvr).Namespace("default").Apply(ctx, "api", svc, metav1.ApplyOptions{FieldManager: "dyn"})
	if err != nil {
		t.Fatalf("dynamic apply: %v", err)
	}
	ip, _, _ := unstructured.NestedString(got.Object, "spec", "clusterIP")
	if ip == "" {
		t.Errorf("applied Service has no clusterIP: %v", got.Object)
	}
	// A second port from another manager merges into the list by port.
	other := svc.DeepCopy()
	_ = unstructured.SetNestedSlice(other.Object, []any{map[string]any{"name": "metrics", "port": int64(9090)}}, "spec", "ports")
	unstructured.RemoveNestedField(other.Object, "spec", "selector")
	got, err = ts.dyn.Resource(gvr).Namespace("default").Apply(ctx, "api", other, metav1.ApplyOptions{FieldManager: "metrics"})
	if err != nil {
		t.Fatalf("second manager: %v", err)
	}
	ports, _, _ := unstructured.NestedSlice(got.Object, "spec", "ports")
	if len(ports) != 2 {
		t.Errorf("ports after two managers = %v", ports)
	}
	if ip2, _, _ := unstructured.NestedString(got.Object, "spec", "clusterIP"); ip2 != ip {
		t.Errorf("clusterIP changed from %s to %s", ip, ip2)
	}

	// A body that is not YAML is a 400; a kind that is not the URL's, too.
	for _, body := range []string{"{not yaml", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"api"}}`} {
		res := ts.client.CoreV1().RESTClient().Patch(types.ApplyPatchType).Namespace("default").Resource("services").Name("api").
			Param("fieldManager", "x").Body([]byte(body)).Do(ctx)
		var code int
		res.StatusCode(&code)
		if code != http.StatusBadRequest {
			t.Errorf("apply of %q: code %d, err %v", body, code, res.Error())
		}
	}
}

func TestManagedFieldsOnCreate(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	cm, err := ts.client.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "made"}, Data: map[string]string{"k": "v"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// With no fieldManager the User-Agent's program name manages.
	if len(cm.ManagedFields) != 1 || cm.ManagedFields[0].Operation != metav1.ManagedFieldsOperationUpdate || cm.ManagedFields[0].Manager != "apiserver.test" {
		t.Fatalf("managedFields = %+v", cm.ManagedFields)
	}
	var fields map[string]any
	if err := json.Unmarshal(cm.ManagedFields[0].FieldsV1.Raw, &fields); err != nil || fields["f:data"] == nil {
		t.Errorf("fields = %s (%v)", cm.ManagedFields[0].FieldsV1.Raw, err)
	}
	// A patch by another manager adds its entry; the first stays.
	cm, err = ts.client.CoreV1().ConfigMaps("default").Patch(ctx, "made", types.MergePatchType, []byte(`{"data":{"j":"w"}}`), metav1.PatchOptions{FieldManager: "patcher"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(managers(cm.ManagedFields), ","); got != "apiserver.test/Update,patcher/Update" {
		t.Errorf("managers after patch = %s", got)
	}
	// An update that changes nothing writes nothing, managedFields
	// included.
	same, err := ts.client.CoreV1().ConfigMaps("default").Update(ctx, cm, metav1.UpdateOptions{FieldManager: "patcher"})
	if err != nil {
		t.Fatal(err)
	}
	if same.ResourceVersion != cm.ResourceVersion {
		t.Errorf("a no-op update moved the resourceVersion from %s to %s", cm.ResourceVersion, same.ResourceVersion)
	}
	// Nor does an apply that changes nothing.
	applied, err := ts.client.CoreV1().ConfigMaps("default").Apply(ctx, corev1apply.ConfigMap("made", "default").WithData(map[string]string{"z": "1"}), metav1.ApplyOptions{FieldManager: "ssa"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := ts.client.CoreV1().ConfigMaps("default").Apply(ctx, corev1apply.ConfigMap("made", "default").WithData(map[string]string{"z": "1"}), metav1.ApplyOptions{FieldManager: "ssa"})
	if err != nil {
		t.Fatal(err)
	}
	if again.ResourceVersion != applied.ResourceVersion {
		t.Errorf("a repeated apply moved the resourceVersion from %s to %s", applied.ResourceVersion, again.ResourceVersion)
	}
}

func TestApplyStatusAndDefinitions(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()

	// A CustomResourceDefinition applied server-side, as Helm v4 does,
	// is typed by apiextensions' schema.
	crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	crd := &unstructured.Unstructured{}
	data, err := json.Marshal(widgetCRD())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &crd.Object); err != nil {
		t.Fatal(err)
	}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	unstructured.RemoveNestedField(crd.Object, "status")
	unstructured.RemoveNestedField(crd.Object, "metadata", "creationTimestamp")
	got, err := ts.dyn.Resource(crdGVR).Apply(ctx, crd.GetName(), crd, metav1.ApplyOptions{FieldManager: "installer"})
	if err != nil {
		t.Fatalf("apply CRD: %v", err)
	}
	// spec.versions is an atomic list in apiextensions' schema.
	if mf := got.GetManagedFields(); len(mf) != 1 || mf[0].Manager != "installer" || !strings.Contains(string(mf[0].FieldsV1.Raw), `"f:versions":{}`) {
		t.Errorf("CRD managedFields = %+v", mf)
	}

	// Its custom resources, whose schema keeps unknown fields, apply too;
	// then their status is applied through the subresource.
	w := widget("w1", 2)
	w.SetLabels(nil)
	if _, err := ts.dyn.Resource(widgets).Namespace("default").Apply(ctx, "w1", w, metav1.ApplyOptions{FieldManager: "one"}); err != nil {
		t.Fatalf("apply widget: %v", err)
	}
	st := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget", "metadata": map[string]any{"name": "w1"},
		"status": map[string]any{"phase": "Ready"},
	}}
	got, err = ts.dyn.Resource(widgets).Namespace("default").ApplyStatus(ctx, "w1", st, metav1.ApplyOptions{FieldManager: "controller"})
	if err != nil {
		t.Fatalf("apply status: %v", err)
	}
	if phase, _, _ := unstructured.NestedString(got.Object, "status", "phase"); phase != "Ready" {
		t.Errorf("status after apply = %v", got.Object["status"])
	}
	if size, _, _ := unstructured.NestedInt64(got.Object, "spec", "size"); size != 2 {
		t.Errorf("spec changed by a status apply: %v", got.Object["spec"])
	}
	var ctrl *metav1.ManagedFieldsEntry
	for _, e := range got.GetManagedFields() {
		if e.Manager == "controller" {
			ctrl = &e
		}
	}
	if ctrl == nil || ctrl.Subresource != "status" || ctrl.Operation != metav1.ManagedFieldsOperationApply {
		t.Errorf("controller entry = %+v", ctrl)
	}
	// The status subresource never creates.
	_, err = ts.dyn.Resource(widgets).Namespace("default").ApplyStatus(ctx, "nope", st, metav1.ApplyOptions{FieldManager: "controller"})
	if !apierrors.IsNotFound(err) {
		t.Errorf("status apply of a missing object: %v", err)
	}
}

func TestApplyScale(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	deps := ts.client.AppsV1().Deployments("default")
	dep := appsv1apply.Deployment("web", "default").WithSpec(appsv1apply.DeploymentSpec().
		WithReplicas(2).
		WithSelector(metav1apply.LabelSelector().WithMatchLabels(map[string]string{"app": "web"})).
		WithTemplate(corev1apply.PodTemplateSpec().WithLabels(map[string]string{"app": "web"}).
			WithSpec(corev1apply.PodSpec().WithContainers(corev1apply.Container().WithName("web").WithImage("nginx:1")))))
	if _, err := deps.Apply(ctx, dep, metav1.ApplyOptions{FieldManager: "ci"}); err != nil {
		t.Fatal(err)
	}
	scale := autoscalingv1apply.Scale().WithSpec(autoscalingv1apply.ScaleSpec().WithReplicas(5))
	_, err := deps.ApplyScale(ctx, "web", scale, metav1.ApplyOptions{FieldManager: "hpa"})
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), `Apply failed with 1 conflict: conflict with "ci": .spec.replicas`) {
		t.Fatalf("scale apply over another manager's replicas: %v", err)
	}
	sc, err := deps.ApplyScale(ctx, "web", scale, metav1.ApplyOptions{FieldManager: "hpa", Force: true})
	if err != nil {
		t.Fatalf("forced scale apply: %v", err)
	}
	if sc.Spec.Replicas != 5 || len(sc.ManagedFields) != 1 || sc.ManagedFields[0].Manager != "hpa" {
		t.Errorf("scale after apply: replicas %d, managedFields %+v", sc.Spec.Replicas, sc.ManagedFields)
	}
	got, err := deps.Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hpa, ci := managerEntry(got.ManagedFields, "hpa"), managerEntry(got.ManagedFields, "ci")
	if *got.Spec.Replicas != 5 || hpa == nil || hpa.Subresource != "scale" || hpa.Operation != metav1.ManagedFieldsOperationApply ||
		string(hpa.FieldsV1.Raw) != `{"f:spec":{"f:replicas":{}}}` {
		t.Errorf("deployment after scale apply: replicas %d, hpa %+v", *got.Spec.Replicas, hpa)
	}
	if ci == nil || strings.Contains(string(ci.FieldsV1.Raw), "f:replicas") {
		t.Errorf("ci still owns replicas: %+v", ci)
	}
	// GET of the scale shows who owns the replicas.
	sc2, err := deps.GetScale(ctx, "web", metav1.GetOptions{})
	if err != nil || len(sc2.ManagedFields) != 1 || sc2.ManagedFields[0].Manager != "hpa" || sc2.ManagedFields[0].APIVersion != "autoscaling/v1" {
		t.Errorf("scale managedFields: %v %+v", err, sc2)
	}
}
