package node

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pushStatus writes the Pod's status whenever it changes, until ctx ends,
// and once more at the end.
func (w *podWorker) pushStatus(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.dirty:
		}
		if err := w.writeStatus(ctx); err != nil && ctx.Err() == nil && !apierrors.IsNotFound(err) {
			w.r.log().Debug("writing pod status", "pod", w.key(), "err", err)
			time.Sleep(100 * time.Millisecond)
			w.markDirty()
		}
	}
}

func (w *podWorker) writeStatus(ctx context.Context) error {
	pods := w.r.Client.CoreV1().Pods(w.pod.Namespace)
	cur, err := pods.Get(ctx, w.pod.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if cur.UID != w.pod.UID {
		return nil // another Pod of the same name
	}
	cur.Status = w.status(cur.Status)
	_, err = pods.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
	return err
}

// status computes the Pod's status as the kubelet reports it, keeping the
// transition times of conditions that did not change.
func (w *podWorker) status(old corev1.PodStatus) corev1.PodStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := corev1.PodStatus{
		Phase:     w.phase,
		HostIP:    "127.0.0.1",
		HostIPs:   []corev1.HostIP{{IP: "127.0.0.1"}},
		StartTime: &w.startTime,
		QOSClass:  qosClass(w.pod),
		Message:   w.message,
		Reason:    w.reason,
	}
	if w.podIP != "" {
		st.PodIP = w.podIP
		st.PodIPs = []corev1.PodIP{{IP: w.podIP}}
	}
	allReady, anyRunning, allStarted := true, false, true
	for _, c := range w.ctrs {
		cs := corev1.ContainerStatus{
			Name: c.spec.Name, Image: c.spec.Image, ImageID: c.spec.Image,
			RestartCount: c.restarts, State: c.state, LastTerminationState: c.last,
			Ready: c.ready,
		}
		if c.state.Running != nil || c.state.Terminated != nil {
			cs.ContainerID = w.r.Runtime.Name() + "://" + c.id
		}
		started := c.started && c.state.Running != nil
		cs.Started = &started
		if c.init {
			st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
			continue
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
		if !c.ready {
			allReady = false
		}
		if c.state.Running != nil {
			anyRunning = true
		}
		if !c.started {
			allStarted = false
		}
	}
	if st.Phase == corev1.PodPending && w.initDone && allStarted && anyRunning {
		st.Phase = corev1.PodRunning
		w.phase = corev1.PodRunning
	}
	cond := func(t corev1.PodConditionType, ok bool, reason string) corev1.PodCondition {
		s := corev1.ConditionFalse
		if ok {
			s, reason = corev1.ConditionTrue, ""
		}
		c := corev1.PodCondition{Type: t, Status: s, Reason: reason, LastTransitionTime: metav1.NewTime(w.r.now())}
		for _, o := range old.Conditions {
			if o.Type == t && o.Status == s {
				c.LastTransitionTime = o.LastTransitionTime
			}
		}
		return c
	}
	ready := allReady && anyRunning && w.phase == corev1.PodRunning
	st.Conditions = []corev1.PodCondition{
		cond(corev1.PodReadyToStartContainers, w.netns != "" || w.hostNetwork(), ""),
		cond(corev1.PodInitialized, w.initDone, "ContainersNotInitialized"),
		cond(corev1.PodReady, ready, "ContainersNotReady"),
		cond(corev1.ContainersReady, ready, "ContainersNotReady"),
		cond(corev1.PodScheduled, true, ""),
	}
	if w.evicted {
		c := cond(corev1.DisruptionTarget, true, "")
		c.Reason, c.Message = "TerminationByKubelet", w.message
		st.Conditions = append(st.Conditions, c)
	}
	return st
}

// qosClass computes the Pod's QoS class as Kubernetes does.
func qosClass(p *corev1.Pod) corev1.PodQOSClass {
	requests, limits := 0, 0
	guaranteed := true
	for _, c := range append(append([]corev1.Container(nil), p.Spec.InitContainers...), p.Spec.Containers...) {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, hasReq := c.Resources.Requests[r]
			lim, hasLim := c.Resources.Limits[r]
			if hasReq && !req.IsZero() {
				requests++
			}
			if hasLim && !lim.IsZero() {
				limits++
			}
			if !hasLim || (hasReq && req.Cmp(lim) != 0) {
				guaranteed = false
			}
		}
	}
	switch {
	case requests == 0 && limits == 0:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}
