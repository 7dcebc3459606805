package apiserver

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func TestCreateGetList(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")
	for _, cm := range []struct{ name, app string }{{"a", "web"}, {"b", "web"}, {"c", "db"}} {
		got, err := cms.Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: cm.name, Labels: map[string]string{"app": cm.app}},
			Data:       map[string]string{"k": "v"},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// ConfigMaps have no generation in kube-apiserver (workloads do).
		if got.UID == "" || got.ResourceVersion == "" || got.CreationTimestamp.IsZero() || got.Generation != 0 || got.Namespace != "default" {
			t.Fatalf("create did not fill metadata: %+v", got.ObjectMeta)
		}
	}
	gen, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "gen-"}}, metav1.CreateOptions{})
	if err != nil || !strings.HasPrefix(gen.Name, "gen-") || len(gen.Name) != len("gen-")+5 {
		t.Fatalf("generateName: %v %q", err, gen.Name)
	}
	// As kube-apiserver: a long prefix is cut to 58 characters, so the
	// generated name is 63 (a ReplicaSet's Pods of a long Deployment).
	long := strings.Repeat("abcdefghij", 7) + "-"
	longGen, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: long}}, metav1.CreateOptions{})
	if err != nil || len(longGen.Name) != 63 || !strings.HasPrefix(longGen.Name, long[:58]) {
		t.Fatalf("a 71-character generateName: %v %q", err, longGen.Name)
	}
	if err := cms.Delete(ctx, longGen.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := cms.Get(ctx, "a", metav1.GetOptions{})
	if err != nil || got.Data["k"] != "v" {
		t.Fatalf("get: %v %+v", err, got)
	}

	tests := []struct {
		name string
		opts metav1.ListOptions
		want []string
	}{
		{"all", metav1.ListOptions{}, []string{"a", "b", "c", gen.Name}},
		{"label", metav1.ListOptions{LabelSelector: "app=web"}, []string{"a", "b"}},
		{"label set", metav1.ListOptions{LabelSelector: "app in (db)"}, []string{"c"}},
		{"field name", metav1.ListOptions{FieldSelector: "metadata.name=b"}, []string{"b"}},
		{"field ns", metav1.ListOptions{FieldSelector: "metadata.namespace=other"}, nil},
		{"both", metav1.ListOptions{LabelSelector: "app=web", FieldSelector: "metadata.name!=a"}, []string{"b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := cms.List(ctx, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, i := range list.Items {
				names = append(names, i.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", names, tt.want)
			}
			if list.ResourceVersion == "" {
				t.Error("list has no resourceVersion")
			}
		})
	}

	t.Run("all namespaces", func(t *testing.T) {
		list, err := ts.client.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{LabelSelector: "app"})
		if err != nil || len(list.Items) != 3 {
			t.Fatalf("%v %+v", err, list)
		}
	})

	t.Run("paging", func(t *testing.T) {
		var names []string
		opts := metav1.ListOptions{Limit: 1, LabelSelector: "app=web"}
		for page := 0; ; page++ {
			list, err := cms.List(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Items) > 1 {
				t.Fatalf("page of %d items", len(list.Items))
			}
			for _, i := range list.Items {
				names = append(names, i.Name)
			}
			if list.Continue == "" {
				break
			}
			opts.Continue = list.Continue
		}
		if strings.Join(names, ",") != "a,b" {
			t.Errorf("paged %v", names)
		}
	})

	t.Run("errors", func(t *testing.T) {
		_, err := cms.Get(ctx, "missing", metav1.GetOptions{})
		if !apierrors.IsNotFound(err) || err.Error() != `configmaps "missing" not found` {
			t.Errorf("get missing: %v", err)
		}
		_, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, metav1.CreateOptions{})
		if !apierrors.IsAlreadyExists(err) {
			t.Errorf("create twice: %v", err)
		}
		_, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "Bad_Name"}}, metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `metadata.name: Invalid value: "Bad_Name"`) {
			t.Errorf("bad name: %v", err)
		}
		if st, ok := err.(apierrors.APIStatus); !ok || len(st.Status().Details.Causes) != 1 || st.Status().Details.Causes[0].Field != "metadata.name" {
			t.Errorf("bad name causes: %#v", err)
		}
		_, err = ts.client.CoreV1().ConfigMaps("nope").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
		if !apierrors.IsNotFound(err) || err.Error() != `namespaces "nope" not found` {
			t.Errorf("missing namespace: %v", err)
		}
		_, err = cms.List(ctx, metav1.ListOptions{FieldSelector: "data.k=v"})
		if !apierrors.IsBadRequest(err) {
			t.Errorf("unsupported field label: %v", err)
		}
		big := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "big"}, Data: map[string]string{"x": strings.Repeat("x", 2<<20)}}
		_, err = cms.Create(ctx, big, metav1.CreateOptions{})
		if !apierrors.IsRequestEntityTooLargeError(err) {
			t.Errorf("big body: %v", err)
		}
	})
}

