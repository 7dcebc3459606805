package apiserver

import (
	"encoding/json"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// HorizontalPodAutoscalers are stored in autoscaling/v2 and also served in
// autoscaling/v1, as kube-apiserver serves them, with Kubernetes'
// conversion (k8s.io/kubernetes pkg/apis/autoscaling/v1/conversion.go):
// v1's spec.targetCPUUtilizationPercentage is v2's Resource metric on cpu
// with a Utilization target, and what v1 cannot say travels in
// annotations when an autoscaler is read through v1 and comes back from
// them when it is written through v1, so that a v2 object read and
// written back through v1 loses nothing:
//
//   - hpaMetricsAnnotation: the metrics other than that cpu target, as a
//     JSON list of autoscaling/v1 MetricSpec;
//   - hpaBehaviorAnnotation: spec.behavior, as JSON of Kubernetes'
//     internal type, whose fields have no JSON tags (the keys are Go's
//     field names: ScaleUp, StabilizationWindowSeconds, ...);
//   - hpaCurrentMetricsAnnotation: status.currentMetrics, as a JSON list
//     of autoscaling/v1 MetricStatus (all of them: the cpu one too, which
//     v1's currentCPUUtilizationPercentage gives only in part);
//   - hpaConditionsAnnotation: status.conditions, as a JSON list of
//     autoscaling/v1 HorizontalPodAutoscalerCondition.
//
// As in Kubernetes, the metrics come back from v1 with the annotation's
// first and the cpu target last, and a v1 autoscaler that names no metric
// at all gets the cpu target at Kubernetes' default of 80%.

// The round-trip annotations (k8s.io/kubernetes pkg/apis/autoscaling
// annotations.go), and the default cpu target.
const (
	hpaMetricsAnnotation        = "autoscaling.alpha.kubernetes.io/metrics"
	hpaCurrentMetricsAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics"
	hpaConditionsAnnotation     = "autoscaling.alpha.kubernetes.io/conditions"
	hpaBehaviorAnnotation       = "autoscaling.alpha.kubernetes.io/behavior"
	// The tolerances are kept in these by the autoscaling/v2beta2
	// conversion; Kubernetes drops them with the others.
	hpaScaleDownToleranceAnnotation = "autoscaling.alpha.kubernetes.io/scale-down-tolerance"
	hpaScaleUpToleranceAnnotation   = "autoscaling.alpha.kubernetes.io/scale-up-tolerance"

	// hpaDefaultCPUUtilization is the cpu target of an autoscaler that
	// names no metric (autoscaling.DefaultCPUUtilization).
	hpaDefaultCPUUtilization = 80
)

// hpaRoundTripAnnotations are dropped from an object converted either way,
// so that only the ones a conversion wrote are ever seen.
var hpaRoundTripAnnotations = []string{
	hpaMetricsAnnotation, hpaBehaviorAnnotation, hpaScaleDownToleranceAnnotation,
	hpaScaleUpToleranceAnnotation, hpaCurrentMetricsAnnotation, hpaConditionsAnnotation,
}

// hpaV1Conversion serves autoscaling/v2 autoscalers in autoscaling/v1.
func hpaV1Conversion() *conversion {
	return &conversion{
		storage: "v2",
		toStored: func(o object) (object, error) {
			var in autoscalingv1.HorizontalPodAutoscaler
			if err := fromObject(o, &in); err != nil {
				return nil, err
			}
			out := hpaV1ToV2(&in)
			// As kube-apiserver does when it reads the stored version:
			// the v2 defaults (a behavior's unset rules).
			setDefaults(out)
			return toObject(out)
		},
		toServed: func(o object) (object, error) {
			var in autoscalingv2.HorizontalPodAutoscaler
			if err := fromObject(o, &in); err != nil {
				return nil, err
			}
			out, err := hpaV2ToV1(&in)
			if err != nil {
				return nil, err
			}
			return toObject(out)
		},
	}
}

// hpaV2ToV1 converts a stored autoscaler to autoscaling/v1.
func hpaV2ToV1(in *autoscalingv2.HorizontalPodAutoscaler) (*autoscalingv1.HorizontalPodAutoscaler, error) {
	out := &autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: *in.ObjectMeta.DeepCopy()}
	out.APIVersion, out.Kind = autoscalingv1.SchemeGroupVersion.String(), "HorizontalPodAutoscaler"
	annotations := withoutHPARoundTrip(out.Annotations)

	spec := &in.Spec
	out.Spec = autoscalingv1.HorizontalPodAutoscalerSpec{
		ScaleTargetRef: autoscalingv1.CrossVersionObjectReference(spec.ScaleTargetRef),
		MinReplicas:    copyInt32(spec.MinReplicas),
		MaxReplicas:    spec.MaxReplicas,
	}
	var others []autoscalingv1.MetricSpec
	for _, m := range spec.Metrics {
		if isCPUUtilization(m) {
			if out.Spec.TargetCPUUtilizationPercentage == nil {
				out.Spec.TargetCPUUtilizationPercentage = copyInt32(m.Resource.Target.AverageUtilization)
			}
			continue
		}
		others = append(others, metricSpecToV1(m))
	}

	st := &in.Status
	out.Status = autoscalingv1.HorizontalPodAutoscalerStatus{
		ObservedGeneration: st.ObservedGeneration,
		LastScaleTime:      st.LastScaleTime.DeepCopy(),
		CurrentReplicas:    st.CurrentReplicas,
		DesiredReplicas:    st.DesiredReplicas,
	}
	current := make([]autoscalingv1.MetricStatus, 0, len(st.CurrentMetrics))
	for _, m := range st.CurrentMetrics {
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU && m.Resource.Current.AverageUtilization != nil {
			out.Status.CurrentCPUUtilizationPercentage = copyInt32(m.Resource.Current.AverageUtilization)
		}
		current = append(current, metricStatusToV1(m))
	}
	conditions := make([]autoscalingv1.HorizontalPodAutoscalerCondition, 0, len(st.Conditions))
	for _, c := range st.Conditions {
		conditions = append(conditions, autoscalingv1.HorizontalPodAutoscalerCondition{
			Type: autoscalingv1.HorizontalPodAutoscalerConditionType(c.Type), Status: c.Status,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
			ObservedGeneration: c.ObservedGeneration,
		})
	}

	put := func(key string, v any) error {
		data, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encoding annotation %s: %w", key, err)
		}
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations[key] = string(data)
		return nil
	}
	if len(others) > 0 {
		if err := put(hpaMetricsAnnotation, others); err != nil {
			return nil, err
		}
	}
	if len(current) > 0 {
		if err := put(hpaCurrentMetricsAnnotation, current); err != nil {
			return nil, err
		}
	}
	if spec.Behavior != nil {
		if err := put(hpaBehaviorAnnotation, behaviorToInternal(spec.Behavior)); err != nil {
			return nil, err
		}
	}
	if len(conditions) > 0 {
		if err := put(hpaConditionsAnnotation, conditions); err != nil {
			return nil, err
		}
	}
	out.Annotations = annotations
	return out, nil
}

