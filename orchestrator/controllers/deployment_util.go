package controllers

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/dump"
)

// Annotations the Deployment controller keeps, as Kubernetes names them.
const (
	// RevisionAnnotation numbers the revisions of a Deployment on it and
	// on its ReplicaSets; kubectl rollout history and undo read it.
	RevisionAnnotation = "deployment.kubernetes.io/revision"
	// RevisionHistoryAnnotation lists the earlier revisions a ReplicaSet
	// served, when a rollback reused it.
	RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	// DesiredReplicasAnnotation is the Deployment's replicas when the
	// ReplicaSet was last scaled.
	DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	// MaxReplicasAnnotation is replicas plus maxSurge when the ReplicaSet
	// was last scaled.
	MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"
	// lastApplied is kubectl's annotation, never copied to ReplicaSets.
	lastApplied = "kubectl.kubernetes.io/last-applied-configuration"
	// rollbackTo is the annotation of the retired rollback API.
	rollbackTo = "deprecated.deployment.rollback.to"
)

// Reasons of the Deployment conditions, as Kubernetes words them.
const (
	reasonNewRSAvailable  = "NewReplicaSetAvailable"
	reasonRSUpdated       = "ReplicaSetUpdated"
	reasonNewRSCreated    = "NewReplicaSetCreated"
	reasonFoundNewRS      = "FoundNewReplicaSet"
	reasonTimedOut        = "ProgressDeadlineExceeded"
	reasonPaused          = "DeploymentPaused"
	reasonResumed         = "DeploymentResumed"
	reasonMinAvailable    = "MinimumReplicasAvailable"
	reasonMinUnavailable  = "MinimumReplicasUnavailable"
	reasonFailedRSCreate  = "ReplicaSetCreateError"
	maxRevHistoryLength   = 2000
	podTemplateHashLabel  = appsv1.DefaultDeploymentUniqueLabelKey
	deploymentControlName = "deployment-controller"
)

// templateHash is Kubernetes' pod-template-hash of a template: FNV-32a
// over the template's hash dump and the collision count, encoded as
// Kubernetes encodes it, so a ReplicaSet gets the same name here as on a
// real cluster of the same version.
func templateHash(t *corev1.PodTemplateSpec, collisions *int32) string {
	h := fnv.New32a()
	h.Reset()
	fmt.Fprintf(h, "%v", dump.ForHash(*t))
	if collisions != nil {
		b := make([]byte, 8)
		binary.LittleEndian.PutUint32(b, uint32(*collisions))
		h.Write(b)
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// equalIgnoreHash compares two templates, the pod-template-hash label aside.
func equalIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	a, b = a.DeepCopy(), b.DeepCopy()
	delete(a.Labels, podTemplateHashLabel)
	delete(b.Labels, podTemplateHashLabel)
	return apiequality.Semantic.DeepEqual(a, b)
}

// revisionOf reads an object's revision annotation; 0 when absent or bad.
func revisionOf(m metav1.Object) int64 {
	v, err := strconv.ParseInt(m.GetAnnotations()[RevisionAnnotation], 10, 64)
	if err != nil {
		return 0
	}
	return v
}

func replicasOf(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// fenceposts resolves maxSurge (rounded up) and maxUnavailable (rounded
// down) against the desired replicas; both zero becomes an unavailable of
// one, as Kubernetes resolves them.
func fenceposts(d *appsv1.Deployment) (surge, unavailable int32) {
	ru := d.Spec.Strategy.RollingUpdate
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil {
		return 0, 0
	}
	desired := int(replicasOf(d.Spec.Replicas))
	def := intstr.FromString("25%")
	ms, mu := ru.MaxSurge, ru.MaxUnavailable
	if ms == nil {
		ms = &def
	}
	if mu == nil {
		mu = &def
	}
	s, err := intstr.GetScaledValueFromIntOrPercent(ms, desired, true)
	if err != nil {
		s = 0
	}
	u, err := intstr.GetScaledValueFromIntOrPercent(mu, desired, false)
	if err != nil {
		u = 0
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return int32(s), int32(u)
}

// maxSurge is the surge a rolling Deployment may use; 0 otherwise.
func maxSurge(d *appsv1.Deployment) int32 {
	s, _ := fenceposts(d)
	return s
}

// maxUnavailable is the number of Pods a Deployment may have unavailable,
// at most its replicas; 0 for Recreate and for zero replicas.
func maxUnavailable(d *appsv1.Deployment) int32 {
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || replicasOf(d.Spec.Replicas) == 0 {
		return 0
	}
	_, u := fenceposts(d)
	return min(u, replicasOf(d.Spec.Replicas))
}

// hasProgressDeadline reports whether progressDeadlineSeconds is set and
// not the "never" value.
func hasProgressDeadline(d *appsv1.Deployment) bool {
	return d.Spec.ProgressDeadlineSeconds != nil && *d.Spec.ProgressDeadlineSeconds != math.MaxInt32
}

func deploymentCondition(s *appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			return &s.Conditions[i]
		}
	}
	return nil
}

func newDeploymentCondition(t appsv1.DeploymentConditionType, st corev1.ConditionStatus, reason, msg string, now time.Time) appsv1.DeploymentCondition {
	n := metav1.NewTime(now)
	return appsv1.DeploymentCondition{Type: t, Status: st, LastUpdateTime: n, LastTransitionTime: n, Reason: reason, Message: msg}
}

// setDeploymentCondition puts c into s: a condition with the same status
// and reason is left as it is; one with the same status keeps its
// transition time.
func setDeploymentCondition(s *appsv1.DeploymentStatus, c appsv1.DeploymentCondition) {
	cur := deploymentCondition(s, c.Type)
	if cur != nil && cur.Status == c.Status && cur.Reason == c.Reason {
		return
	}
	if cur != nil && cur.Status == c.Status {
		c.LastTransitionTime = cur.LastTransitionTime
	}
	removeDeploymentCondition(s, c.Type)
	s.Conditions = append(s.Conditions, c)
}

func removeDeploymentCondition(s *appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) {
	s.Conditions = slices.DeleteFunc(s.Conditions, func(c appsv1.DeploymentCondition) bool { return c.Type == t })
}

// activeReplicaSets are those with replicas to keep.
func activeReplicaSets(rss []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, rs := range rss {
		if rs != nil && replicasOf(rs.Spec.Replicas) > 0 {
			out = append(out, rs)
		}
	}
	return out
}

// specReplicas sums spec.replicas; statusReplicas, available and ready
// sum the status counts.
func specReplicas(rss []*appsv1.ReplicaSet) (n int32) {
	for _, rs := range rss {
		if rs != nil {
			n += replicasOf(rs.Spec.Replicas)
		}
	}
	return n
}

func statusSums(rss []*appsv1.ReplicaSet) (replicas, ready, available int32) {
	for _, rs := range rss {
		if rs != nil {
			replicas += rs.Status.Replicas
			ready += rs.Status.ReadyReplicas
			available += rs.Status.AvailableReplicas
		}
	}
	return replicas, ready, available
}

// byCreation orders ReplicaSets oldest first, then by name.
func byCreation(a, b *appsv1.ReplicaSet) int {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		if a.CreationTimestamp.Before(&b.CreationTimestamp) {
			return -1
		}
		return 1
	}
	return strings.Compare(a.Name, b.Name)
}

