package apiserver

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// richHPA is an autoscaler with everything autoscaling/v1 cannot say: the
// metrics of every source type (the cpu utilization last, where the
// conversion back from v1 puts it), a behavior with a tolerance, current
// metrics and conditions. Its behavior is complete, as the stored version
// defaults it.
func richHPA() *autoscalingv2.HorizontalPodAutoscaler {
	i32 := func(v int32) *int32 { return &v }
	i64 := func(v int64) *int64 { return &v }
	q := func(s string) *resource.Quantity { v := resource.MustParse(s); return &v }
	maxSel, minSel := autoscalingv2.MaxChangePolicySelect, autoscalingv2.MinChangePolicySelect
	when := metav1.NewTime(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"queue": "jobs"}}
	return &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "u1", Generation: 3,
			Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"team": "a"}},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    i32(2),
			MaxReplicas:    10,
			Metrics: []autoscalingv2.MetricSpec{
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceMemory,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: i32(70)}}},
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("300m")}}},
				{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: "qps", Selector: sel},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("10")}}},
				{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
					DescribedObject: autoscalingv2.CrossVersionObjectReference{APIVersion: "networking.k8s.io/v1", Kind: "Ingress", Name: "main"},
					Metric:          autoscalingv2.MetricIdentifier{Name: "requests"},
					Target:          autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: q("2k")}}},
				{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
					DescribedObject: autoscalingv2.CrossVersionObjectReference{Kind: "Service", Name: "api"},
					Metric:          autoscalingv2.MetricIdentifier{Name: "latency"},
					Target:          autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("50m")}}},
				{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: "queue_depth", Selector: sel},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("30")}}},
				{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: "backlog"},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: q("100")}}},
				{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: corev1.ResourceCPU, Container: "app",
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: i32(60)}}},
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: i32(50)}}},
			},
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleUp: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: i32(0), SelectPolicy: &maxSel, Tolerance: q("50m"),
					Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15}}},
				ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: i32(120), SelectPolicy: &minSel,
					Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 10, PeriodSeconds: 60}}},
			},
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{
			ObservedGeneration: i64(3),
			LastScaleTime:      &when,
			CurrentReplicas:    4,
			DesiredReplicas:    5,
			CurrentMetrics: []autoscalingv2.MetricStatus{
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU,
					Current: autoscalingv2.MetricValueStatus{AverageUtilization: i32(64), AverageValue: q("320m")}}},
				{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricStatus{Metric: autoscalingv2.MetricIdentifier{Name: "qps"},
					Current: autoscalingv2.MetricValueStatus{AverageValue: q("12")}}},
				{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricStatus{
					DescribedObject: autoscalingv2.CrossVersionObjectReference{Kind: "Ingress", Name: "main"},
					Metric:          autoscalingv2.MetricIdentifier{Name: "requests"},
					Current:         autoscalingv2.MetricValueStatus{Value: q("1500")}}},
				{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricStatus{Metric: autoscalingv2.MetricIdentifier{Name: "queue_depth"},
					Current: autoscalingv2.MetricValueStatus{Value: q("90"), AverageValue: q("18")}}},
				{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricStatus{Name: corev1.ResourceCPU, Container: "app",
					Current: autoscalingv2.MetricValueStatus{AverageUtilization: i32(55), AverageValue: q("110m")}}},
			},
			Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{
				{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, LastTransitionTime: when, Reason: "ReadyForNewScale", Message: "recommended size matches current size"},
				{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionTrue, LastTransitionTime: when, Reason: "ValidMetricFound", ObservedGeneration: i64(3)},
			},
		},
	}
}