// hpaV1ToV2 converts an autoscaler written through autoscaling/v1 to the
// stored version. Round-trip annotations that do not decode are ignored,
// as Kubernetes ignores them.
func hpaV1ToV2(in *autoscalingv1.HorizontalPodAutoscaler) *autoscalingv2.HorizontalPodAutoscaler {
	out := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: *in.ObjectMeta.DeepCopy()}
	out.APIVersion, out.Kind = autoscalingv2.SchemeGroupVersion.String(), "HorizontalPodAutoscaler"
	ann := in.Annotations

	out.Spec = autoscalingv2.HorizontalPodAutoscalerSpec{
		ScaleTargetRef: autoscalingv2.CrossVersionObjectReference(in.Spec.ScaleTargetRef),
		MinReplicas:    copyInt32(in.Spec.MinReplicas),
		MaxReplicas:    in.Spec.MaxReplicas,
	}
	var cpu []autoscalingv2.MetricSpec
	if p := in.Spec.TargetCPUUtilizationPercentage; p != nil {
		cpu = []autoscalingv2.MetricSpec{cpuUtilization(*p)}
	}
	out.Spec.Metrics = cpu
	if enc, ok := ann[hpaMetricsAnnotation]; ok {
		var others []autoscalingv1.MetricSpec
		if json.Unmarshal([]byte(enc), &others) == nil {
			metrics := make([]autoscalingv2.MetricSpec, 0, len(others)+len(cpu))
			for _, m := range others {
				metrics = append(metrics, metricSpecFromV1(m))
			}
			out.Spec.Metrics = append(metrics, cpu...)
		}
	}
	if enc, ok := ann[hpaBehaviorAnnotation]; ok {
		var b internalBehavior
		if json.Unmarshal([]byte(enc), &b) == nil && (b.ScaleUp != nil || b.ScaleDown != nil) {
			out.Spec.Behavior = b.toV2()
		}
	}
	if len(out.Spec.Metrics) == 0 {
		// v1 once left this default to the controller; the conversion
		// applies it, knowing all the metrics.
		out.Spec.Metrics = []autoscalingv2.MetricSpec{cpuUtilization(hpaDefaultCPUUtilization)}
	}

	st := &in.Status
	out.Status = autoscalingv2.HorizontalPodAutoscalerStatus{
		ObservedGeneration: st.ObservedGeneration,
		LastScaleTime:      st.LastScaleTime.DeepCopy(),
		CurrentReplicas:    st.CurrentReplicas,
		DesiredReplicas:    st.DesiredReplicas,
	}
	if p := st.CurrentCPUUtilizationPercentage; p != nil {
		out.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{
			Type:     autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: copyInt32(p)}},
		}}
	}
	if enc, ok := ann[hpaCurrentMetricsAnnotation]; ok {
		// The annotation says more than currentCPUUtilizationPercentage.
		var current []autoscalingv1.MetricStatus
		if json.Unmarshal([]byte(enc), &current) == nil {
			out.Status.CurrentMetrics = make([]autoscalingv2.MetricStatus, 0, len(current))
			for _, m := range current {
				out.Status.CurrentMetrics = append(out.Status.CurrentMetrics, metricStatusFromV1(m))
			}
		}
	}
	if enc, ok := ann[hpaConditionsAnnotation]; ok {
		var conditions []autoscalingv1.HorizontalPodAutoscalerCondition
		if json.Unmarshal([]byte(enc), &conditions) == nil {
			out.Status.Conditions = make([]autoscalingv2.HorizontalPodAutoscalerCondition, 0, len(conditions))
			for _, c := range conditions {
				out.Status.Conditions = append(out.Status.Conditions, autoscalingv2.HorizontalPodAutoscalerCondition{
					Type: autoscalingv2.HorizontalPodAutoscalerConditionType(c.Type), Status: c.Status,
					LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
					ObservedGeneration: c.ObservedGeneration,
				})
			}
		}
	}
	out.Annotations = withoutHPARoundTrip(out.Annotations)

	if b := out.Spec.Behavior; b != nil {
		// A direction the annotation leaves out gets Kubernetes' rules.
		if b.ScaleUp == nil {
			b.ScaleUp = &autoscalingv2.HPAScalingRules{}
		}
		if b.ScaleDown == nil {
			b.ScaleDown = &autoscalingv2.HPAScalingRules{}
		}
	}
	return out
}

