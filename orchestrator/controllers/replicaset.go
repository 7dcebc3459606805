package controllers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// burstReplicas caps the Pods one sync creates or deletes, as Kubernetes'.
const burstReplicas = 500

// replicaSetKind is the kind ReplicaSets' Pods point at.
var replicaSetKind = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")

// replicaSetController keeps each ReplicaSet's count of Pods.
type replicaSetController struct {
	env  *env
	rss  appslisters.ReplicaSetLister
	pods corelisters.PodLister
	q    *queue
	exp  *expectations
	rec  record.EventRecorder
}

func newReplicaSetController(e *env) *replicaSetController {
	c := &replicaSetController{
		env:  e,
		rss:  e.factory.Apps().V1().ReplicaSets().Lister(),
		pods: e.factory.Core().V1().Pods().Lister(),
		exp:  newExpectations(e.now),
		rec:  e.recorder("replicaset-controller"),
	}
	c.q = newQueue("replicaset", e, c.sync)
	_, _ = e.factory.Apps().V1().ReplicaSets().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, n any) { c.enqueue(n) },
		DeleteFunc: func(obj any) {
			if k, ok := keyOf(obj); ok {
				c.exp.forget(k)
				c.q.add(k)
			}
		},
	})
	_, _ = e.factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.podAdded,
		UpdateFunc: c.podUpdated,
		DeleteFunc: c.podDeleted,
	})
	return c
}

func (c *replicaSetController) run(ctx context.Context) { c.q.run(ctx, c.env.workers) }

func (c *replicaSetController) enqueue(obj any) {
	if k, ok := keyOf(obj); ok {
		c.q.add(k)
	}
}

// ownerKey returns the key of the ReplicaSet that controls p, if it
// exists in the cache with the referenced uid.
func (c *replicaSetController) ownerKey(p *corev1.Pod) (string, bool) {
	ref := metav1.GetControllerOfNoCopy(p)
	if ref == nil || ref.Kind != replicaSetKind.Kind || ref.APIVersion != replicaSetKind.GroupVersion().String() {
		return "", false
	}
	rs, err := c.rss.ReplicaSets(p.Namespace).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return "", false
	}
	return p.Namespace + "/" + ref.Name, true
}

// enqueueMatching queues every ReplicaSet whose selector matches the
// orphan p, so that one of them adopts it.
func (c *replicaSetController) enqueueMatching(p *corev1.Pod) {
	rss, err := c.rss.ReplicaSets(p.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, rs := range rss {
		sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(p.Labels)) {
			continue
		}
		c.q.add(p.Namespace + "/" + rs.Name)
	}
}

func (c *replicaSetController) podAdded(obj any) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if k, ok := c.ownerKey(p); ok {
		c.exp.created(k)
		if p.DeletionTimestamp != nil {
			c.exp.deleted(k, p.UID)
		}
		c.q.add(k)
		return
	}
	if metav1.GetControllerOfNoCopy(p) == nil {
		c.enqueueMatching(p)
	}
}

func (c *replicaSetController) podUpdated(oldObj, newObj any) {
	o, ok1 := oldObj.(*corev1.Pod)
	p, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 || o.ResourceVersion == p.ResourceVersion {
		return
	}
	if k, ok := c.ownerKey(o); ok {
		c.q.add(k)
	}
	if k, ok := c.ownerKey(p); ok {
		if p.DeletionTimestamp != nil && o.DeletionTimestamp == nil {
			c.exp.deleted(k, p.UID)
		}
		c.q.add(k)
		// A Pod that just became ready is available minReadySeconds later.
		if !podReady(o) && podReady(p) {
			if rs, err := c.rss.ReplicaSets(p.Namespace).Get(metav1.GetControllerOfNoCopy(p).Name); err == nil && rs.Spec.MinReadySeconds > 0 {
				c.q.addAfter(k, time.Duration(rs.Spec.MinReadySeconds)*time.Second+time.Second)
			}
		}
		return
	}
	if metav1.GetControllerOfNoCopy(p) == nil {
		c.enqueueMatching(p)
	}
}

