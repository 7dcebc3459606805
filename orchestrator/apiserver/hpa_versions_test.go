package apiserver

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	autoscalingv1apply "k8s.io/client-go/applyconfigurations/autoscaling/v1"
	autoscalingv2apply "k8s.io/client-go/applyconfigurations/autoscaling/v2"
)

// v1Target is the autoscaling/v1 scale target of the tests' autoscalers.
var v1Target = autoscalingv1.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}

// v2WithExtras is an autoscaler with what autoscaling/v1 cannot say: a
// memory metric besides the cpu one and a behavior.
func v2WithExtras(name string) *autoscalingv2.HorizontalPodAutoscaler {
	h := richHPA()
	h.ObjectMeta = metav1.ObjectMeta{Name: name, Annotations: map[string]string{"team": "a"}}
	h.Spec.Metrics = []autoscalingv2.MetricSpec{h.Spec.Metrics[0], h.Spec.Metrics[len(h.Spec.Metrics)-1]}
	h.Status = autoscalingv2.HorizontalPodAutoscalerStatus{}
	return h
}

// TestHPAServedInV1AndV2: the same stored autoscalers through both
// versions, each way: create, get, list, watch, update, the patches,
// server-side apply, status, Tables and delete.
func TestHPAServedInV1AndV2(t *testing.T) {
	t.Parallel()
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ts := newTestServerWith(t, func(c *Config) { c.Clock = func() time.Time { return fixed } })
	ctx := context.Background()
	v1 := ts.client.AutoscalingV1().HorizontalPodAutoscalers("default")
	v2 := ts.client.AutoscalingV2().HorizontalPodAutoscalers("default")
	fifty := int32(50)

	t.Run("create v1, read v2", func(t *testing.T) {
		w, err := v2.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=from-v1"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		created, err := v1.Create(ctx, &autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "from-v1"},
			Spec: autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: v1Target, MaxReplicas: 5, TargetCPUUtilizationPercentage: &fifty}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if *created.Spec.MinReplicas != 1 || *created.Spec.TargetCPUUtilizationPercentage != 50 || created.Annotations != nil {
			t.Errorf("created %+v, annotations %v", created.Spec, created.Annotations)
		}
		got, err := v2.Get(ctx, "from-v1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		jsonIs(t, "v2 metrics", got.Spec.Metrics, `[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":50}}}]`)
		if got.ResourceVersion != created.ResourceVersion || got.UID != created.UID {
			t.Errorf("v2 %s/%s, v1 %s/%s", got.UID, got.ResourceVersion, created.UID, created.ResourceVersion)
		}
		list, err := v2.List(ctx, metav1.ListOptions{})
		if err != nil || len(list.Items) != 1 || list.Items[0].Spec.Metrics[0].Resource.Name != corev1.ResourceCPU {
			t.Fatalf("v2 list %v %+v", err, list)
		}
		ev := nextEvent(t, w)
		if h, ok := ev.Object.(*autoscalingv2.HorizontalPodAutoscaler); ev.Type != watch.Added || !ok || *h.Spec.Metrics[0].Resource.Target.AverageUtilization != 50 {
			t.Errorf("v2 watch event %s %#v", ev.Type, ev.Object)
		}
		// Without a cpu target, Kubernetes' default of 80%.
		if _, err := v1.Create(ctx, &autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "default-cpu"},
			Spec: autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: v1Target, MaxReplicas: 3}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		d, err := v2.Get(ctx, "default-cpu", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		jsonIs(t, "default metrics", d.Spec.Metrics, `[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":80}}}]`)
		if err := v1.Delete(ctx, "default-cpu", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := v2.Get(ctx, "default-cpu", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("deleted through v1, v2 get: %v", err)
		}
	})

	t.Run("create v2, read and write v1", func(t *testing.T) {
		w, err := v1.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=from-v2"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		created, err := v2.Create(ctx, v2WithExtras("from-v2"), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ev := nextEvent(t, w)
		if h, ok := ev.Object.(*autoscalingv1.HorizontalPodAutoscaler); ev.Type != watch.Added || !ok || *h.Spec.TargetCPUUtilizationPercentage != 50 ||
			h.Annotations[hpaMetricsAnnotation] == "" {
			t.Errorf("v1 watch event %s %#v", ev.Type, ev.Object)
		}
		got, err := v1.Get(ctx, "from-v2", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if *got.Spec.TargetCPUUtilizationPercentage != 50 || got.Annotations["team"] != "a" ||
			got.Annotations[hpaMetricsAnnotation] != `[{"type":"Resource","resource":{"name":"memory","targetAverageUtilization":70}}]` ||
			!strings.HasPrefix(got.Annotations[hpaBehaviorAnnotation], `{"ScaleUp":{"StabilizationWindowSeconds":0,"SelectPolicy":"Max"`) {
			t.Errorf("v1 get %+v %v", got.Spec, got.Annotations)
		}
		list, err := v1.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range list.Items {
			if h.Spec.TargetCPUUtilizationPercentage == nil {
				t.Errorf("v1 list item %s has no cpu target", h.Name)
			}
		}
		code, _, body := ts.get(t, "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers", "application/json")
		if code != http.StatusOK || !strings.HasPrefix(string(body), `{"apiVersion":"autoscaling/v1","items":[{"apiVersion":"autoscaling/v1",`) {
			t.Errorf("raw v1 list %d %.200s", code, body)
		}

		// An update through v1 changes what v1 says and keeps the rest.
		got.Spec.MaxReplicas = 7
		fortyFive := int32(45)
		got.Spec.TargetCPUUtilizationPercentage = &fortyFive
		updated, err := v1.Update(ctx, got, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if updated.Spec.MaxReplicas != 7 || updated.Generation != created.Generation+1 {
			t.Errorf("updated %+v generation %d", updated.Spec, updated.Generation)
		}
		back, err := v2.Get(ctx, "from-v2", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		jsonIs(t, "metrics after the v1 update", back.Spec.Metrics,
			`[{"type":"Resource","resource":{"name":"memory","target":{"type":"Utilization","averageUtilization":70}}},`+
				`{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":45}}}]`)
		if back.Spec.MaxReplicas != 7 || back.Spec.Behavior == nil || *back.Spec.Behavior.ScaleDown.StabilizationWindowSeconds != 120 ||
			back.Annotations["team"] != "a" || len(back.Annotations) != 1 {
			t.Errorf("v2 after the v1 update: %+v %v", back.Spec, back.Annotations)
		}
		ev = nextEvent(t, w)
		if h, ok := ev.Object.(*autoscalingv1.HorizontalPodAutoscaler); ev.Type != watch.Modified || !ok || *h.Spec.TargetCPUUtilizationPercentage != 45 {
			t.Errorf("v1 watch event %s %#v", ev.Type, ev.Object)
		}
	})

	t.Run("patches through v1", func(t *testing.T) {
		for _, p := range []struct {
			pt   types.PatchType
			body string
		}{
			{types.StrategicMergePatchType, `{"spec":{"targetCPUUtilizationPercentage":60}}`},
			{types.MergePatchType, `{"spec":{"maxReplicas":9}}`},
			{types.JSONPatchType, `[{"op":"replace","path":"/spec/minReplicas","value":2}]`},
		} {
			out, err := v1.Patch(ctx, "from-v2", p.pt, []byte(p.body), metav1.PatchOptions{})
			if err != nil {
				t.Fatalf("%s: %v", p.pt, err)
			}
			if out.APIVersion != "" && out.APIVersion != "autoscaling/v1" || out.Annotations[hpaMetricsAnnotation] == "" {
				t.Errorf("%s answered %s %v", p.pt, out.APIVersion, out.Annotations)
			}
		}
		back, err := v2.Get(ctx, "from-v2", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		jsonIs(t, "metrics after the v1 patches", back.Spec.Metrics,
			`[{"type":"Resource","resource":{"name":"memory","target":{"type":"Utilization","averageUtilization":70}}},`+
				`{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":60}}}]`)
		if back.Spec.MaxReplicas != 9 || *back.Spec.MinReplicas != 2 || back.Spec.Behavior == nil || len(back.Annotations) != 1 {
			t.Errorf("v2 after the v1 patches: %+v %v", back.Spec, back.Annotations)
		}
		// A patch through v1 that removes the metrics annotation removes
		// those metrics, as in Kubernetes.
		if _, err := v1.Patch(ctx, "from-v2", types.MergePatchType, []byte(`{"metadata":{"annotations":{"`+hpaMetricsAnnotation+`":null}}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		back, err = v2.Get(ctx, "from-v2", metav1.GetOptions{})
		if err != nil || len(back.Spec.Metrics) != 1 || back.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU {
			t.Errorf("v2 after dropping the annotation: %v %+v", err, back.Spec.Metrics)
		}
		// And a patch through v2 is seen through v1.
		if _, err := v2.Patch(ctx, "from-v2", types.MergePatchType, []byte(`{"spec":{"maxReplicas":4}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		if got, err := v1.Get(ctx, "from-v2", metav1.GetOptions{}); err != nil || got.Spec.MaxReplicas != 4 {
			t.Errorf("v1 after a v2 patch: %v %+v", err, got)
		}
	})

	t.Run("status", func(t *testing.T) {
		h, err := v2.Get(ctx, "from-v1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sixty := int32(60)
		h.Status = autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 2, DesiredReplicas: 3,
			CurrentMetrics: []autoscalingv2.MetricStatus{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
				Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: &sixty, AverageValue: resource.NewMilliQuantity(120, resource.DecimalSI)}}}},
			Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "SucceededRescale", LastTransitionTime: metav1.Now().Rfc3339Copy()}},
		}
		if _, err := v2.UpdateStatus(ctx, h, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := v1.Get(ctx, "from-v1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.CurrentReplicas != 2 || got.Status.DesiredReplicas != 3 || got.Status.CurrentCPUUtilizationPercentage == nil || *got.Status.CurrentCPUUtilizationPercentage != 60 ||
			!strings.Contains(got.Annotations[hpaConditionsAnnotation], "SucceededRescale") || got.Annotations[hpaCurrentMetricsAnnotation] == "" {
			t.Errorf("v1 status %+v annotations %v", got.Status, got.Annotations)
		}
		// A v1 status write brings the conditions back from their
		// annotation.
		got.Status.DesiredReplicas = 4
		if _, err := v1.UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		// A v1 object written whole, without the annotations, keeps the
		// stored status: conditions and all.
		fresh := &autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "from-v1"},
			Spec: autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: v1Target, MaxReplicas: 6, TargetCPUUtilizationPercentage: &fifty}}
		if _, err := v1.Update(ctx, fresh, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		back, err := v2.Get(ctx, "from-v1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if back.Spec.MaxReplicas != 6 || back.Status.DesiredReplicas != 4 || len(back.Status.Conditions) != 1 || back.Status.Conditions[0].Reason != "SucceededRescale" ||
			len(back.Status.CurrentMetrics) != 1 || back.Status.CurrentMetrics[0].Resource.Current.AverageValue.MilliValue() != 120 || back.Annotations != nil {
			t.Errorf("v2 after v1 writes: %+v %+v %v", back.Spec, back.Status, back.Annotations)
		}
	})

	t.Run("server-side apply through v1", func(t *testing.T) {
		cfg := autoscalingv1apply.HorizontalPodAutoscaler("applied", "default").WithSpec(autoscalingv1apply.HorizontalPodAutoscalerSpec().
			WithScaleTargetRef(autoscalingv1apply.CrossVersionObjectReference().WithAPIVersion("apps/v1").WithKind("Deployment").WithName("web")).
			WithMaxReplicas(4).WithTargetCPUUtilizationPercentage(70))
		out, err := v1.Apply(ctx, cfg, metav1.ApplyOptions{FieldManager: "tester"})
		if err != nil {
			t.Fatal(err)
		}
		if *out.Spec.TargetCPUUtilizationPercentage != 70 || len(out.ManagedFields) != 1 || out.ManagedFields[0].APIVersion != "autoscaling/v1" ||
			!strings.Contains(string(out.ManagedFields[0].FieldsV1.Raw), "targetCPUUtilizationPercentage") {
			t.Errorf("applied %+v %+v", out.Spec, out.ManagedFields)
		}
		cfg.Spec.WithMaxReplicas(8)
		if out, err = v1.Apply(ctx, cfg, metav1.ApplyOptions{FieldManager: "tester"}); err != nil || out.Spec.MaxReplicas != 8 {
			t.Fatalf("second apply: %v %+v", err, out)
		}
		back, err := v2.Get(ctx, "applied", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		jsonIs(t, "applied metrics", back.Spec.Metrics, `[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":70}}}]`)
		if back.Spec.MaxReplicas != 8 || len(back.ManagedFields) != 1 || back.ManagedFields[0].APIVersion != "autoscaling/v1" {
			t.Errorf("v2 of the applied: %+v %+v", back.Spec, back.ManagedFields)
		}
		// An update through v1 records its fields in v1 too.
		u, err := v1.Patch(ctx, "applied", types.MergePatchType, []byte(`{"spec":{"minReplicas":2}}`), metav1.PatchOptions{FieldManager: "editor"})
		if err != nil {
			t.Fatal(err)
		}
		if e := managerEntry(u.ManagedFields, "editor"); e == nil || e.APIVersion != "autoscaling/v1" || !strings.Contains(string(e.FieldsV1.Raw), "minReplicas") {
			t.Errorf("editor's entry %+v", e)
		}
	})

	t.Run("tables", func(t *testing.T) {
		accept := "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
		for _, v := range []string{"v1", "v2"} {
			checkTable(t, ts, "/apis/autoscaling/"+v+"/namespaces/default/horizontalpodautoscalers?fieldSelector=metadata.name%3Dfrom-v1",
				accept, "Name,Reference,Targets,MinPods,MaxPods,Replicas,Age", `"from-v1","Deployment/web","cpu: 60%/50%","1",6,2,"0s"`)
		}
		code, _, body := ts.get(t, "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/from-v2?includeObject=Object", accept)
		var tab metav1.Table
		if err := json.Unmarshal(body, &tab); code != 200 || err != nil || len(tab.Rows) != 1 {
			t.Fatalf("%d %v %s", code, err, body)
		}
		if !strings.Contains(string(tab.Rows[0].Object.Raw), `"apiVersion":"autoscaling/v1"`) {
			t.Errorf("row object %s", tab.Rows[0].Object.Raw)
		}
	})

	t.Run("validation", func(t *testing.T) {
		zero := int32(0)
		_, err := v1.Create(ctx, &autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "bad"},
			Spec: autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{Kind: "Deployment"}, MaxReplicas: 0, TargetCPUUtilizationPercentage: &zero}}, metav1.CreateOptions{})
		want := `HorizontalPodAutoscaler.autoscaling "bad" is invalid: [spec.maxReplicas: Invalid value: 0: must be greater than 0, spec.maxReplicas: Invalid value: 0: must be greater than or equal to ` +
			"`minReplicas`" + `, spec.scaleTargetRef.name: Required value, spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0]`
		if !apierrors.IsInvalid(err) || err.Error() != want {
			t.Errorf("v1 create: %v\nwant %s", err, want)
		}
		h := v2WithExtras("bad")
		h.Spec.Metrics = append(h.Spec.Metrics, autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType})
		h.Spec.Behavior.ScaleUp.Policies[0].PeriodSeconds = 1801
		_, err = v2.Create(ctx, h, metav1.CreateOptions{})
		want = `HorizontalPodAutoscaler.autoscaling "bad" is invalid: [spec.metrics[2].pods: Required value: must populate information for the given metric source, ` +
			`spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 1801: must be less than or equal to 1800]`
		if !apierrors.IsInvalid(err) || err.Error() != want {
			t.Errorf("v2 create: %v\nwant %s", err, want)
		}
		if _, err := v1.Patch(ctx, "from-v1", types.MergePatchType, []byte(`{"spec":{"minReplicas":0}}`), metav1.PatchOptions{}); !apierrors.IsInvalid(err) ||
			!strings.Contains(err.Error(), "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1") {
			t.Errorf("minReplicas 0: %v", err)
		}
	})

	t.Run("delete through v1", func(t *testing.T) {
		if err := v1.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
			t.Fatal(err)
		}
		if list, err := v2.List(ctx, metav1.ListOptions{}); err != nil || len(list.Items) != 0 {
			t.Errorf("left: %v %+v", err, list)
		}
	})
}

