package controllers

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"regexp"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/rand"
)

// Labels a StatefulSet puts on its Pods and revisions, as Kubernetes
// names them.
const (
	stsPodNameLabel   = appsv1.StatefulSetPodNameLabel
	stsPodIndexLabel  = appsv1.PodIndexLabel
	stsRevisionLabel  = appsv1.ControllerRevisionHashLabelKey
	revisionHashLabel = "controller.kubernetes.io/hash"
)

var statefulSetKind = appsv1.SchemeGroupVersion.WithKind("StatefulSet")

var ordinalName = regexp.MustCompile(`^(.*)-([0-9]+)$`)

// podOrdinal returns the ordinal of a StatefulSet Pod named NAME-N, or -1.
func podOrdinal(set *appsv1.StatefulSet, p *corev1.Pod) int {
	m := ordinalName.FindStringSubmatch(p.Name)
	if m == nil || m[1] != set.Name {
		return -1
	}
	n, err := strconv.Atoi(m[2])
	if err != nil {
		return -1
	}
	return n
}

// startOrdinal is the first ordinal (spec.ordinals.start, or 0).
func startOrdinal(set *appsv1.StatefulSet) int {
	if set.Spec.Ordinals != nil {
		return int(set.Spec.Ordinals.Start)
	}
	return 0
}

func stsPodName(set *appsv1.StatefulSet, ordinal int) string {
	return fmt.Sprintf("%s-%d", set.Name, ordinal)
}

// claimName is the PVC of a volumeClaimTemplate for one ordinal.
func claimName(set *appsv1.StatefulSet, tmpl *corev1.PersistentVolumeClaim, ordinal int) string {
	return fmt.Sprintf("%s-%s-%d", tmpl.Name, set.Name, ordinal)
}

// revisionPatch is a revision's data as Kubernetes stores it: the
// template under spec, marked to replace, which kubectl rollout undo
// applies as a strategic merge patch.
func revisionPatch(set *appsv1.StatefulSet) ([]byte, error) {
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&set.Spec.Template)
	if err != nil {
		return nil, err
	}
	raw["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": raw}})
}

// revisionHash hashes a revision's data and the collision count.
func revisionHash(data []byte, collisions *int32) string {
	h := fnv.New32()
	h.Write(data)
	if collisions != nil {
		h.Write([]byte(strconv.FormatInt(int64(*collisions), 10)))
	}
	return rand.SafeEncodeString(strconv.FormatUint(uint64(h.Sum32()), 10))
}

// newRevision builds the ControllerRevision of set's current template.
func newRevision(set *appsv1.StatefulSet, number int64) (*appsv1.ControllerRevision, error) {
	data, err := revisionPatch(set)
	if err != nil {
		return nil, err
	}
	hash := revisionHash(data, set.Status.CollisionCount)
	lbls := maps.Clone(set.Spec.Template.Labels)
	if lbls == nil {
		lbls = map[string]string{}
	}
	lbls[revisionHashLabel] = hash
	o := &owner{meta: set, gvk: statefulSetKind}
	return &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name:            set.Name + "-" + hash,
			Namespace:       set.Namespace,
			Labels:          lbls,
			OwnerReferences: []metav1.OwnerReference{o.ref()},
		},
		Data:     runtime.RawExtension{Raw: data},
		Revision: number,
	}, nil
}

// templateOf decodes a revision's template.
func templateOf(rev *appsv1.ControllerRevision) (*corev1.PodTemplateSpec, error) {
	var patch struct {
		Spec struct {
			Template map[string]any `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(rev.Data.Raw, &patch); err != nil {
		return nil, fmt.Errorf("decoding controllerrevision %s: %w", rev.Name, err)
	}
	delete(patch.Spec.Template, "$patch")
	var t corev1.PodTemplateSpec
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(patch.Spec.Template, &t); err != nil {
		return nil, fmt.Errorf("decoding the template of controllerrevision %s: %w", rev.Name, err)
	}
	return &t, nil
}

// newStatefulPod builds Pod ordinal of set from a revision's template.
func newStatefulPod(set *appsv1.StatefulSet, tmpl *corev1.PodTemplateSpec, revision string, ordinal int) *corev1.Pod {
	o := &owner{meta: set, gvk: statefulSetKind}
	p := podFromTemplate(tmpl, "", o.ref())
	p.Name = stsPodName(set, ordinal)
	p.Namespace = set.Namespace
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Labels[stsPodNameLabel] = p.Name
	p.Labels[stsPodIndexLabel] = strconv.Itoa(ordinal)
	p.Labels[stsRevisionLabel] = revision
	p.Spec.Hostname = p.Name
	p.Spec.Subdomain = set.Spec.ServiceName
	// Each claim template becomes a volume bound to this ordinal's PVC.
	for i := range set.Spec.VolumeClaimTemplates {
		ct := &set.Spec.VolumeClaimTemplates[i]
		vol := corev1.Volume{Name: ct.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claimName(set, ct, ordinal)},
		}}
		replaced := false
		for j := range p.Spec.Volumes {
			if p.Spec.Volumes[j].Name == ct.Name {
				p.Spec.Volumes[j] = vol
				replaced = true
			}
		}
		if !replaced {
			p.Spec.Volumes = append(p.Spec.Volumes, vol)
		}
	}
	return p
}

// newClaim builds the PVC of a claim template for one ordinal, owned as
// the retention policy says.
func newClaim(set *appsv1.StatefulSet, ct *corev1.PersistentVolumeClaim, ordinal int) *corev1.PersistentVolumeClaim {
	c := ct.DeepCopy()
	c.ObjectMeta = metav1.ObjectMeta{
		Name:        claimName(set, ct, ordinal),
		Namespace:   set.Namespace,
		Labels:      maps.Clone(ct.Labels),
		Annotations: maps.Clone(ct.Annotations),
	}
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	if set.Spec.Selector != nil {
		maps.Copy(c.Labels, set.Spec.Selector.MatchLabels)
	}
	c.Status = corev1.PersistentVolumeClaimStatus{}
	if p := set.Spec.PersistentVolumeClaimRetentionPolicy; p != nil && p.WhenDeleted == appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
		o := &owner{meta: set, gvk: statefulSetKind}
		ref := o.ref()
		ref.Controller = nil
		c.OwnerReferences = append(c.OwnerReferences, ref)
	}
	return c
}