func (c *replicaSetController) podDeleted(obj any) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		t, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			return
		}
		if p, ok = t.Obj.(*corev1.Pod); !ok {
			return
		}
	}
	ref := metav1.GetControllerOfNoCopy(p)
	if ref == nil || ref.Kind != replicaSetKind.Kind {
		return
	}
	k := p.Namespace + "/" + ref.Name
	c.exp.deleted(k, p.UID)
	c.q.add(k)
}

// sync brings one ReplicaSet's Pods and status up to date.
func (c *replicaSetController) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	rs, err := c.rss.ReplicaSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.exp.forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		// The API refuses such selectors; nothing to retry.
		c.env.log.Warn("replicaset has an invalid selector", "key", key, "err", err)
		return nil
	}
	needsSync := c.exp.satisfied(key) && rs.DeletionTimestamp == nil
	all, err := c.pods.Pods(ns).List(labels.Everything())
	if err != nil {
		return err
	}
	var active []*corev1.Pod
	for _, p := range all {
		if podActive(p) {
			active = append(active, p)
		}
	}
	o := &owner{meta: rs, gvk: replicaSetKind, selector: sel, fresh: func(ctx context.Context) (metav1.Object, error) {
		return c.env.client.AppsV1().ReplicaSets(ns).Get(ctx, name, metav1.GetOptions{})
	}}
	pods, err := claim(ctx, o, active, func(ctx context.Context, n string, patch []byte) error {
		_, err := c.env.client.CoreV1().Pods(ns).Patch(ctx, n, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		return err
	})
	if err != nil {
		return err
	}
	var manageErr error
	if needsSync {
		manageErr = c.manage(ctx, key, rs, pods)
	}
	status, wait := c.status(rs, pods, manageErr)
	if err := c.writeStatus(ctx, rs, status); err != nil {
		return err
	}
	if manageErr == nil && wait > 0 {
		c.q.addAfter(key, wait)
	}
	return manageErr
}

// manage creates or deletes Pods toward spec.replicas.
func (c *replicaSetController) manage(ctx context.Context, key string, rs *appsv1.ReplicaSet, pods []*corev1.Pod) error {
	want := int32(1)
	if rs.Spec.Replicas != nil {
		want = *rs.Spec.Replicas
	}
	diff := len(pods) - int(want)
	switch {
	case diff < 0:
		n := min(-diff, burstReplicas)
		c.exp.expect(key, n, nil)
		created, err := slowStart(n, func() error { return c.createPod(ctx, rs) })
		for range n - created {
			c.exp.created(key)
		}
		return err
	case diff > 0:
		n := min(diff, burstReplicas)
		victims := podsToDelete(pods, n)
		uids := make([]types.UID, len(victims))
		for i, p := range victims {
			uids[i] = p.UID
		}
		c.exp.expect(key, 0, uids)
		var wg sync.WaitGroup
		errs := make([]error, len(victims))
		for i, p := range victims {
			wg.Go(func() {
				err := c.env.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &p.UID}})
				switch {
				case err == nil:
					c.rec.Eventf(rs, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %v", p.Name)
				case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
					c.exp.deleted(key, p.UID)
				default:
					c.exp.deleted(key, p.UID)
					c.rec.Eventf(rs, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
					errs[i] = err
				}
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	return nil
}

// createPod creates one Pod from the ReplicaSet's template.
func (c *replicaSetController) createPod(ctx context.Context, rs *appsv1.ReplicaSet) error {
	o := &owner{meta: rs, gvk: replicaSetKind}
	pod := podFromTemplate(&rs.Spec.Template, rs.Name+"-", o.ref())
	made, err := c.env.client.CoreV1().Pods(rs.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil
		}
		c.rec.Eventf(rs, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
		return err
	}
	c.rec.Eventf(rs, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %v", made.Name)
	return nil
}

// podFromTemplate builds a Pod from a template, owned by ref.
func podFromTemplate(t *corev1.PodTemplateSpec, generateName string, ref metav1.OwnerReference) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName:    generateName,
			Labels:          maps.Clone(t.Labels),
			Annotations:     maps.Clone(t.Annotations),
			Finalizers:      slices.Clone(t.Finalizers),
			OwnerReferences: []metav1.OwnerReference{ref},
		},
	}
	t.Spec.DeepCopyInto(&p.Spec)
	return p
}

// slowStart calls fn count times in batches of 1, 2, 4 and so on, stopping
// after a batch with an error; it returns how many calls succeeded.
func slowStart(count int, fn func() error) (int, error) {
	done, ok := 0, 0
	for batch := 1; done < count; batch *= 2 {
		n := min(batch, count-done)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = fn() })
		}
		wg.Wait()
		done += n
		for _, err := range errs {
			if err == nil {
				ok++
			}
		}
		if err := errors.Join(errs...); err != nil {
			return ok, err
		}
	}
	return ok, nil
}