// TestHPAApplyAcrossVersions: server-side applies through both versions
// see each other's fields, converted, as kube-apiserver's field manager
// converts them: a v1 apply changing the cpu target conflicts with the v2
// manager of spec.metrics.
func TestHPAApplyAcrossVersions(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	v2cfg := autoscalingv2apply.HorizontalPodAutoscaler("shared", "default").WithSpec(autoscalingv2apply.HorizontalPodAutoscalerSpec().
		WithScaleTargetRef(autoscalingv2apply.CrossVersionObjectReference().WithAPIVersion("apps/v1").WithKind("Deployment").WithName("web")).
		WithMaxReplicas(4).WithMetrics(autoscalingv2apply.MetricSpec().WithType(autoscalingv2.ResourceMetricSourceType).
		WithResource(autoscalingv2apply.ResourceMetricSource().WithName(corev1.ResourceCPU).
			WithTarget(autoscalingv2apply.MetricTarget().WithType(autoscalingv2.UtilizationMetricType).WithAverageUtilization(50)))))
	if _, err := ts.client.AutoscalingV2().HorizontalPodAutoscalers("default").Apply(ctx, v2cfg, metav1.ApplyOptions{FieldManager: "ops"}); err != nil {
		t.Fatal(err)
	}
	v1 := ts.client.AutoscalingV1().HorizontalPodAutoscalers("default")
	v1cfg := autoscalingv1apply.HorizontalPodAutoscaler("shared", "default").WithSpec(autoscalingv1apply.HorizontalPodAutoscalerSpec().
		WithScaleTargetRef(autoscalingv1apply.CrossVersionObjectReference().WithAPIVersion("apps/v1").WithKind("Deployment").WithName("web")).
		WithMaxReplicas(4).WithTargetCPUUtilizationPercentage(70))
	_, err := v1.Apply(ctx, v1cfg, metav1.ApplyOptions{FieldManager: "dev"})
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), `conflict with "ops": .spec.metrics`) {
		t.Fatalf("v1 apply over v2's metrics: %v", err)
	}
	out, err := v1.Apply(ctx, v1cfg, metav1.ApplyOptions{FieldManager: "dev", Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if *out.Spec.TargetCPUUtilizationPercentage != 70 {
		t.Errorf("forced apply: %+v", out.Spec)
	}
	ops, dev := managerEntry(out.ManagedFields, "ops"), managerEntry(out.ManagedFields, "dev")
	if ops == nil || strings.Contains(string(ops.FieldsV1.Raw), "metrics") || dev == nil || dev.APIVersion != "autoscaling/v1" {
		t.Errorf("managed fields after the forced apply: %+v", out.ManagedFields)
	}
}

// TestHPAVersionsDiscovery: autoscaling is served in v2, preferred, and
// v1, in plain and aggregated discovery and in OpenAPI v3.
func TestHPAVersionsDiscovery(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	g, err := ts.client.Discovery().ServerGroups()
	if err != nil {
		t.Fatal(err)
	}
	for _, grp := range g.Groups {
		if grp.Name != "autoscaling" {
			continue
		}
		var versions []string
		for _, v := range grp.Versions {
			versions = append(versions, v.Version)
		}
		if strings.Join(versions, ",") != "v2,v1" || grp.PreferredVersion.Version != "v2" {
			t.Errorf("autoscaling versions %v, preferred %s", versions, grp.PreferredVersion.Version)
		}
	}
	rl, err := ts.client.Discovery().ServerResourcesForGroupVersion("autoscaling/v1")
	if err != nil || len(rl.APIResources) != 2 || rl.APIResources[0].Name != "horizontalpodautoscalers" || rl.APIResources[1].Name != "horizontalpodautoscalers/status" ||
		strings.Join(rl.APIResources[0].ShortNames, ",") != "hpa" {
		t.Errorf("autoscaling/v1 resources: %v %+v", err, rl)
	}
	code, _, body := ts.get(t, "/apis", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
	if code != http.StatusOK || !strings.Contains(string(body), `"name":"autoscaling"},"versions":[{"version":"v2",`) ||
		!strings.Contains(string(body), `"responseKind":{"group":"autoscaling","version":"v1","kind":"HorizontalPodAutoscaler"}`) {
		t.Errorf("aggregated discovery %d: %.300s", code, body)
	}
	code, _, body = ts.get(t, "/openapi/v3/apis/autoscaling/v1", "application/json")
	if code != http.StatusOK || !strings.Contains(string(body), `"io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec"`) ||
		!strings.Contains(string(body), `"targetCPUUtilizationPercentage"`) {
		t.Errorf("openapi autoscaling/v1 %d: %.300s", code, body)
	}
}
