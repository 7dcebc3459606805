package kube

import (
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"pkg.dev/pkg/release"
)

const deployV1 = `# Source: web/templates/deploy.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations: {chart-only: "yes"}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.0
        env:
        - {name: MODE, value: old}
      - name: sidecar
        image: busybox
`

const deployV2 = `# Source: web/templates/deploy.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:2.0
        env:
        - {name: NEW, value: "1"}
`

// A strategic three-way merge keeps what someone else set live and the
// chart never mentioned, and removes what the chart dropped.
func TestUpdateThreeWayStrategic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	original := e.create(deployV1)
	// kubectl label/annotate and kubectl set env, as an operator would.
	patch := `{"metadata":{"labels":{"team":"blue"}},"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"DEBUG","value":"1"}]}]}}}}`
	if _, err := e.typed.AppsV1().Deployments("default").Patch(ctx(t), "web", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "kubectl"}); err != nil {
		t.Fatal(err)
	}
	target := e.build(deployV2)
	res, err := e.client.Update(ctx(t), original, target, release.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if names(res.Updated) != "Deployment/web" || len(res.Created)+len(res.Deleted) != 0 {
		t.Errorf("result created=%q updated=%q deleted=%q", names(res.Created), names(res.Updated), names(res.Deleted))
	}
	dep, err := e.typed.AppsV1().Deployments("default").Get(ctx(t), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if dep.Labels["team"] != "blue" {
		t.Errorf("live label team=blue lost: %v", dep.Labels)
	}
	if _, ok := dep.Annotations["chart-only"]; ok {
		t.Errorf("annotation dropped from the chart survived: %v", dep.Annotations)
	}
	cs := dep.Spec.Template.Spec.Containers
	if len(cs) != 1 || cs[0].Name != "web" {
		t.Fatalf("containers %+v, want only web (sidecar dropped from the chart)", cs)
	}
	if cs[0].Image != "nginx:2.0" {
		t.Errorf("image %q, want nginx:2.0", cs[0].Image)
	}
	var env []string
	for _, v := range cs[0].Env {
		env = append(env, v.Name+"="+v.Value)
	}
	sort.Strings(env)
	if strings.Join(env, ",") != "DEBUG=1,NEW=1" {
		t.Errorf("env %v, want the live DEBUG=1 and the chart's NEW=1 (MODE dropped from the chart)", env)
	}

	// A second identical upgrade sends nothing.
	before := e.logs.matching("patching")
	if _, err := e.client.Update(ctx(t), target, e.build(deployV2), release.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if after := e.logs.matching("patching"); len(after) != len(before) {
		t.Errorf("an unchanged upgrade patched: %q", after[len(before):])
	}
}

// Custom resources get a three-way JSON merge patch.
func TestUpdateCustomResourceJSONMerge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	crd := e.create(crdWidgets)
	if err := e.client.Wait(ctx(t), crd, release.WaitOptions{Timeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	original := e.create("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 1, color: red}\n")
	live := e.dynamic.Resource(original[0].GVR).Namespace("default")
	if _, err := live.Patch(ctx(t), "w", types.MergePatchType, []byte(`{"spec":{"owner":"ops"}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	target := e.build("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n")
	if _, err := e.client.Update(ctx(t), original, target, release.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	got := e.get(target[0])
	spec, _, _ := unstructured.NestedMap(got.Object, "spec")
	if spec["size"] != int64(3) || spec["owner"] != "ops" || spec["color"] != nil {
		t.Errorf("spec = %v, want size 3, owner ops kept, color removed", spec)
	}
	if p := e.logs.matching("patching"); len(p) != 1 || !strings.Contains(p[0], "merge-patch+json") {
		t.Errorf("patches %q, want one JSON merge patch", p)
	}
}

// Resources dropped from the chart are deleted, unless kept by the
// annotation or by UpdateOptions.Keep; new ones are created.
func TestUpdateCreatesAndDeletes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	original := e.create(`apiVersion: v1
kind: ConfigMap
metadata: {name: stays}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: annotated
  annotations: {helm.sh/resource-policy: keep}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: kept-by-caller}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: dropped}
`)
	target := e.build("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stays}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: added}\n")
	res, err := e.client.Update(ctx(t), original, target, release.UpdateOptions{
		Keep: func(r *release.Resource) bool { return r.Name == "kept-by-caller" },
	})
	if err != nil {
		t.Fatal(err)
	}
	if names(res.Created) != "Secret/added" || names(res.Updated) != "ConfigMap/stays" || names(res.Deleted) != "ConfigMap/dropped" {
		t.Errorf("created=%q updated=%q deleted=%q", names(res.Created), names(res.Updated), names(res.Deleted))
	}
	for i, alive := range []bool{true, true, true, false} {
		if got := e.get(original[i]) != nil; got != alive {
			t.Errorf("%s exists=%v, want %v", original[i], got, alive)
		}
	}
}

// Force replaces the object: fields set live by others go, and a change the
// server refuses in place (an immutable field) deletes and re-creates it.
func TestUpdateForce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	original := e.create(`apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a: "1"}
---
apiVersion: v1
kind: Service
metadata: {name: svc}
spec:
  clusterIP: 10.96.100.10
  ports: [{port: 80}]
`)
	if _, err := e.typed.CoreV1().ConfigMaps("default").Patch(ctx(t), "cfg", types.MergePatchType, []byte(`{"data":{"extra":"x"}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	uidBefore := e.get(original[1]).GetUID()
	target := e.build(`apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a: "2"}
---
apiVersion: v1
kind: Service
metadata: {name: svc}
spec:
  clusterIP: 10.96.100.20
  ports: [{port: 80}]
`)
	res, err := e.client.Update(ctx(t), original, target, release.UpdateOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if names(res.Updated) != "ConfigMap/cfg Service/svc" {
		t.Errorf("updated %q", names(res.Updated))
	}
	cm := e.get(target[0])
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	if len(data) != 1 || data["a"] != "2" {
		t.Errorf("data = %v, want only a=2 after a forced replace", data)
	}
	svc := e.get(target[1])
	ip, _, _ := unstructured.NestedString(svc.Object, "spec", "clusterIP")
	if ip != "10.96.100.20" || svc.GetUID() == uidBefore {
		t.Errorf("service clusterIP %s uid changed=%v, want re-created with 10.96.100.20", ip, svc.GetUID() != uidBefore)
	}
}

// A failed patch names the resource and the API's message, does not stop
// the other patches, and leaves dropped resources alone.
func TestUpdatePatchError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	original := e.create(`apiVersion: v1
kind: Service
metadata: {name: svc}
spec:
  clusterIP: 10.96.100.30
  ports: [{port: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: dropped}
`)
	target := e.build(`apiVersion: v1
kind: Service
metadata: {name: svc}
spec:
  clusterIP: 10.96.100.31
  ports: [{port: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a: "2"}
`)
	_, err := e.client.Update(ctx(t), original, target, release.UpdateOptions{})
	if err == nil {
		t.Fatal("Update changed an immutable field without an error")
	}
	if !strings.Contains(err.Error(), `cannot patch "svc" with kind Service: Service "svc" is invalid`) || !strings.Contains(err.Error(), "clusterIP") {
		t.Errorf("error %q, want the resource and the API's message", err)
	}
	if v, _, _ := unstructured.NestedString(e.get(target[1]).Object, "data", "a"); v != "2" {
		t.Errorf("cfg data.a = %q, want 2: the other patch must still apply", v)
	}
	if e.get(original[2]) == nil {
		t.Error("a dropped resource was deleted although the update failed")
	}
}

// An object live but absent from the previous release (adopted) is merged
// with the live object as the original; one in both but gone live is
// created again.
func TestUpdateAdoptsAndRecreates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: adopted}\ndata: {a: \"1\", b: \"2\"}\n")
	original := e.create("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lost}\n")
	if _, errs := e.client.Delete(ctx(t), original, release.DeleteOptions{}); len(errs) > 0 {
		t.Fatal(errs)
	}
	target := e.build("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: adopted}\ndata: {a: \"9\"}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: lost}\n")
	res, err := e.client.Update(ctx(t), original, target, release.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if names(res.Created) != "ConfigMap/lost" || names(res.Updated) != "ConfigMap/adopted" {
		t.Errorf("created=%q updated=%q", names(res.Created), names(res.Updated))
	}
	data, _, _ := unstructured.NestedStringMap(e.get(target[0]).Object, "data")
	if len(data) != 1 || data["a"] != "9" {
		t.Errorf("adopted data = %v, want a=9 only (the live object is the original, as in Helm)", data)
	}
	if e.get(target[1]) == nil {
		t.Error("the object missing live was not created")
	}
}

// With the live objects read ahead, Update patches from them without
// reading each object again, creates what was missing, and patches an
// object that was missing when read ahead but appeared since.
func TestUpdateWithLiveReadAhead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	original := e.create(deployV1)
	target := e.build(deployV2 + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: new}\ndata: {k: v}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: late}\ndata: {k: chart}\n")
	live, err := e.client.Get(ctx(t), target)
	if err != nil {
		t.Fatal(err)
	}
	if live[0] == nil || live[1] != nil || live[2] != nil {
		t.Fatalf("read ahead: %v", live)
	}
	// "late" appears between the read-ahead and the update.
	e.create("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late}\ndata: {k: someone-else, other: dropped}\n")
	res, err := e.client.Update(ctx(t), original, target, release.UpdateOptions{Live: live})
	if err != nil {
		t.Fatal(err)
	}
	if names(res.Updated) != "Deployment/web ConfigMap/late" {
		t.Errorf("updated=%q, want the Deployment and the late ConfigMap", names(res.Updated))
	}
	if names(res.Created) != "ConfigMap/new" {
		t.Errorf("created=%q, want ConfigMap/new", names(res.Created))
	}
	dep := e.get(target[0])
	if img, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers"); len(img) != 1 {
		t.Errorf("containers after the update: %v", img)
	}
	late := e.get(target[2])
	// Not in the previous release: the live object is the merge's
	// original, as Helm merges it, so the chart's data replaces it.
	if got, _, _ := unstructured.NestedStringMap(late.Object, "data"); len(got) != 1 || got["k"] != "chart" {
		t.Errorf("late ConfigMap data %v, want the chart's", got)
	}
}