// podsToDelete picks the n least useful Pods.
func podsToDelete(pods []*corev1.Pod, n int) []*corev1.Pod {
	onNode := map[string]int{}
	for _, p := range pods {
		if p.Spec.NodeName != "" {
			onNode[p.Spec.NodeName]++
		}
	}
	ranked := make([]rankedPod, len(pods))
	for i, p := range pods {
		r := 0
		if p.Spec.NodeName != "" {
			r = onNode[p.Spec.NodeName] - 1
		}
		ranked[i] = rankedPod{pod: p, rank: r}
	}
	slices.SortStableFunc(ranked, func(a, b rankedPod) int {
		switch {
		case lessUseful(a, b):
			return -1
		case lessUseful(b, a):
			return 1
		}
		return 0
	})
	out := make([]*corev1.Pod, 0, n)
	for _, r := range ranked[:n] {
		out = append(out, r.pod)
	}
	return out
}

// status computes the ReplicaSet's status from its Pods; wait, when not
// zero, is how long until a ready Pod becomes available.
func (c *replicaSetController) status(rs *appsv1.ReplicaSet, pods []*corev1.Pod, manageErr error) (appsv1.ReplicaSetStatus, time.Duration) {
	s := *rs.Status.DeepCopy()
	tmpl := labels.Set(rs.Spec.Template.Labels).AsSelectorPreValidated()
	var labeled, ready, available int32
	var wait time.Duration
	now := c.env.now()
	for _, p := range pods {
		if tmpl.Matches(labels.Set(p.Labels)) {
			labeled++
		}
		if podReady(p) {
			ready++
			ok, left := podAvailable(p, rs.Spec.MinReadySeconds, now)
			if ok {
				available++
			} else if wait == 0 || left < wait {
				wait = left
			}
		}
	}
	s.Replicas = int32(len(pods))
	s.FullyLabeledReplicas = labeled
	s.ReadyReplicas = ready
	s.AvailableReplicas = available
	s.ObservedGeneration = rs.Generation
	var conds []appsv1.ReplicaSetCondition
	for _, cd := range s.Conditions {
		if cd.Type != appsv1.ReplicaSetReplicaFailure {
			conds = append(conds, cd)
		}
	}
	if manageErr != nil {
		reason := "FailedCreate"
		if rs.Spec.Replicas != nil && int32(len(pods)) > *rs.Spec.Replicas {
			reason = "FailedDelete"
		}
		cur := replicaSetFailure(rs.Status.Conditions)
		if cur != nil && cur.Reason == reason {
			conds = append(conds, *cur)
		} else {
			conds = append(conds, appsv1.ReplicaSetCondition{
				Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue,
				LastTransitionTime: metav1.NewTime(now), Reason: reason, Message: manageErr.Error(),
			})
		}
	}
	s.Conditions = conds
	if wait > 0 {
		wait += 100 * time.Millisecond
	}
	return s, wait
}

func replicaSetFailure(conds []appsv1.ReplicaSetCondition) *appsv1.ReplicaSetCondition {
	for i := range conds {
		if conds[i].Type == appsv1.ReplicaSetReplicaFailure {
			return &conds[i]
		}
	}
	return nil
}

// writeStatus stores s through the status subresource when it changed.
func (c *replicaSetController) writeStatus(ctx context.Context, rs *appsv1.ReplicaSet, s appsv1.ReplicaSetStatus) error {
	if apiequality.Semantic.DeepEqual(rs.Status, s) {
		return nil
	}
	next := rs.DeepCopy()
	next.Status = s
	if _, err := c.env.client.AppsV1().ReplicaSets(rs.Namespace).UpdateStatus(ctx, next, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("updating the status of replicaset %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	return nil
}