// withoutHPARoundTrip returns annotations without the round-trip ones,
// nil when none is left, copying the map only when it changes.
func withoutHPARoundTrip(annotations map[string]string) map[string]string {
	found := false
	for _, k := range hpaRoundTripAnnotations {
		if _, ok := annotations[k]; ok {
			found = true
		}
	}
	if !found {
		return annotations
	}
	out := make(map[string]string, len(annotations))
	for k, v := range annotations {
		out[k] = v
	}
	for _, k := range hpaRoundTripAnnotations {
		delete(out, k)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// isCPUUtilization says m is the metric v1's targetCPUUtilizationPercentage
// stands for.
func isCPUUtilization(m autoscalingv2.MetricSpec) bool {
	return m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil &&
		m.Resource.Name == corev1.ResourceCPU && m.Resource.Target.AverageUtilization != nil
}

// cpuUtilization is a Resource metric on cpu with a Utilization target.
func cpuUtilization(percent int32) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name:   corev1.ResourceCPU,
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &percent},
	}}
}

// metricSpecToV1 converts one metric to autoscaling/v1's form, the one
// of the metrics annotation.
func metricSpecToV1(m autoscalingv2.MetricSpec) autoscalingv1.MetricSpec {
	out := autoscalingv1.MetricSpec{Type: autoscalingv1.MetricSourceType(m.Type)}
	if s := m.Object; s != nil {
		out.Object = &autoscalingv1.ObjectMetricSource{
			Target:       autoscalingv1.CrossVersionObjectReference(s.DescribedObject),
			MetricName:   s.Metric.Name,
			TargetValue:  quantityOrZero(s.Target.Value),
			Selector:     s.Metric.Selector.DeepCopy(),
			AverageValue: copyQuantity(s.Target.AverageValue),
		}
	}
	if s := m.Pods; s != nil {
		out.Pods = &autoscalingv1.PodsMetricSource{
			MetricName:         s.Metric.Name,
			TargetAverageValue: quantityOrZero(s.Target.AverageValue),
			Selector:           s.Metric.Selector.DeepCopy(),
		}
	}
	if s := m.Resource; s != nil {
		out.Resource = &autoscalingv1.ResourceMetricSource{
			Name:                     s.Name,
			TargetAverageUtilization: copyInt32(s.Target.AverageUtilization),
			TargetAverageValue:       copyQuantity(s.Target.AverageValue),
		}
	}
	if s := m.ContainerResource; s != nil {
		out.ContainerResource = &autoscalingv1.ContainerResourceMetricSource{
			Name:                     s.Name,
			Container:                s.Container,
			TargetAverageUtilization: copyInt32(s.Target.AverageUtilization),
			TargetAverageValue:       copyQuantity(s.Target.AverageValue),
		}
	}
	if s := m.External; s != nil {
		out.External = &autoscalingv1.ExternalMetricSource{
			MetricName:         s.Metric.Name,
			MetricSelector:     s.Metric.Selector.DeepCopy(),
			TargetValue:        copyQuantity(s.Target.Value),
			TargetAverageValue: copyQuantity(s.Target.AverageValue),
		}
	}
	return out
}

