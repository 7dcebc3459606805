package apiserver

import (
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
)

// setBuiltinDefaults fills in the defaults of the kinds of
// builtinResources that clients and printers read: a persistent volume's
// mode and reclaim policy, an autoscaler's minimum, metrics and behavior,
// a storage class's policies, network policy types and endpoint port
// protocols.
func setBuiltinDefaults(obj any) {
	switch o := obj.(type) {
	case *corev1.PersistentVolume:
		if o.Spec.VolumeMode == nil {
			mode := corev1.PersistentVolumeFilesystem
			o.Spec.VolumeMode = &mode
		}
		if o.Spec.PersistentVolumeReclaimPolicy == "" {
			o.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
		}
	case *autoscalingv2.HorizontalPodAutoscaler:
		defaultHPA(o)
	case *autoscalingv1.HorizontalPodAutoscaler:
		// Kubernetes leaves v1's cpu target to the conversion
		// (hpaconvert.go), which knows the other metrics.
		defaultInt32(&o.Spec.MinReplicas, 1)
	case *storagev1.StorageClass:
		if o.ReclaimPolicy == nil {
			p := corev1.PersistentVolumeReclaimDelete
			o.ReclaimPolicy = &p
		}
		if o.VolumeBindingMode == nil {
			m := storagev1.VolumeBindingImmediate
			o.VolumeBindingMode = &m
		}
	case *networkingv1.NetworkPolicy:
		if len(o.Spec.PolicyTypes) == 0 {
			o.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
			if len(o.Spec.Egress) > 0 {
				o.Spec.PolicyTypes = append(o.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
			}
		}
	case *discoveryv1.EndpointSlice:
		for i := range o.Ports {
			if o.Ports[i].Protocol == nil {
				tcp := corev1.ProtocolTCP
				o.Ports[i].Protocol = &tcp
			}
		}
	}
}

// defaultHPA fills in an autoscaler's defaults as Kubernetes does
// (k8s.io/kubernetes pkg/apis/autoscaling/v2/defaults.go): a minimum of 1,
// a cpu target of 80% when no metric is named, and, when a behavior is
// given, the rules of both directions completed with Kubernetes' own:
// scale up by 4 Pods or 100% per 15 s, whichever is more, without
// stabilization; scale down by up to 100% per 15 s, the stabilization
// window left to the controller's setting.
func defaultHPA(o *autoscalingv2.HorizontalPodAutoscaler) {
	defaultInt32(&o.Spec.MinReplicas, 1)
	if len(o.Spec.Metrics) == 0 {
		o.Spec.Metrics = []autoscalingv2.MetricSpec{cpuUtilization(hpaDefaultCPUUtilization)}
	}
	if b := o.Spec.Behavior; b != nil {
		zero := int32(0)
		b.ScaleUp = defaultScalingRules(b.ScaleUp, &zero, []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		})
		b.ScaleDown = defaultScalingRules(b.ScaleDown, nil, []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		})
	}
}

// defaultScalingRules returns r with its unset fields set: the window
// given, the Max policy selection and the policies given.
func defaultScalingRules(r *autoscalingv2.HPAScalingRules, window *int32, policies []autoscalingv2.HPAScalingPolicy) *autoscalingv2.HPAScalingRules {
	if r == nil {
		r = &autoscalingv2.HPAScalingRules{}
	}
	if r.StabilizationWindowSeconds == nil {
		r.StabilizationWindowSeconds = window
	}
	if r.SelectPolicy == nil {
		p := autoscalingv2.MaxChangePolicySelect
		r.SelectPolicy = &p
	}
	if r.Policies == nil {
		r.Policies = policies
	}
	return r
}
