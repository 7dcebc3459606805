package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// mapStorage is Storage over maps, for decisions on their own.
type mapStorage struct {
	claims  map[string]*corev1.PersistentVolumeClaim
	volumes map[string]*corev1.PersistentVolume
	classes map[string]*storagev1.StorageClass
}

func (m mapStorage) Claim(ns, name string) (*corev1.PersistentVolumeClaim, error) {
	if c, ok := m.claims[ns+"/"+name]; ok {
		return c, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "persistentvolumeclaims"}, name)
}

func (m mapStorage) Volume(name string) (*corev1.PersistentVolume, error) {
	if v, ok := m.volumes[name]; ok {
		return v, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "persistentvolumes"}, name)
}

func (m mapStorage) Class(name string) (*storagev1.StorageClass, error) {
	if c, ok := m.classes[name]; ok {
		return c, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Group: "storage.k8s.io", Resource: "storageclasses"}, name)
}

// TestVolumeBinding: a Pod whose claim is missing, or unbound with an
// Immediate class, is placed nowhere, with kube-scheduler's words; an
// unbound WaitForFirstConsumer claim goes anywhere; a bound volume's node
// affinity decides the node.
func TestVolumeBinding(t *testing.T) {
	t.Parallel()
	class := func(name string, mode storagev1.VolumeBindingMode) *storagev1.StorageClass {
		return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, VolumeBindingMode: &mode}
	}
	claim := func(name, class, volume string) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec:       corev1.PersistentVolumeClaimSpec{StorageClassName: &class, VolumeName: volume},
		}
	}
	st := mapStorage{
		claims: map[string]*corev1.PersistentVolumeClaim{
			"default/late":  claim("late", "wffc", ""),
			"default/now":   claim("now", "immediate", ""),
			"default/bound": claim("bound", "wffc", "pv-b"),
		},
		volumes: map[string]*corev1.PersistentVolume{
			"pv-b": {ObjectMeta: metav1.ObjectMeta{Name: "pv-b"}, Spec: corev1.PersistentVolumeSpec{NodeAffinity: &corev1.VolumeNodeAffinity{
				Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
					Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{"b"},
				}}}}},
			}}},
		},
		classes: map[string]*storagev1.StorageClass{
			"wffc":      class("wffc", storagev1.VolumeBindingWaitForFirstConsumer),
			"immediate": class("immediate", storagev1.VolumeBindingImmediate),
		},
	}
	using := func(claims ...string) *corev1.Pod {
		p := pod("p", "", "", nil)
		for _, c := range claims {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: c, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c}}})
		}
		return p
	}
	for _, tc := range []struct {
		name   string
		pod    *corev1.Pod
		nodes  []*corev1.Node
		want   string
		errMsg string
	}{
		{"no claims", using(), []*corev1.Node{node("a", "1", "1Gi", nil), node("b", "1", "1Gi", nil)}, "a", ""},
		{"missing claim", using("gone"), []*corev1.Node{node("a", "1", "1Gi", nil)}, "", `0/1 nodes are available: persistentvolumeclaim "gone" not found.`},
		{"unbound immediate", using("now"), []*corev1.Node{node("a", "1", "1Gi", nil)}, "", "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims."},
		{"waits for its consumer", using("late"), []*corev1.Node{node("a", "1", "1Gi", nil), node("b", "1", "1Gi", nil)}, "a", ""},
		{"bound to b", using("late", "bound"), []*corev1.Node{node("a", "1", "1Gi", nil), node("b", "1", "1Gi", nil)}, "b", ""},
		{"b is gone", using("bound"), []*corev1.Node{node("a", "1", "1Gi", nil), node("c", "1", "1Gi", nil)}, "", "0/2 nodes are available: 2 node(s) had volume node affinity conflict."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := snapshot(tc.nodes...)
			snap.Storage = st
			got, err := Schedule(snap, tc.pod)
			if tc.errMsg != "" {
				if err == nil || err.Error() != tc.errMsg {
					t.Fatalf("Schedule = %q, %v; want error %q", got, err, tc.errMsg)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Schedule = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