// metricSpecFromV1 converts one metric of the metrics annotation back. The
// target type, which v1 does not keep, follows from the values given.
func metricSpecFromV1(m autoscalingv1.MetricSpec) autoscalingv2.MetricSpec {
	out := autoscalingv2.MetricSpec{Type: autoscalingv2.MetricSourceType(m.Type)}
	if s := m.Object; s != nil {
		t := autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, AverageValue: copyQuantity(s.AverageValue)}
		// Kubernetes always sets the value, to zero for an averageValue
		// target; a zero target is invalid, and an averageValue target
		// written through v2 has none, so a zero one is left out: the
		// round trip then gives back what v2 stored.
		if s.AverageValue != nil {
			t.Type = autoscalingv2.AverageValueMetricType
		}
		if s.AverageValue == nil || !s.TargetValue.IsZero() {
			t.Value = copyQuantity(&s.TargetValue)
		}
		out.Object = &autoscalingv2.ObjectMetricSource{
			DescribedObject: autoscalingv2.CrossVersionObjectReference(s.Target),
			Metric:          autoscalingv2.MetricIdentifier{Name: s.MetricName, Selector: s.Selector.DeepCopy()},
			Target:          t,
		}
	}
	if s := m.Pods; s != nil {
		out.Pods = &autoscalingv2.PodsMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: s.MetricName, Selector: s.Selector.DeepCopy()},
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: copyQuantity(&s.TargetAverageValue)},
		}
	}
	if s := m.Resource; s != nil {
		out.Resource = &autoscalingv2.ResourceMetricSource{Name: s.Name, Target: resourceTarget(s.TargetAverageUtilization, s.TargetAverageValue)}
	}
	if s := m.ContainerResource; s != nil {
		out.ContainerResource = &autoscalingv2.ContainerResourceMetricSource{Name: s.Name, Container: s.Container, Target: resourceTarget(s.TargetAverageUtilization, s.TargetAverageValue)}
	}
	if s := m.External; s != nil {
		t := autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, Value: copyQuantity(s.TargetValue), AverageValue: copyQuantity(s.TargetAverageValue)}
		if s.TargetValue != nil {
			t.Type = autoscalingv2.ValueMetricType
		}
		out.External = &autoscalingv2.ExternalMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: s.MetricName, Selector: s.MetricSelector.DeepCopy()},
			Target: t,
		}
	}
	return out
}

