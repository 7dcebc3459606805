package scheduler

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
)

// reasonVolumeAffinity is the filter reason of a node a Pod's bound
// volume may not be used on.
const reasonVolumeAffinity = "node(s) had volume node affinity conflict"

// Storage gives decisions the PersistentVolumeClaims, PersistentVolumes
// and StorageClasses that Pods' volumes refer to. Lookups of missing
// objects return a NotFound error.
type Storage interface {
	Claim(namespace, name string) (*corev1.PersistentVolumeClaim, error)
	Volume(name string) (*corev1.PersistentVolume, error)
	Class(name string) (*storagev1.StorageClass, error)
}

// listerStorage is Storage over the informers' listers.
type listerStorage struct {
	claims  corelisters.PersistentVolumeClaimLister
	volumes corelisters.PersistentVolumeLister
	classes storagelisters.StorageClassLister
}

var _ Storage = listerStorage{}

func (l listerStorage) Claim(ns, name string) (*corev1.PersistentVolumeClaim, error) {
	return l.claims.PersistentVolumeClaims(ns).Get(name)
}

func (l listerStorage) Volume(name string) (*corev1.PersistentVolume, error) {
	return l.volumes.Get(name)
}

func (l listerStorage) Class(name string) (*storagev1.StorageClass, error) {
	return l.classes.Get(name)
}

// volumeBinding checks a Pod's claims before any node is looked at, as
// kube-scheduler's VolumeBinding plugin does: every claim must exist and
// not be being deleted, and an unbound claim must wait for its first
// consumer (its class's volumeBindingMode WaitForFirstConsumer), since an
// Immediate one is bound before its Pods are placed. It returns the node
// affinities of the volumes already bound, which the chosen node must
// match, or why no node can run the Pod yet.
func volumeBinding(st Storage, pod *corev1.Pod) ([]*corev1.NodeSelector, string) {
	if st == nil {
		return nil, ""
	}
	var affinities []*corev1.NodeSelector
	for _, v := range pod.Spec.Volumes {
		src := v.PersistentVolumeClaim
		if src == nil {
			continue
		}
		pvc, err := st.Claim(pod.Namespace, src.ClaimName)
		if apierrors.IsNotFound(err) {
			return nil, fmt.Sprintf("persistentvolumeclaim %q not found", src.ClaimName)
		}
		if err != nil {
			return nil, err.Error()
		}
		if pvc.DeletionTimestamp != nil {
			return nil, fmt.Sprintf("persistentvolumeclaim %q is being deleted", src.ClaimName)
		}
		if pvc.Spec.VolumeName == "" {
			if !delayBinding(st, pvc) {
				return nil, "pod has unbound immediate PersistentVolumeClaims"
			}
			continue
		}
		pv, err := st.Volume(pvc.Spec.VolumeName)
		if apierrors.IsNotFound(err) {
			return nil, fmt.Sprintf("persistentvolume %q not found", pvc.Spec.VolumeName)
		}
		if err != nil {
			return nil, err.Error()
		}
		if pv.Spec.NodeAffinity != nil && pv.Spec.NodeAffinity.Required != nil {
			affinities = append(affinities, pv.Spec.NodeAffinity.Required)
		}
	}
	return affinities, ""
}

// delayBinding tells whether an unbound claim waits for its first
// consumer: its class exists and says WaitForFirstConsumer.
func delayBinding(st Storage, pvc *corev1.PersistentVolumeClaim) bool {
	if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName == "" {
		return false
	}
	sc, err := st.Class(*pvc.Spec.StorageClassName)
	if err != nil {
		return false
	}
	return sc.VolumeBindingMode != nil && *sc.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer
}

// volumeNodeConflict tells whether node is outside a bound volume's node
// affinity.
func volumeNodeConflict(affinities []*corev1.NodeSelector, node *corev1.Node) bool {
	for _, sel := range affinities {
		if ok, _ := corev1helpers.MatchNodeSelectorTerms(node, sel); !ok {
			return true
		}
	}
	return false
}
