package apiserver

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
)

// setBuiltinDefaults fills in the defaults of the kinds of
// builtinResources that clients and printers read: a persistent volume's
// mode and reclaim policy, an autoscaler's minimum, a storage class's
// policies, network policy types and endpoint port protocols.
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
		if o.Spec.MinReplicas == nil {
			one := int32(1)
			o.Spec.MinReplicas = &one
		}
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