// resourceTarget is the target of a (container) resource metric from
// v1's utilization and value.
func resourceTarget(utilization *int32, value *resource.Quantity) autoscalingv2.MetricTarget {
	t := autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageUtilization: copyInt32(utilization), AverageValue: copyQuantity(value)}
	if utilization != nil {
		t.Type = autoscalingv2.UtilizationMetricType
	}
	return t
}

// metricStatusToV1 converts one current metric to autoscaling/v1's form.
func metricStatusToV1(m autoscalingv2.MetricStatus) autoscalingv1.MetricStatus {
	out := autoscalingv1.MetricStatus{Type: autoscalingv1.MetricSourceType(m.Type)}
	if s := m.Object; s != nil {
		out.Object = &autoscalingv1.ObjectMetricStatus{
			Target:       autoscalingv1.CrossVersionObjectReference(s.DescribedObject),
			MetricName:   s.Metric.Name,
			CurrentValue: quantityOrZero(s.Current.Value),
			Selector:     s.Metric.Selector.DeepCopy(),
			AverageValue: copyQuantity(s.Current.AverageValue),
		}
	}
	if s := m.Pods; s != nil {
		out.Pods = &autoscalingv1.PodsMetricStatus{
			MetricName:          s.Metric.Name,
			CurrentAverageValue: quantityOrZero(s.Current.AverageValue),
			Selector:            s.Metric.Selector.DeepCopy(),
		}
	}
	if s := m.Resource; s != nil {
		out.Resource = &autoscalingv1.ResourceMetricStatus{
			Name:                      s.Name,
			CurrentAverageUtilization: copyInt32(s.Current.AverageUtilization),
			CurrentAverageValue:       quantityOrZero(s.Current.AverageValue),
		}
	}
	if s := m.ContainerResource; s != nil {
		out.ContainerResource = &autoscalingv1.ContainerResourceMetricStatus{
			Name:                      s.Name,
			Container:                 s.Container,
			CurrentAverageUtilization: copyInt32(s.Current.AverageUtilization),
			CurrentAverageValue:       quantityOrZero(s.Current.AverageValue),
		}
	}
	if s := m.External; s != nil {
		out.External = &autoscalingv1.ExternalMetricStatus{
			MetricName:          s.Metric.Name,
			MetricSelector:      s.Metric.Selector.DeepCopy(),
			CurrentValue:        quantityOrZero(s.Current.Value),
			CurrentAverageValue: copyQuantity(s.Current.AverageValue),
		}
	}
	return out
}

// metricStatusFromV1 converts one current metric of the current-metrics
// annotation back, as Kubernetes does: v1's values that are not pointers
// come back set.
func metricStatusFromV1(m autoscalingv1.MetricStatus) autoscalingv2.MetricStatus {
	out := autoscalingv2.MetricStatus{Type: autoscalingv2.MetricSourceType(m.Type)}
	if s := m.Object; s != nil {
		out.Object = &autoscalingv2.ObjectMetricStatus{
			DescribedObject: autoscalingv2.CrossVersionObjectReference(s.Target),
			Metric:          autoscalingv2.MetricIdentifier{Name: s.MetricName, Selector: s.Selector.DeepCopy()},
			Current:         autoscalingv2.MetricValueStatus{Value: copyQuantity(&s.CurrentValue), AverageValue: copyQuantity(s.AverageValue)},
		}
	}
	if s := m.Pods; s != nil {
		out.Pods = &autoscalingv2.PodsMetricStatus{
			Metric:  autoscalingv2.MetricIdentifier{Name: s.MetricName, Selector: s.Selector.DeepCopy()},
			Current: autoscalingv2.MetricValueStatus{AverageValue: copyQuantity(&s.CurrentAverageValue)},
		}
	}
	if s := m.Resource; s != nil {
		out.Resource = &autoscalingv2.ResourceMetricStatus{Name: s.Name, Current: autoscalingv2.MetricValueStatus{
			AverageValue: copyQuantity(&s.CurrentAverageValue), AverageUtilization: copyInt32(s.CurrentAverageUtilization)}}
	}
	if s := m.ContainerResource; s != nil {
		out.ContainerResource = &autoscalingv2.ContainerResourceMetricStatus{Name: s.Name, Container: s.Container, Current: autoscalingv2.MetricValueStatus{
			AverageValue: copyQuantity(&s.CurrentAverageValue), AverageUtilization: copyInt32(s.CurrentAverageUtilization)}}
	}
	if s := m.External; s != nil {
		out.External = &autoscalingv2.ExternalMetricStatus{
			Metric:  autoscalingv2.MetricIdentifier{Name: s.MetricName, Selector: s.MetricSelector.DeepCopy()},
			Current: autoscalingv2.MetricValueStatus{Value: copyQuantity(&s.CurrentValue), AverageValue: copyQuantity(s.CurrentAverageValue)},
		}
	}
	return out
}

