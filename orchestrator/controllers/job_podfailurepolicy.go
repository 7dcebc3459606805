package controllers

import (
	"fmt"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Limits of a podFailurePolicy, kube-apiserver's.
const (
	maxPodFailurePolicyRules      = 20
	maxPodFailurePolicyExitCodes  = 255
	maxPodFailurePolicyConditions = 20
	// reasonPodFailurePolicy is the Failed condition's reason when a
	// FailJob rule matched.
	reasonPodFailurePolicy = "PodFailurePolicy"
)

// ValidatePodFailurePolicy returns what is wrong with a Job's
// podFailurePolicy and backoff limit per index, worded as kube-apiserver
// words it; spec is the Job's spec at path fld ("spec").
func ValidatePodFailurePolicy(spec *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	indexed := spec.CompletionMode != nil && *spec.CompletionMode == batchv1.IndexedCompletion
	if spec.BackoffLimitPerIndex != nil && !indexed {
		errs = append(errs, field.Invalid(fld.Child("backoffLimitPerIndex"), *spec.BackoffLimitPerIndex, "requires indexed completion mode"))
	}
	if spec.MaxFailedIndexes != nil && spec.BackoffLimitPerIndex == nil {
		errs = append(errs, field.Required(fld.Child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"))
	}
	policy := spec.PodFailurePolicy
	if policy == nil {
		return errs
	}
	if spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		errs = append(errs, field.Invalid(fld.Child("template", "spec", "restartPolicy"), spec.Template.Spec.RestartPolicy,
			fmt.Sprintf("only %q is supported when podFailurePolicy is specified", corev1.RestartPolicyNever)))
	}
	rulesPath := fld.Child("podFailurePolicy", "rules")
	if len(policy.Rules) > maxPodFailurePolicyRules {
		errs = append(errs, field.TooMany(rulesPath, len(policy.Rules), maxPodFailurePolicyRules))
	}
	names := sets.New[string]()
	for _, c := range spec.Template.Spec.InitContainers {
		names.Insert(c.Name)
	}
	for _, c := range spec.Template.Spec.Containers {
		names.Insert(c.Name)
	}
	actions := []batchv1.PodFailurePolicyAction{batchv1.PodFailurePolicyActionCount, batchv1.PodFailurePolicyActionFailIndex, batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyActionIgnore}
	for i, rule := range policy.Rules {
		rp := rulesPath.Index(i)
		ap := rp.Child("action")
		switch {
		case !slices.Contains(actions, rule.Action):
			errs = append(errs, field.NotSupported(ap, rule.Action, actions))
		case rule.Action == batchv1.PodFailurePolicyActionFailIndex && spec.BackoffLimitPerIndex == nil:
			errs = append(errs, field.Invalid(ap, rule.Action, "requires the backoffLimitPerIndex to be set"))
		}
		switch {
		case rule.OnExitCodes != nil && len(rule.OnPodConditions) > 0:
			errs = append(errs, field.Invalid(rp, field.OmitValueType{}, "specifying both OnExitCodes and OnPodConditions is not supported"))
		case rule.OnExitCodes == nil && len(rule.OnPodConditions) == 0:
			errs = append(errs, field.Invalid(rp, field.OmitValueType{}, "specifying one of OnExitCodes and OnPodConditions is required"))
		}
		if r := rule.OnExitCodes; r != nil {
			errs = append(errs, validateOnExitCodes(r, rp.Child("onExitCodes"), names)...)
		}
		cp := rp.Child("onPodConditions")
		if len(rule.OnPodConditions) > maxPodFailurePolicyConditions {
			errs = append(errs, field.TooMany(cp, len(rule.OnPodConditions), maxPodFailurePolicyConditions))
		}
		for j, pat := range rule.OnPodConditions {
			pp := cp.Index(j)
			for _, msg := range validation.IsQualifiedName(string(pat.Type)) {
				errs = append(errs, field.Invalid(pp.Child("type"), pat.Type, msg))
			}
			if pat.Status != "" && !slices.Contains([]corev1.ConditionStatus{corev1.ConditionTrue, corev1.ConditionFalse, corev1.ConditionUnknown}, pat.Status) {
				errs = append(errs, field.NotSupported(pp.Child("status"), pat.Status, []corev1.ConditionStatus{corev1.ConditionFalse, corev1.ConditionTrue, corev1.ConditionUnknown}))
			}
		}
	}
	return errs
}

func validateOnExitCodes(r *batchv1.PodFailurePolicyOnExitCodesRequirement, p *field.Path, names sets.Set[string]) field.ErrorList {
	var errs field.ErrorList
	if r.ContainerName != nil && !names.Has(*r.ContainerName) {
		errs = append(errs, field.Invalid(p.Child("containerName"), *r.ContainerName, "must be one of the container or initContainer names in the pod template"))
	}
	ops := []batchv1.PodFailurePolicyOnExitCodesOperator{batchv1.PodFailurePolicyOnExitCodesOpIn, batchv1.PodFailurePolicyOnExitCodesOpNotIn}
	if !slices.Contains(ops, r.Operator) {
		errs = append(errs, field.NotSupported(p.Child("operator"), r.Operator, ops))
	}
	vp := p.Child("values")
	switch {
	case len(r.Values) == 0:
		errs = append(errs, field.Invalid(vp, r.Values, "at least one value is required"))
	case len(r.Values) > maxPodFailurePolicyExitCodes:
		errs = append(errs, field.TooMany(vp, len(r.Values), maxPodFailurePolicyExitCodes))
	}
	seen := sets.New[int32]()
	for i, v := range r.Values {
		switch {
		case r.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && v == 0:
			errs = append(errs, field.Invalid(vp.Index(i), v, "must not be 0 for the In operator"))
		case seen.Has(v):
			errs = append(errs, field.Duplicate(vp.Index(i), v))
		case i > 0 && r.Values[i-1] > v:
			errs = append(errs, field.Invalid(vp.Index(i), v, "must be ordered"))
		}
		seen.Insert(v)
	}
	return errs
}

// invalidJobError is the error kube-apiserver would have answered the
// Job with.
func invalidJobError(j *batchv1.Job, errs field.ErrorList) error {
	return apierrors.NewInvalid(batchv1.SchemeGroupVersion.WithKind(jobKindName).GroupKind(), j.Name, errs)
}

// podFailureMatch is the rule of a podFailurePolicy a failed Pod matched:
// its action and the message Kubernetes gives it.
type podFailureMatch struct {
	action  batchv1.PodFailurePolicyAction
	message string
}

// matchPodFailurePolicy returns the first rule of the Job's policy the
// failed Pod matches, nil when there is no policy or no rule matches (the
// failure then counts, as with the Count action).
func matchPodFailurePolicy(policy *batchv1.PodFailurePolicy, p *corev1.Pod) *podFailureMatch {
	if policy == nil {
		return nil
	}
	for i, rule := range policy.Rules {
		if r := rule.OnExitCodes; r != nil {
			if cs := matchExitCodes(r, p); cs != nil {
				return &podFailureMatch{rule.Action, fmt.Sprintf("Container %s for pod %s/%s failed with exit code %d matching %s rule at index %d",
					cs.Name, p.Namespace, p.Name, cs.State.Terminated.ExitCode, rule.Action, i)}
			}
		}
		for _, pat := range rule.OnPodConditions {
			want := pat.Status
			if want == "" {
				want = corev1.ConditionTrue
			}
			for _, c := range p.Status.Conditions {
				if c.Type == pat.Type && c.Status == want {
					return &podFailureMatch{rule.Action, fmt.Sprintf("Pod %s/%s has condition %s matching %s rule at index %d",
						p.Namespace, p.Name, c.Type, rule.Action, i)}
				}
			}
		}
	}
	return nil
}

// matchExitCodes returns the first terminated container (init containers
// first) whose exit code the requirement selects; a zero exit code never
// matches NotIn.
func matchExitCodes(r *batchv1.PodFailurePolicyOnExitCodesRequirement, p *corev1.Pod) *corev1.ContainerStatus {
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for i := range list {
			cs := &list[i]
			if r.ContainerName != nil && cs.Name != *r.ContainerName {
				continue
			}
			t := cs.State.Terminated
			if t == nil {
				continue
			}
			in := slices.Contains(r.Values, t.ExitCode)
			switch r.Operator {
			case batchv1.PodFailurePolicyOnExitCodesOpIn:
				if in {
					return cs
				}
			case batchv1.PodFailurePolicyOnExitCodesOpNotIn:
				if !in && t.ExitCode != 0 {
					return cs
				}
			}
		}
	}
	return nil
}
