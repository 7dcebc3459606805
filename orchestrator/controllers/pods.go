package controllers

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// podActive reports whether p counts toward its controller: not finished
// and not being deleted.
func podActive(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil
}

// podReadyCondition returns the Pod's Ready condition, or nil.
func podReadyCondition(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodReady {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// podReady reports whether the Pod's Ready condition is True.
func podReady(p *corev1.Pod) bool {
	c := podReadyCondition(p)
	return c != nil && c.Status == corev1.ConditionTrue
}

// podAvailable reports whether p has been ready for at least
// minReadySeconds at now; with the time left until it is when it is ready
// but not yet available.
func podAvailable(p *corev1.Pod, minReadySeconds int32, now time.Time) (bool, time.Duration) {
	c := podReadyCondition(p)
	if c == nil || c.Status != corev1.ConditionTrue {
		return false, 0
	}
	if minReadySeconds <= 0 {
		return true, 0
	}
	until := c.LastTransitionTime.Add(time.Duration(minReadySeconds) * time.Second)
	if c.LastTransitionTime.IsZero() || !until.After(now) {
		return true, 0
	}
	return false, until.Sub(now)
}

// podRestarts is the highest restart count of the Pod's containers.
func podRestarts(p *corev1.Pod) int32 {
	var n int32
	for _, s := range p.Status.ContainerStatuses {
		n = max(n, s.RestartCount)
	}
	return n
}

// phaseRank orders phases for deletion: Pending first, then Unknown, then
// Running.
func phaseRank(p corev1.PodPhase) int {
	switch p {
	case corev1.PodPending:
		return 0
	case corev1.PodUnknown:
		return 1
	case corev1.PodRunning:
		return 2
	}
	return 3
}

// rankedPod is a Pod with the number of its siblings on the same node.
type rankedPod struct {
	pod  *corev1.Pod
	rank int
}

// lessUseful reports whether a should be deleted before b, as the
// ReplicaSet controller ranks them: unscheduled before scheduled, Pending
// before Unknown before Running, not ready before ready, more siblings on
// its node before fewer, ready more recently before longer, more restarts
// before fewer, newer before older.
func lessUseful(a, b rankedPod) bool {
	pa, pb := a.pod, b.pod
	if (pa.Spec.NodeName == "") != (pb.Spec.NodeName == "") {
		return pa.Spec.NodeName == ""
	}
	if ra, rb := phaseRank(pa.Status.Phase), phaseRank(pb.Status.Phase); ra != rb {
		return ra < rb
	}
	if podReady(pa) != podReady(pb) {
		return !podReady(pa)
	}
	if a.rank != b.rank {
		return a.rank > b.rank
	}
	if podReady(pa) && podReady(pb) {
		ta, tb := podReadyCondition(pa).LastTransitionTime, podReadyCondition(pb).LastTransitionTime
		if !ta.Equal(&tb) {
			return tb.Before(&ta)
		}
	}
	if ra, rb := podRestarts(pa), podRestarts(pb); ra != rb {
		return ra > rb
	}
	ca, cb := pa.CreationTimestamp, pb.CreationTimestamp
	if !ca.Equal(&cb) {
		return cb.Before(&ca)
	}
	return pa.Name > pb.Name
}