// internalBehavior is the JSON form of the behavior annotation: Kubernetes
// marshals its internal HorizontalPodAutoscalerBehavior, whose fields have
// no JSON tags, so the keys are the Go field names and absent pointers are
// null. Reading accepts any case of the keys, as encoding/json does.
type internalBehavior struct {
	ScaleUp   *internalScalingRules
	ScaleDown *internalScalingRules
}

// internalScalingRules is Kubernetes' internal HPAScalingRules.
type internalScalingRules struct {
	StabilizationWindowSeconds *int32
	SelectPolicy               *autoscalingv2.ScalingPolicySelect
	Policies                   []internalScalingPolicy
	Tolerance                  *resource.Quantity
}

// internalScalingPolicy is Kubernetes' internal HPAScalingPolicy.
type internalScalingPolicy struct {
	Type          autoscalingv2.HPAScalingPolicyType
	Value         int32
	PeriodSeconds int32
}

// behaviorToInternal gives a behavior the annotation's form.
func behaviorToInternal(b *autoscalingv2.HorizontalPodAutoscalerBehavior) internalBehavior {
	rules := func(r *autoscalingv2.HPAScalingRules) *internalScalingRules {
		if r == nil {
			return nil
		}
		out := &internalScalingRules{StabilizationWindowSeconds: copyInt32(r.StabilizationWindowSeconds), Tolerance: copyQuantity(r.Tolerance)}
		if r.SelectPolicy != nil {
			p := *r.SelectPolicy
			out.SelectPolicy = &p
		}
		for _, p := range r.Policies {
			out.Policies = append(out.Policies, internalScalingPolicy(p))
		}
		return out
	}
	return internalBehavior{ScaleUp: rules(b.ScaleUp), ScaleDown: rules(b.ScaleDown)}
}

// toV2 gives the annotation's behavior the stored form.
func (b internalBehavior) toV2() *autoscalingv2.HorizontalPodAutoscalerBehavior {
	rules := func(r *internalScalingRules) *autoscalingv2.HPAScalingRules {
		if r == nil {
			return nil
		}
		out := &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: r.StabilizationWindowSeconds, SelectPolicy: r.SelectPolicy, Tolerance: r.Tolerance}
		for _, p := range r.Policies {
			out.Policies = append(out.Policies, autoscalingv2.HPAScalingPolicy(p))
		}
		return out
	}
	return &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: rules(b.ScaleUp), ScaleDown: rules(b.ScaleDown)}
}

// copyInt32 copies an optional integer.
func copyInt32(p *int32) *int32 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// copyQuantity copies an optional quantity.
func copyQuantity(q *resource.Quantity) *resource.Quantity {
	if q == nil {
		return nil
	}
	c := q.DeepCopy()
	return &c
}

// quantityOrZero is an optional quantity where v1 has a required one.
func quantityOrZero(q *resource.Quantity) resource.Quantity {
	if q == nil {
		return resource.Quantity{}
	}
	return q.DeepCopy()
}

// fromObject decodes an object into its Go type.
func fromObject(o object, into any) error {
	data, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, into)
}

// toObject encodes a Go value as an object.
func toObject(v any) (object, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return decodeObject(data)
}
