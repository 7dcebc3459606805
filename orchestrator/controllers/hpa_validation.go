package controllers

import (
	"slices"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Bounds of an autoscaler's behavior, kube-apiserver's.
const (
	maxStabilizationWindowSeconds = 3600
	maxScalingPolicyPeriodSeconds = 1800
)

// ValidateHPA returns what is wrong with an autoscaler's spec that
// kube-apiserver would refuse, in its words: replica bounds that cannot
// hold (which would make the autoscaler swing between them), a target
// without kind or name, and behavior out of range.
func ValidateHPA(spec *autoscalingv2.HorizontalPodAutoscalerSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	minR := int32(1)
	if spec.MinReplicas != nil {
		minR = *spec.MinReplicas
		if minR < 1 {
			errs = append(errs, field.Invalid(fld.Child("minReplicas"), minR, "must be greater than or equal to 1"))
		}
	}
	if spec.MaxReplicas < 1 {
		errs = append(errs, field.Invalid(fld.Child("maxReplicas"), spec.MaxReplicas, "must be greater than or equal to 1"))
	}
	if spec.MinReplicas != nil && spec.MaxReplicas < minR {
		errs = append(errs, field.Invalid(fld.Child("maxReplicas"), spec.MaxReplicas, "must be greater than or equal to `minReplicas`"))
	}
	ref := fld.Child("scaleTargetRef")
	if spec.ScaleTargetRef.Kind == "" {
		errs = append(errs, field.Required(ref.Child("kind"), ""))
	}
	if spec.ScaleTargetRef.Name == "" {
		errs = append(errs, field.Required(ref.Child("name"), ""))
	}
	if b := spec.Behavior; b != nil {
		errs = append(errs, validateScalingRules(b.ScaleUp, fld.Child("behavior", "scaleUp"))...)
		errs = append(errs, validateScalingRules(b.ScaleDown, fld.Child("behavior", "scaleDown"))...)
	}
	return errs
}

func validateScalingRules(r *autoscalingv2.HPAScalingRules, fld *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	if w := r.StabilizationWindowSeconds; w != nil {
		if *w < 0 {
			errs = append(errs, field.Invalid(fld.Child("stabilizationWindowSeconds"), *w, "must be greater than or equal to zero"))
		}
		if *w > maxStabilizationWindowSeconds {
			errs = append(errs, field.Invalid(fld.Child("stabilizationWindowSeconds"), *w, "must be less than or equal to 3600"))
		}
	}
	if p := r.SelectPolicy; p != nil {
		sel := []autoscalingv2.ScalingPolicySelect{autoscalingv2.DisabledPolicySelect, autoscalingv2.MaxChangePolicySelect, autoscalingv2.MinChangePolicySelect}
		if !slices.Contains(sel, *p) {
			errs = append(errs, field.NotSupported(fld.Child("selectPolicy"), *p, sel))
		}
	}
	for i, p := range r.Policies {
		pp := fld.Child("policies").Index(i)
		types := []autoscalingv2.HPAScalingPolicyType{autoscalingv2.PercentScalingPolicy, autoscalingv2.PodsScalingPolicy}
		if !slices.Contains(types, p.Type) {
			errs = append(errs, field.NotSupported(pp.Child("type"), p.Type, types))
		}
		if p.Value <= 0 {
			errs = append(errs, field.Invalid(pp.Child("value"), p.Value, "must be greater than zero"))
		}
		if p.PeriodSeconds <= 0 {
			errs = append(errs, field.Invalid(pp.Child("periodSeconds"), p.PeriodSeconds, "must be greater than zero"))
		}
		if p.PeriodSeconds > maxScalingPolicyPeriodSeconds {
			errs = append(errs, field.Invalid(pp.Child("periodSeconds"), p.PeriodSeconds, "must be less than or equal to 1800"))
		}
	}
	return errs
}

// invalidHPAError is the error kube-apiserver would have answered the
// autoscaler with.
func invalidHPAError(h *autoscalingv2.HorizontalPodAutoscaler, errs field.ErrorList) error {
	return apierrors.NewInvalid(autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler").GroupKind(), h.Name, errs)
}