// noop tells a patch that would change nothing from one that would, for
// both patch types, without a request.
func TestNoop(t *testing.T) {
	deploy := &release.Resource{GVK: schemaGVK("apps", "v1", "Deployment")}
	widget := &release.Resource{GVK: schemaGVK("example.com", "v1", "Widget")}
	live := []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2,"template":{"spec":{"containers":[{"name":"web","image":"a"},{"name":"side","image":"b"}]}}}}`)
	for _, c := range []struct {
		name  string
		r     *release.Resource
		patch string
		pt    types.PatchType
		want  bool
	}{
		{"order as it is", deploy, `{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"side"}]}}}}`, types.StrategicMergePatchType, true},
		{"deleting what is gone", deploy, `{"spec":{"paused":null}}`, types.StrategicMergePatchType, true},
		{"same value", deploy, `{"spec":{"replicas":2}}`, types.StrategicMergePatchType, true},
		{"new image", deploy, `{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"c"}]}}}}`, types.StrategicMergePatchType, false},
		{"deleting a container", deploy, `{"spec":{"template":{"spec":{"containers":[{"$patch":"delete","name":"side"}]}}}}`, types.StrategicMergePatchType, false},
		{"merge: same value", widget, `{"spec":{"replicas":2}}`, types.MergePatchType, true},
		{"merge: new value", widget, `{"spec":{"replicas":3}}`, types.MergePatchType, false},
		{"merge: removing a field", widget, `{"spec":{"replicas":null}}`, types.MergePatchType, false},
	} {
		if got := noop(c.r, live, []byte(c.patch), c.pt); got != c.want {
			t.Errorf("%s: noop = %v, want %v", c.name, got, c.want)
		}
	}
}

func schemaGVK(group, version, kind string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: group, Version: version, Kind: kind}
}