// newRSAnnotations sets on rs the annotations a Deployment's new
// ReplicaSet carries: the Deployment's own (bar the controller's and
// kubectl's), the revision and, when the revision moves, the history of
// earlier ones. It reports whether anything changed.
func newRSAnnotations(d *appsv1.Deployment, rs *appsv1.ReplicaSet, revision string, exists bool) bool {
	changed := false
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	for k, v := range d.Annotations {
		if skipAnnotation(k) {
			continue
		}
		if cur, ok := rs.Annotations[k]; !ok || cur != v {
			rs.Annotations[k] = v
			changed = true
		}
	}
	old := rs.Annotations[RevisionAnnotation]
	oldN, errOld := strconv.ParseInt(old, 10, 64)
	newN, errNew := strconv.ParseInt(revision, 10, 64)
	if errNew == nil && (errOld != nil || oldN < newN) {
		rs.Annotations[RevisionAnnotation] = revision
		changed = true
		if old != "" && errOld == nil {
			hist := rs.Annotations[RevisionHistoryAnnotation]
			if hist == "" {
				hist = old
			} else {
				hist += "," + old
			}
			for len(hist) > maxRevHistoryLength {
				i := strings.Index(hist, ",")
				if i < 0 {
					hist = ""
					break
				}
				hist = hist[i+1:]
			}
			if hist != "" {
				rs.Annotations[RevisionHistoryAnnotation] = hist
			}
		}
	}
	if !exists {
		setReplicasAnnotations(rs, replicasOf(d.Spec.Replicas), replicasOf(d.Spec.Replicas)+maxSurge(d))
		changed = true
	}
	return changed
}

func skipAnnotation(k string) bool {
	switch k {
	case lastApplied, RevisionAnnotation, RevisionHistoryAnnotation, DesiredReplicasAnnotation, MaxReplicasAnnotation, rollbackTo:
		return true
	}
	return false
}

// setReplicasAnnotations records desired and max replicas on rs; true
// when they changed.
func setReplicasAnnotations(rs *appsv1.ReplicaSet, desired, maxReplicas int32) bool {
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	d, m := strconv.Itoa(int(desired)), strconv.Itoa(int(maxReplicas))
	if rs.Annotations[DesiredReplicasAnnotation] == d && rs.Annotations[MaxReplicasAnnotation] == m {
		return false
	}
	rs.Annotations[DesiredReplicasAnnotation] = d
	rs.Annotations[MaxReplicasAnnotation] = m
	return true
}

// annotatedInt reads an int32 annotation.
func annotatedInt(rs *appsv1.ReplicaSet, key string) (int32, bool) {
	v, ok := rs.Annotations[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, false
	}
	return int32(n), true
}