// convertHPA runs one direction of the autoscaling/v1 conversion on a Go
// object, as the server runs it on stored JSON.
func convertHPA[T any](t *testing.T, conv func(object) (object, error), in any) *T {
	t.Helper()
	o, err := toObject(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := conv(o)
	if err != nil {
		t.Fatal(err)
	}
	var typed T
	if err := fromObject(out, &typed); err != nil {
		t.Fatal(err)
	}
	return &typed
}

// hpaEqual compares autoscalers by their JSON, where quantities compare by
// their canonical form.
func hpaEqual(t *testing.T, got, want any) {
	t.Helper()
	g, err := json.MarshalIndent(got, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.MarshalIndent(want, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("autoscaler differs:\n got %s\nwant %s", g, w)
	}
}

// TestHPAConversionRoundTrip: an autoscaler read through autoscaling/v1
// and written back through it is the one stored, whatever v1 cannot say.
func TestHPAConversionRoundTrip(t *testing.T) {
	t.Parallel()
	conv := hpaV1Conversion()
	tests := []struct {
		name string
		hpa  func() *autoscalingv2.HorizontalPodAutoscaler
	}{
		{"everything", richHPA},
		{"cpu only", func() *autoscalingv2.HorizontalPodAutoscaler {
			h := richHPA()
			h.Annotations = nil
			h.Spec.Metrics = h.Spec.Metrics[len(h.Spec.Metrics)-1:]
			h.Spec.Behavior = nil
			h.Status = autoscalingv2.HorizontalPodAutoscalerStatus{}
			return h
		}},
		{"no cpu utilization", func() *autoscalingv2.HorizontalPodAutoscaler {
			h := richHPA()
			h.Spec.Metrics = h.Spec.Metrics[:len(h.Spec.Metrics)-1]
			return h
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v2 := tt.hpa()
			v1 := convertHPA[autoscalingv1.HorizontalPodAutoscaler](t, conv.toServed, v2)
			if v1.APIVersion != "autoscaling/v1" || v1.Kind != "HorizontalPodAutoscaler" {
				t.Errorf("served as %s %s", v1.APIVersion, v1.Kind)
			}
			back := convertHPA[autoscalingv2.HorizontalPodAutoscaler](t, conv.toStored, v1)
			hpaEqual(t, back, v2)
			// Twice gives the same again.
			again := convertHPA[autoscalingv1.HorizontalPodAutoscaler](t, conv.toServed, back)
			hpaEqual(t, again, v1)
		})
	}
}

// TestHPAConversionToV1 checks the autoscaling/v1 form: the cpu target and
// current utilization, and the annotations with Kubernetes' names and JSON
// shapes, the behavior's being the internal type's field names.
func TestHPAConversionToV1(t *testing.T) {
	t.Parallel()
	h := richHPA()
	h.Annotations[hpaMetricsAnnotation] = `[{"type":"Pods","pods":{"metricName":"stale","targetAverageValue":"1"}}]`
	h.Annotations[hpaScaleUpToleranceAnnotation] = "1"
	h.Spec.Metrics = []autoscalingv2.MetricSpec{h.Spec.Metrics[len(h.Spec.Metrics)-1], h.Spec.Metrics[0]}
	h.Status.CurrentMetrics = h.Status.CurrentMetrics[:1]
	h.Status.Conditions = h.Status.Conditions[1:]
	v1 := convertHPA[autoscalingv1.HorizontalPodAutoscaler](t, hpaV1Conversion().toServed, h)

	if p := v1.Spec.TargetCPUUtilizationPercentage; p == nil || *p != 50 {
		t.Errorf("targetCPUUtilizationPercentage %v, want 50", p)
	}
	if p := v1.Status.CurrentCPUUtilizationPercentage; p == nil || *p != 64 {
		t.Errorf("currentCPUUtilizationPercentage %v, want 64", p)
	}
	if v1.Spec.MaxReplicas != 10 || *v1.Spec.MinReplicas != 2 || v1.Spec.ScaleTargetRef.Name != "web" || v1.Status.DesiredReplicas != 5 ||
		v1.Status.CurrentReplicas != 4 || *v1.Status.ObservedGeneration != 3 || v1.Status.LastScaleTime == nil {
		t.Errorf("spec or status not carried over: %+v %+v", v1.Spec, v1.Status)
	}
	want := map[string]string{
		"team": "a",
		"autoscaling.alpha.kubernetes.io/metrics":         `[{"type":"Resource","resource":{"name":"memory","targetAverageUtilization":70}}]`,
		"autoscaling.alpha.kubernetes.io/current-metrics": `[{"type":"Resource","resource":{"name":"cpu","currentAverageUtilization":64,"currentAverageValue":"320m"}}]`,
		"autoscaling.alpha.kubernetes.io/behavior": `{"ScaleUp":{"StabilizationWindowSeconds":0,"SelectPolicy":"Max","Policies":[{"Type":"Pods","Value":4,"PeriodSeconds":15}],"Tolerance":"50m"},` +
			`"ScaleDown":{"StabilizationWindowSeconds":120,"SelectPolicy":"Min","Policies":[{"Type":"Percent","Value":10,"PeriodSeconds":60}],"Tolerance":null}}`,
		"autoscaling.alpha.kubernetes.io/conditions": `[{"type":"ScalingActive","status":"True","lastTransitionTime":"2026-03-04T05:06:07Z","reason":"ValidMetricFound","observedGeneration":3}]`,
	}
	for k, v := range want {
		if v1.Annotations[k] != v {
			t.Errorf("annotation %s:\n got %s\nwant %s", k, v1.Annotations[k], v)
		}
	}
	if len(v1.Annotations) != len(want) {
		t.Errorf("annotations %v, want those of %v", v1.Annotations, want)
	}
	if h.Annotations[hpaMetricsAnnotation] == "" {
		t.Error("the conversion changed the stored object's annotations")
	}

	// Nothing v1 cannot say: no annotations at all.
	plain := richHPA()
	plain.Annotations = nil
	plain.Spec.Metrics = plain.Spec.Metrics[len(plain.Spec.Metrics)-1:]
	plain.Spec.Behavior = nil
	plain.Status = autoscalingv2.HorizontalPodAutoscalerStatus{}
	if v1 := convertHPA[autoscalingv1.HorizontalPodAutoscaler](t, hpaV1Conversion().toServed, plain); v1.Annotations != nil {
		t.Errorf("annotations %v, want none", v1.Annotations)
	}
}

// TestHPAConversionFromV1 checks autoscalers written through
// autoscaling/v1: the cpu target, Kubernetes' default of 80% cpu when no
// metric is named, the metrics annotation's first, the behavior completed
// with the defaults, and annotations that do not decode ignored.
func TestHPAConversionFromV1(t *testing.T) {
	t.Parallel()
	i32 := func(v int32) *int32 { return &v }
	base := func(ann map[string]string, cpu *int32) *autoscalingv1.HorizontalPodAutoscaler {
		return &autoscalingv1.HorizontalPodAutoscaler{
			TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "HorizontalPodAutoscaler"},
			ObjectMeta: metav1.ObjectMeta{Name: "web", Annotations: ann},
			Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
				ScaleTargetRef:                 autoscalingv1.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
				MaxReplicas:                    5,
				TargetCPUUtilizationPercentage: cpu,
			},
			Status: autoscalingv1.HorizontalPodAutoscalerStatus{CurrentReplicas: 2, CurrentCPUUtilizationPercentage: i32(40)},
		}
	}
	cpu := func(p int32) string {
		return fmt.Sprintf(`{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":%d}}}`, p)
	}
	memory := `{"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue","averageValue":"1Gi"}}}`
	defaultUp := `{"stabilizationWindowSeconds":0,"selectPolicy":"Max","policies":[{"type":"Pods","value":4,"periodSeconds":15},{"type":"Percent","value":100,"periodSeconds":15}]}`
	defaultDown := `{"selectPolicy":"Max","policies":[{"type":"Percent","value":100,"periodSeconds":15}]}`
	tests := []struct {
		name                string
		in                  *autoscalingv1.HorizontalPodAutoscaler
		metrics, behavior   string
		annotations, status string
	}{
		{name: "cpu target", in: base(nil, i32(50)), metrics: "[" + cpu(50) + "]", behavior: "null", annotations: "null",
			status: `{"currentReplicas":2,"desiredReplicas":0,"currentMetrics":[{"type":"Resource","resource":{"name":"cpu","current":{"averageUtilization":40}}}]}`},
		{name: "no metric: 80% cpu", in: base(nil, nil), metrics: "[" + cpu(80) + "]", behavior: "null", annotations: "null"},
		{name: "other metrics first, cpu last", in: base(map[string]string{
			hpaMetricsAnnotation: `[{"type":"Resource","resource":{"name":"memory","targetAverageValue":"1Gi"}}]`, "keep": "me",
		}, i32(50)), metrics: "[" + memory + "," + cpu(50) + "]", behavior: "null", annotations: `{"keep":"me"}`},
		{name: "other metrics only: no default", in: base(map[string]string{
			hpaMetricsAnnotation: `[{"type":"Resource","resource":{"name":"memory","targetAverageValue":"1Gi"}}]`,
		}, nil), metrics: "[" + memory + "]", behavior: "null", annotations: "null"},
		{name: "behavior of one direction", in: base(map[string]string{
			hpaBehaviorAnnotation: `{"ScaleDown":{"StabilizationWindowSeconds":60,"SelectPolicy":null,"Policies":null,"Tolerance":null}}`,
		}, i32(50)), metrics: "[" + cpu(50) + "]", annotations: "null",
			behavior: `{"scaleUp":` + defaultUp + `,"scaleDown":{"stabilizationWindowSeconds":60,"selectPolicy":"Max","policies":[{"type":"Percent","value":100,"periodSeconds":15}]}}`},
		{name: "behavior in JSON's case", in: base(map[string]string{
			hpaBehaviorAnnotation: `{"scaleUp":{"selectPolicy":"Disabled"}}`,
		}, i32(50)), metrics: "[" + cpu(50) + "]", annotations: "null",
			behavior: `{"scaleUp":{"stabilizationWindowSeconds":0,"selectPolicy":"Disabled","policies":[{"type":"Pods","value":4,"periodSeconds":15},{"type":"Percent","value":100,"periodSeconds":15}]},"scaleDown":` + defaultDown + `}`},
		{name: "empty behavior is none", in: base(map[string]string{hpaBehaviorAnnotation: `{}`}, i32(50)), metrics: "[" + cpu(50) + "]", behavior: "null", annotations: "null"},
		{name: "undecodable annotations ignored", in: base(map[string]string{
			hpaMetricsAnnotation: "[", hpaBehaviorAnnotation: "nope", hpaCurrentMetricsAnnotation: "{", hpaConditionsAnnotation: "1",
		}, nil), metrics: "[" + cpu(80) + "]", behavior: "null", annotations: "null",
			status: `{"currentReplicas":2,"desiredReplicas":0,"currentMetrics":[{"type":"Resource","resource":{"name":"cpu","current":{"averageUtilization":40}}}]}`},
		{name: "current metrics and conditions from annotations", in: base(map[string]string{
			hpaCurrentMetricsAnnotation: `[{"type":"Pods","pods":{"metricName":"qps","currentAverageValue":"7"}}]`,
			hpaConditionsAnnotation:     `[{"type":"AbleToScale","status":"False","lastTransitionTime":null,"reason":"FailedGetScale"}]`,
		}, i32(50)), metrics: "[" + cpu(50) + "]", behavior: "null", annotations: "null",
			status: `{"currentReplicas":2,"desiredReplicas":0,"currentMetrics":[{"type":"Pods","pods":{"metric":{"name":"qps"},"current":{"averageValue":"7"}}}],` +
				`"conditions":[{"type":"AbleToScale","status":"False","lastTransitionTime":null,"reason":"FailedGetScale"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v2 := convertHPA[autoscalingv2.HorizontalPodAutoscaler](t, hpaV1Conversion().toStored, tt.in)
			if v2.APIVersion != "autoscaling/v2" || v2.Kind != "HorizontalPodAutoscaler" {
				t.Errorf("stored as %s %s", v2.APIVersion, v2.Kind)
			}
			if v2.Spec.MinReplicas == nil || *v2.Spec.MinReplicas != 1 {
				t.Errorf("minReplicas %v, want the default 1", v2.Spec.MinReplicas)
			}
			jsonIs(t, "metrics", v2.Spec.Metrics, tt.metrics)
			jsonIs(t, "behavior", v2.Spec.Behavior, tt.behavior)
			jsonIs(t, "annotations", v2.Annotations, tt.annotations)
			if tt.status != "" {
				jsonIs(t, "status", v2.Status, tt.status)
			}
		})
	}
}

// jsonIs compares the JSON of v with want.
func jsonIs(t *testing.T, what string, v any, want string) {
	t.Helper()
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s:\n got %s\nwant %s", what, got, want)
	}
}
