package apiserver

import (
	"fmt"
	"slices"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateBuiltin refuses, with the 422 Invalid Status kube-apiserver
// answers, a built-in object that Kubernetes' validation of its kind would
// refuse. o is the object about to be stored, cur the stored one (nil on
// create) and sub the subresource written ("" or "status"). Kinds without
// rules here are accepted.
func validateBuiltin(res *Resource, sub string, cur, o object) error {
	var errs field.ErrorList
	switch res.APIVersion() + "/" + res.Kind {
	case "autoscaling/v2/HorizontalPodAutoscaler":
		var h, old autoscalingv2.HorizontalPodAutoscaler
		if err := fromObject(o, &h); err != nil {
			return err
		}
		if cur != nil {
			if err := fromObject(cur, &old); err != nil {
				return err
			}
		}
		errs = validateHPA(&h, &old, cur != nil, sub)
	case "v1/Pod":
		// A Pod's spec as a workload's template is checked, at create
		// (what may change later is checked by the update rules).
		if sub != "" || cur != nil {
			return nil
		}
		var pod corev1.Pod
		if err := fromObject(o, &pod); err != nil {
			return err
		}
		errs = validatePodSpecBasics(&pod.Spec, field.NewPath("spec"))
	case "scheduling.k8s.io/v1/PriorityClass":
		if sub != "" {
			return nil
		}
		errs = validatePriorityClass(cur, o)
	default:
		if sub != "" {
			return nil
		}
		var ok bool
		var err error
		if errs, ok, err = validateWorkload(res.APIVersion()+"/"+res.Kind, cur, o); err != nil || !ok {
			return err
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(res.GroupVersionKind().GroupKind(), str(o, "metadata", "name"), errs)
}

// Bounds of an autoscaler's behavior (k8s.io/kubernetes
// pkg/apis/autoscaling/validation).
const (
	hpaMaxPeriodSeconds              = 1800
	hpaMaxStabilizationWindowSeconds = 3600
)

// validateHPA is Kubernetes' validation of an autoscaler, on the stored
// version (kube-apiserver validates its internal form, so an autoscaler
// written through autoscaling/v1 is told about spec.metrics too): on
// create and update its spec, on a status update its replica counts.
// minReplicas may be 0 only if it was already (the HPAScaleToZero feature
// is off, as by default).
func validateHPA(h, old *autoscalingv2.HorizontalPodAutoscaler, update bool, sub string) field.ErrorList {
	if sub == "status" {
		var errs field.ErrorList
		sp := field.NewPath("status")
		if h.Status.CurrentReplicas < 0 {
			errs = append(errs, field.Invalid(sp.Child("currentReplicas"), int64(h.Status.CurrentReplicas), "must be greater than or equal to 0"))
		}
		if h.Status.DesiredReplicas < 0 {
			errs = append(errs, field.Invalid(sp.Child("desiredReplicas"), int64(h.Status.DesiredReplicas), "must be greater than or equal to 0"))
		}
		return errs
	}
	lower := int32(1)
	if update && old.Spec.MinReplicas != nil && *old.Spec.MinReplicas == 0 {
		lower = 0
	}
	spec := &h.Spec
	fld := field.NewPath("spec")
	var errs field.ErrorList
	if spec.MinReplicas != nil && *spec.MinReplicas < lower {
		errs = append(errs, field.Invalid(fld.Child("minReplicas"), *spec.MinReplicas, fmt.Sprintf("must be greater than or equal to %d", lower)))
	}
	if spec.MaxReplicas < 1 {
		errs = append(errs, field.Invalid(fld.Child("maxReplicas"), spec.MaxReplicas, "must be greater than 0"))
	}
	if spec.MinReplicas != nil && spec.MaxReplicas < *spec.MinReplicas {
		errs = append(errs, field.Invalid(fld.Child("maxReplicas"), spec.MaxReplicas, "must be greater than or equal to `minReplicas`"))
	}
	errs = append(errs, validateObjectRef(spec.ScaleTargetRef, fld.Child("scaleTargetRef"))...)
	errs = append(errs, validateHPAMetrics(spec.Metrics, fld.Child("metrics"), spec.MinReplicas)...)
	if b := spec.Behavior; b != nil {
		errs = append(errs, validateScalingRules(b.ScaleUp, fld.Child("behavior", "scaleUp"))...)
		errs = append(errs, validateScalingRules(b.ScaleDown, fld.Child("behavior", "scaleDown"))...)
	}
	return errs
}

// validateObjectRef checks a scale target or a described object.
func validateObjectRef(ref autoscalingv2.CrossVersionObjectReference, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if ref.Kind == "" {
		errs = append(errs, field.Required(fld.Child("kind"), ""))
	} else {
		for _, msg := range content.IsPathSegmentName(ref.Kind) {
			errs = append(errs, field.Invalid(fld.Child("kind"), ref.Kind, msg))
		}
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(fld.Child("name"), ""))
	} else {
		for _, msg := range content.IsPathSegmentName(ref.Name) {
			errs = append(errs, field.Invalid(fld.Child("name"), ref.Name, msg))
		}
	}
	return errs
}

// validateHPAMetrics checks each metric, and that an autoscaler allowed to
// go down to zero replicas has an Object or External metric to come back
// up with.
func validateHPAMetrics(metrics []autoscalingv2.MetricSpec, fld *field.Path, minReplicas *int32) field.ErrorList {
	var errs field.ErrorList
	external := false
	for i, m := range metrics {
		errs = append(errs, validateMetricSpec(m, fld.Index(i))...)
		if m.Type == autoscalingv2.ObjectMetricSourceType || m.Type == autoscalingv2.ExternalMetricSourceType {
			external = true
		}
	}
	if minReplicas != nil && *minReplicas == 0 && !external {
		errs = append(errs, field.Forbidden(fld, "must specify at least one Object or External metric to support scaling to zero replicas"))
	}
	return errs
}

// metricSourceTypes are the metric types, in the sorted order Kubernetes
// lists them in its messages.
var metricSourceTypes = []string{"ContainerResource", "External", "Object", "Pods", "Resource"}

// validateMetricSpec checks that a metric has its type's source, and only
// it, and that the source is complete.
func validateMetricSpec(m autoscalingv2.MetricSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if m.Type == "" {
		errs = append(errs, field.Required(fld.Child("type"), "must specify a metric source type"))
	}
	if !slices.Contains(metricSourceTypes, string(m.Type)) {
		errs = append(errs, field.NotSupported(fld.Child("type"), m.Type, metricSourceTypes))
	}
	// The sources given, in Kubernetes' order; only the first is checked.
	var present []string
	check := func(name string, given bool, validate func() field.ErrorList) {
		if !given {
			return
		}
		present = append(present, name)
		if len(present) == 1 {
			errs = append(errs, validate()...)
		}
	}
	check("object", m.Object != nil, func() field.ErrorList { return validateObjectSource(m.Object, fld.Child("object")) })
	check("external", m.External != nil, func() field.ErrorList { return validateExternalSource(m.External, fld.Child("external")) })
	check("pods", m.Pods != nil, func() field.ErrorList { return validatePodsSource(m.Pods, fld.Child("pods")) })
	check("resource", m.Resource != nil, func() field.ErrorList { return validateResourceSource(m.Resource, fld.Child("resource")) })
	check("containerResource", m.ContainerResource != nil, func() field.ErrorList {
		return validateContainerResourceSource(m.ContainerResource, fld.Child("containerResource"))
	})
	var expected string
	switch m.Type {
	case autoscalingv2.ObjectMetricSourceType:
		expected = "object"
	case autoscalingv2.PodsMetricSourceType:
		expected = "pods"
	case autoscalingv2.ResourceMetricSourceType:
		expected = "resource"
	case autoscalingv2.ExternalMetricSourceType:
		expected = "external"
	case autoscalingv2.ContainerResourceMetricSourceType:
		expected = "containerResource"
	}
	if expected != "" && !slices.Contains(present, expected) {
		errs = append(errs, field.Required(fld.Child(expected), "must populate information for the given metric source"))
	}
	if len(present) != 1 {
		for _, name := range present {
			if name != expected {
				errs = append(errs, field.Forbidden(fld.Child(name), "must populate the given metric source only"))
			}
		}
	}
	return errs
}

func validateObjectSource(s *autoscalingv2.ObjectMetricSource, fld *field.Path) field.ErrorList {
	errs := validateObjectRef(s.DescribedObject, fld.Child("describedObject"))
	errs = append(errs, validateMetricIdentifier(s.Metric, fld.Child("metric"))...)
	errs = append(errs, validateMetricTarget(s.Target, fld.Child("target"))...)
	if s.Target.Value == nil && s.Target.AverageValue == nil {
		errs = append(errs, field.Required(fld.Child("target", "averageValue"), "must set either a target value or averageValue"))
	}
	return errs
}

func validateExternalSource(s *autoscalingv2.ExternalMetricSource, fld *field.Path) field.ErrorList {
	errs := validateMetricIdentifier(s.Metric, fld.Child("metric"))
	errs = append(errs, validateMetricTarget(s.Target, fld.Child("target"))...)
	if s.Target.Value == nil && s.Target.AverageValue == nil {
		errs = append(errs, field.Required(fld.Child("target", "averageValue"), "must set either a target value for metric or a per-pod target"))
	}
	if s.Target.Value != nil && s.Target.AverageValue != nil {
		errs = append(errs, field.Forbidden(fld.Child("target", "value"), "may not set both a target value for metric and a per-pod target"))
	}
	return errs
}

func validatePodsSource(s *autoscalingv2.PodsMetricSource, fld *field.Path) field.ErrorList {
	errs := validateMetricIdentifier(s.Metric, fld.Child("metric"))
	errs = append(errs, validateMetricTarget(s.Target, fld.Child("target"))...)
	if s.Target.AverageValue == nil {
		errs = append(errs, field.Required(fld.Child("target", "averageValue"), "must specify a positive target averageValue"))
	}
	return errs
}

func validateResourceSource(s *autoscalingv2.ResourceMetricSource, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Name == "" {
		errs = append(errs, field.Required(fld.Child("name"), "must specify a resource name"))
	}
	errs = append(errs, validateMetricTarget(s.Target, fld.Child("target"))...)
	return append(errs, validateUtilizationOrValue(s.Target, fld.Child("target"))...)
}

func validateContainerResourceSource(s *autoscalingv2.ContainerResourceMetricSource, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Name == "" {
		errs = append(errs, field.Required(fld.Child("name"), "must specify a resource name"))
	}
	if s.Container == "" {
		errs = append(errs, field.Required(fld.Child("container"), "must specify a container"))
	} else {
		for _, msg := range validation.IsDNS1123Label(s.Container) {
			errs = append(errs, field.Invalid(fld.Child("container"), s.Container, msg))
		}
	}
	errs = append(errs, validateMetricTarget(s.Target, fld.Child("target"))...)
	return append(errs, validateUtilizationOrValue(s.Target, fld.Child("target"))...)
}

// validateUtilizationOrValue checks that a resource target has exactly one
// of a utilization and an average value.
func validateUtilizationOrValue(t autoscalingv2.MetricTarget, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.AverageUtilization == nil && t.AverageValue == nil {
		errs = append(errs, field.Required(fld.Child("averageUtilization"), "must set either a target raw value or a target utilization"))
	}
	if t.AverageUtilization != nil && t.AverageValue != nil {
		errs = append(errs, field.Forbidden(fld.Child("averageValue"), "may not set both a target raw value and a target utilization"))
	}
	return errs
}

// validateMetricTarget checks a target's type and that its values are
// positive.
func validateMetricTarget(t autoscalingv2.MetricTarget, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.Type == "" {
		errs = append(errs, field.Required(fld.Child("type"), "must specify a metric target type"))
	}
	switch t.Type {
	case autoscalingv2.UtilizationMetricType, autoscalingv2.ValueMetricType, autoscalingv2.AverageValueMetricType:
	default:
		errs = append(errs, field.Invalid(fld.Child("type"), t.Type, "must be either Utilization, Value, or AverageValue"))
	}
	if t.Value != nil && t.Value.Sign() != 1 {
		errs = append(errs, field.Invalid(fld.Child("value"), t.Value, "must be positive"))
	}
	if t.AverageValue != nil && t.AverageValue.Sign() != 1 {
		errs = append(errs, field.Invalid(fld.Child("averageValue"), t.AverageValue, "must be positive"))
	}
	if t.AverageUtilization != nil && *t.AverageUtilization < 1 {
		errs = append(errs, field.Invalid(fld.Child("averageUtilization"), t.AverageUtilization, "must be greater than 0"))
	}
	return errs
}

func validateMetricIdentifier(id autoscalingv2.MetricIdentifier, fld *field.Path) field.ErrorList {
	if id.Name == "" {
		return field.ErrorList{field.Required(fld.Child("name"), "must specify a metric name")}
	}
	var errs field.ErrorList
	for _, msg := range content.IsPathSegmentName(id.Name) {
		errs = append(errs, field.Invalid(fld.Child("name"), id.Name, msg))
	}
	return errs
}

// scalingPolicySelects and scalingPolicyTypes are the values Kubernetes
// accepts, sorted as its messages list them.
var (
	scalingPolicySelects = []string{"Disabled", "Max", "Min"}
	scalingPolicyTypes   = []string{"Percent", "Pods"}
)

// validateScalingRules checks one direction of a behavior: the window and
// periods in range, known policy kinds, at least one policy.
func validateScalingRules(r *autoscalingv2.HPAScalingRules, fld *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	if w := r.StabilizationWindowSeconds; w != nil && *w < 0 {
		errs = append(errs, field.Invalid(fld.Child("stabilizationWindowSeconds"), *w, "must be greater than or equal to zero"))
	}
	if w := r.StabilizationWindowSeconds; w != nil && *w > hpaMaxStabilizationWindowSeconds {
		errs = append(errs, field.Invalid(fld.Child("stabilizationWindowSeconds"), *w, fmt.Sprintf("must be less than or equal to %d", hpaMaxStabilizationWindowSeconds)))
	}
	if p := r.SelectPolicy; p != nil && !slices.Contains(scalingPolicySelects, string(*p)) {
		errs = append(errs, field.NotSupported(fld.Child("selectPolicy"), *p, scalingPolicySelects))
	}
	pp := fld.Child("policies")
	if len(r.Policies) == 0 {
		errs = append(errs, field.Required(pp, "must specify at least one Policy"))
	}
	for i, p := range r.Policies {
		ip := pp.Index(i)
		if !slices.Contains(scalingPolicyTypes, string(p.Type)) {
			errs = append(errs, field.NotSupported(ip.Child("type"), p.Type, scalingPolicyTypes))
		}
		if p.Value <= 0 {
			errs = append(errs, field.Invalid(ip.Child("value"), p.Value, "must be greater than zero"))
		}
		if p.PeriodSeconds <= 0 {
			errs = append(errs, field.Invalid(ip.Child("periodSeconds"), p.PeriodSeconds, "must be greater than zero"))
		}
		if p.PeriodSeconds > hpaMaxPeriodSeconds {
			errs = append(errs, field.Invalid(ip.Child("periodSeconds"), p.PeriodSeconds, fmt.Sprintf("must be less than or equal to %d", hpaMaxPeriodSeconds)))
		}
	}
	return errs
}