func TestUpdateConflictAndGeneration(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	deps := ts.client.AppsV1().Deployments("default")
	d, err := deps.Create(ctx, deployment("web", 1), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stale := d.DeepCopy()

	d.Labels = map[string]string{"tier": "front"}
	d, err = deps.Update(ctx, d, metav1.UpdateOptions{})
	if err != nil || d.Generation != 1 {
		t.Fatalf("metadata-only update: %v generation %d", err, d.Generation)
	}
	d.Spec.Replicas = ptr.To[int32](3)
	d.Status.Replicas = 7 // ignored: status has its own subresource
	d, err = deps.Update(ctx, d, metav1.UpdateOptions{})
	if err != nil || d.Generation != 2 || d.Status.Replicas != 0 {
		t.Fatalf("spec update: %v generation %d status %d", err, d.Generation, d.Status.Replicas)
	}

	stale.Spec.Replicas = ptr.To[int32](5)
	_, err = deps.Update(ctx, stale, metav1.UpdateOptions{})
	want := `Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again`
	if !apierrors.IsConflict(err) || err.Error() != want {
		t.Fatalf("stale update: %v", err)
	}

	d.Status.Replicas, d.Status.ReadyReplicas = 3, 2
	d.Spec.Replicas = ptr.To[int32](9) // ignored by a status update
	d, err = deps.UpdateStatus(ctx, d, metav1.UpdateOptions{})
	if err != nil || d.Status.ReadyReplicas != 2 || *d.Spec.Replicas != 3 || d.Generation != 2 {
		t.Fatalf("status update: %v %+v", err, d)
	}

	sc, err := deps.GetScale(ctx, "web", metav1.GetOptions{})
	if err != nil || sc.Spec.Replicas != 3 || sc.Status.Selector != "app=web" {
		t.Fatalf("get scale: %v %+v", err, sc)
	}
	sc.Spec.Replicas = 4
	if _, err := deps.UpdateScale(ctx, "web", sc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	d, _ = deps.Get(ctx, "web", metav1.GetOptions{})
	if *d.Spec.Replicas != 4 || d.Generation != 3 {
		t.Fatalf("after scale: replicas %d generation %d", *d.Spec.Replicas, d.Generation)
	}
}

func TestSecretStringData(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	s, err := ts.client.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "s"},
		StringData: map[string]string{"password": "hunter2"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Data["password"]) != "hunter2" || s.StringData != nil || s.Type != corev1.SecretTypeOpaque {
		t.Fatalf("secret: %+v", s)
	}
}

func TestPatch(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	deps := ts.client.AppsV1().Deployments("default")
	if _, err := deps.Create(ctx, deployment("web", 1), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		pt    types.PatchType
		patch string
		sub   []string
		check func(*appsv1.Deployment) bool
	}{
		{"json", types.JSONPatchType, `[{"op":"replace","path":"/spec/replicas","value":2}]`, nil,
			func(d *appsv1.Deployment) bool { return *d.Spec.Replicas == 2 }},
		{"merge", types.MergePatchType, `{"metadata":{"labels":{"x":"y"}}}`, nil,
			func(d *appsv1.Deployment) bool { return d.Labels["x"] == "y" && *d.Spec.Replicas == 2 }},
		{"strategic adds a container", types.StrategicMergePatchType,
			`{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox"}]}}}}`, nil,
			func(d *appsv1.Deployment) bool { return len(d.Spec.Template.Spec.Containers) == 2 }},
		{"strategic merges by name", types.StrategicMergePatchType,
			`{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:2"}]}}}}`, nil,
			func(d *appsv1.Deployment) bool {
				for _, c := range d.Spec.Template.Spec.Containers {
					if c.Name == "web" {
						return len(d.Spec.Template.Spec.Containers) == 2 && c.Image == "nginx:2"
					}
				}
				return false
			}},
		{"status", types.MergePatchType, `{"status":{"readyReplicas":1},"spec":{"replicas":8}}`, []string{"status"},
			func(d *appsv1.Deployment) bool { return d.Status.ReadyReplicas == 1 && *d.Spec.Replicas == 2 }},
	}
	for _, tt := range tests {
		d, err := deps.Patch(ctx, "web", tt.pt, []byte(tt.patch), metav1.PatchOptions{}, tt.sub...)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !tt.check(d) {
			t.Errorf("%s: unexpected result %+v", tt.name, d.Spec)
		}
	}
	_, err := deps.Patch(ctx, "web", types.MergePatchType, []byte(`{"metadata":{"resourceVersion":"1"},"spec":{"replicas":1}}`), metav1.PatchOptions{})
	if !apierrors.IsConflict(err) {
		t.Errorf("patch with stale resourceVersion: %v", err)
	}
	_, err = deps.Patch(ctx, "web", types.ApplyPatchType, []byte(`{}`), metav1.PatchOptions{FieldManager: "x"})
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "invalid object type") {
		t.Errorf("apply patch without apiVersion and kind: %v", err)
	}
	_, err = deps.Patch(ctx, "missing", types.MergePatchType, []byte(`{}`), metav1.PatchOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("patch missing: %v", err)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")
	for _, n := range []string{"a", "b", "c"} {
		if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: n, Labels: map[string]string{"n": n}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := cms.Delete(ctx, "a", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: ptr.To(types.UID("other"))}}); !apierrors.IsConflict(err) {
		t.Errorf("delete with wrong uid: %v", err)
	}
	if err := cms.Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "a", metav1.DeleteOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("delete twice: %v", err)
	}
	if err := cms.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "n=b"}); err != nil {
		t.Fatal(err)
	}
	list, _ := cms.List(ctx, metav1.ListOptions{})
	if len(list.Items) != 1 || list.Items[0].Name != "c" {
		t.Errorf("left %+v", list.Items)
	}
	if err := ts.client.CoreV1().Namespaces().Delete(ctx, "default", metav1.DeleteOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("delete default namespace: %v", err)
	}
	if _, err := ts.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tmp"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.client.CoreV1().ConfigMaps("tmp").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := ts.client.CoreV1().Namespaces().Delete(ctx, "tmp", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the configmap to go with its namespace", func() bool {
		_, err := ts.client.CoreV1().ConfigMaps("tmp").Get(ctx, "x", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
}

// deployment returns a minimal Deployment.
func deployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	d := deployment("web", 1)
	d.Spec.Replicas = nil
	d.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80}}
	d.Spec.Template.Spec.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(80)}}, PeriodSeconds: 3}
	got, err := ts.client.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := got.Spec.Template.Spec.Containers[0]
	if *got.Spec.Replicas != 1 || got.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType ||
		got.Spec.Strategy.RollingUpdate.MaxSurge.String() != "25%" || *got.Spec.RevisionHistoryLimit != 10 ||
		got.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways || c.Ports[0].Protocol != corev1.ProtocolTCP ||
		c.ImagePullPolicy != corev1.PullAlways {
		t.Errorf("deployment defaults: %+v", got.Spec)
	}
	if p := c.ReadinessProbe; p.HTTPGet.Path != "/" || p.HTTPGet.Scheme != corev1.URISchemeHTTP || p.TimeoutSeconds != 1 ||
		p.PeriodSeconds != 3 || p.SuccessThreshold != 1 || p.FailureThreshold != 3 {
		t.Errorf("probe defaults: %+v", p)
	}
	svc, err := ts.client.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.Type != corev1.ServiceTypeClusterIP || svc.Spec.Ports[0].TargetPort.IntValue() != 80 || svc.Spec.Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("service defaults: %+v", svc.Spec)
	}
	if got := imageTag("registry:5000/app"); got != "latest" {
		t.Errorf("imageTag = %q", got)
	}
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")
	dry := []string{metav1.DryRunAll}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Data: map[string]string{"k": "1"}}
	if _, err := cms.Create(ctx, cm, metav1.CreateOptions{DryRun: dry}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Get(ctx, "a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("dry-run create stored the object: %v", err)
	}
	cur, err := cms.Create(ctx, cm, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Create(ctx, cm, metav1.CreateOptions{DryRun: dry}); !apierrors.IsAlreadyExists(err) {
		t.Errorf("dry-run create of an existing object: %v", err)
	}
	p, err := cms.Patch(ctx, "a", types.MergePatchType, []byte(`{"data":{"k":"2"}}`), metav1.PatchOptions{DryRun: dry})
	if err != nil || p.Data["k"] != "2" {
		t.Fatalf("dry-run patch: %v %+v", err, p)
	}
	if err := cms.Delete(ctx, "a", metav1.DeleteOptions{DryRun: dry}); err != nil {
		t.Fatal(err)
	}
	got, err := cms.Get(ctx, "a", metav1.GetOptions{})
	if err != nil || got.Data["k"] != "1" || got.ResourceVersion != cur.ResourceVersion {
		t.Fatalf("dry runs changed the object: %v %+v", err, got)
	}
	code, st := ts.do(t, "DELETE", "/api/v1/namespaces/default/configmaps/a?dryRun=Some", "", "")
	if code != 400 || st.Reason != metav1.StatusReasonBadRequest {
		t.Errorf("bad dryRun value: %d %+v", code, st)
	}
}

// TestGenerationTrackedAsKube: metadata.generation is kept, and moved by
// spec changes only, for the kinds kube-apiserver keeps it for
// (workloads), and absent from the others (ConfigMaps).
func TestGenerationTrackedAsKube(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	cm, err := ts.client.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "g", Generation: 7}, Data: map[string]string{"a": "1"}}, metav1.CreateOptions{})
	if err != nil || cm.Generation != 0 {
		t.Fatalf("ConfigMap create: %v, generation %d", err, cm.Generation)
	}
	cm.Data["a"] = "2"
	if cm, err = ts.client.CoreV1().ConfigMaps("default").Update(ctx, cm, metav1.UpdateOptions{}); err != nil || cm.Generation != 0 {
		t.Fatalf("ConfigMap update: %v, generation %d", err, cm.Generation)
	}
	d, err := ts.client.AppsV1().Deployments("default").Create(ctx, deployment("g", 1), metav1.CreateOptions{})
	if err != nil || d.Generation != 1 {
		t.Fatalf("Deployment create: %v, generation %d", err, d.Generation)
	}
	d.Spec.Replicas = ptrInt32(2)
	if d, err = ts.client.AppsV1().Deployments("default").Update(ctx, d, metav1.UpdateOptions{}); err != nil || d.Generation != 2 {
		t.Fatalf("Deployment spec update: %v, generation %d", err, d.Generation)
	}
	d.Labels = map[string]string{"x": "y"}
	if d, err = ts.client.AppsV1().Deployments("default").Update(ctx, d, metav1.UpdateOptions{}); err != nil || d.Generation != 2 {
		t.Fatalf("Deployment label update: %v, generation %d", err, d.Generation)
	}
}

func ptrInt32(v int32) *int32 { return &v }
