package controllers

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
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

// statefulSetController gives each StatefulSet its Pods NAME-0..N-1 with
// their claims, in order, and rolls them through ControllerRevisions.
type statefulSetController struct {
	env  *env
	sets appslisters.StatefulSetLister
	pods corelisters.PodLister
	revs appslisters.ControllerRevisionLister
	q    *queue
	rec  record.EventRecorder
}

func newStatefulSetController(e *env) *statefulSetController {
	c := &statefulSetController{
		env:  e,
		sets: e.factory.Apps().V1().StatefulSets().Lister(),
		pods: e.factory.Core().V1().Pods().Lister(),
		revs: e.factory.Apps().V1().ControllerRevisions().Lister(),
		rec:  e.recorder("statefulset-controller"),
	}
	c.q = newQueue("statefulset", e, c.sync)
	_, _ = e.factory.Apps().V1().StatefulSets().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, n any) { c.enqueue(n) },
		DeleteFunc: c.enqueue,
	})
	podChanged := func(obj any) {
		p := asPod(obj)
		if p == nil {
			return
		}
		if ref := metav1.GetControllerOfNoCopy(p); ref != nil && ref.Kind == statefulSetKind.Kind {
			c.q.add(p.Namespace + "/" + ref.Name)
		}
	}
	_, _ = e.factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    podChanged,
		UpdateFunc: func(_, n any) { podChanged(n) },
		DeleteFunc: podChanged,
	})
	_ = e.factory.Apps().V1().ControllerRevisions().Informer()
	return c
}

func (c *statefulSetController) run(ctx context.Context) { c.q.run(ctx, c.env.workers) }

func (c *statefulSetController) enqueue(obj any) {
	if k, ok := keyOf(obj); ok {
		c.q.add(k)
	}
}

// healthy is a Pod Running, Ready and not being deleted.
func healthy(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodRunning && podReady(p) && p.DeletionTimestamp == nil
}

func (c *statefulSetController) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.sets.StatefulSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	set := cached.DeepCopy()
	sel, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil || sel.Empty() {
		c.env.log.Warn("statefulset has an invalid selector", "key", key, "err", err)
		return nil
	}
	all, err := c.pods.Pods(ns).List(labels.Everything())
	if err != nil {
		return err
	}
	var members []*corev1.Pod
	for _, p := range all {
		if podOrdinal(set, p) >= 0 {
			members = append(members, p)
		}
	}
	o := &owner{meta: set, gvk: statefulSetKind, selector: sel, fresh: func(ctx context.Context) (metav1.Object, error) {
		return c.env.client.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
	}}
	pods, err := claim(ctx, o, members, func(ctx context.Context, n string, patch []byte) error {
		_, err := c.env.client.CoreV1().Pods(ns).Patch(ctx, n, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		return err
	})
	if err != nil {
		return err
	}
	if set.DeletionTimestamp != nil {
		return nil
	}
	revs, current, update, err := c.revisions(ctx, set)
	if err != nil {
		return err
	}
	curTmpl, err := templateOf(current)
	if err != nil {
		return err
	}
	updTmpl, err := templateOf(update)
	if err != nil {
		return err
	}
	actErr := c.act(ctx, set, pods, current, update, curTmpl, updTmpl)
	status, wait := c.status(set, pods, current, update)
	if !apiequality.Semantic.DeepEqual(set.Status, status) {
		next := set.DeepCopy()
		next.Status = status
		if _, err := c.env.client.AppsV1().StatefulSets(ns).UpdateStatus(ctx, next, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("updating the status of statefulset %s: %w", key, err)
		}
	}
	if err := c.truncateHistory(ctx, set, pods, revs, current, update); err != nil {
		return err
	}
	if wait > 0 {
		c.q.addAfter(key, wait)
	}
	return actErr
}

// revisions returns the set's ControllerRevisions, oldest first, and the
// current and update ones, creating or renumbering the update revision.
func (c *statefulSetController) revisions(ctx context.Context, set *appsv1.StatefulSet) ([]*appsv1.ControllerRevision, *appsv1.ControllerRevision, *appsv1.ControllerRevision, error) {
	list, err := c.revs.ControllerRevisions(set.Namespace).List(labels.Everything())
	if err != nil {
		return nil, nil, nil, err
	}
	var revs []*appsv1.ControllerRevision
	for _, r := range list {
		if ref := metav1.GetControllerOfNoCopy(r); ref != nil && ref.UID == set.UID {
			revs = append(revs, r)
		}
	}
	slices.SortFunc(revs, func(a, b *appsv1.ControllerRevision) int {
		if a.Revision != b.Revision {
			return int(a.Revision - b.Revision)
		}
		return strings.Compare(a.Name, b.Name)
	})
	var maxRev int64
	if len(revs) > 0 {
		maxRev = revs[len(revs)-1].Revision
	}
	want, err := newRevision(set, maxRev+1)
	if err != nil {
		return nil, nil, nil, err
	}
	var update *appsv1.ControllerRevision
	var equal []*appsv1.ControllerRevision
	for _, r := range revs {
		if bytes.Equal(r.Data.Raw, want.Data.Raw) {
			equal = append(equal, r)
		}
	}
	switch {
	case len(equal) > 0 && equal[len(equal)-1] == revs[len(revs)-1]:
		update = revs[len(revs)-1]
	case len(equal) > 0:
		// A rollback to an earlier template: that revision becomes the
		// newest.
		r := equal[len(equal)-1].DeepCopy()
		r.Revision = maxRev + 1
		if update, err = c.env.client.AppsV1().ControllerRevisions(set.Namespace).Update(ctx, r, metav1.UpdateOptions{}); err != nil {
			return nil, nil, nil, fmt.Errorf("renumbering controllerrevision %s: %w", r.Name, err)
		}
		revs = slices.DeleteFunc(revs, func(x *appsv1.ControllerRevision) bool { return x.Name == r.Name })
		revs = append(revs, update)
	default:
		update, err = c.env.client.AppsV1().ControllerRevisions(set.Namespace).Create(ctx, want, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			cur, gerr := c.env.client.AppsV1().ControllerRevisions(set.Namespace).Get(ctx, want.Name, metav1.GetOptions{})
			if gerr == nil && bytes.Equal(cur.Data.Raw, want.Data.Raw) {
				update, err = cur, nil
			} else {
				n := int32(0)
				if set.Status.CollisionCount != nil {
					n = *set.Status.CollisionCount
				}
				n++
				next := set.DeepCopy()
				next.Status.CollisionCount = &n
				if _, uerr := c.env.client.AppsV1().StatefulSets(set.Namespace).UpdateStatus(ctx, next, metav1.UpdateOptions{}); uerr != nil {
					return nil, nil, nil, uerr
				}
				return nil, nil, nil, fmt.Errorf("controllerrevision %s exists with other data; collision count raised to %d", want.Name, n)
			}
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("creating controllerrevision %s: %w", want.Name, err)
		}
		revs = append(revs, update)
	}
	current := update
	for _, r := range revs {
		if r.Name == set.Status.CurrentRevision {
			current = r
		}
	}
	return revs, current, update, nil
}

// partition is the RollingUpdate partition, 0 when unset.
func partition(set *appsv1.StatefulSet) int {
	if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		return int(*ru.Partition)
	}
	return 0
}

func rolling(set *appsv1.StatefulSet) bool {
	return set.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType
}

// act takes the next steps toward the spec: create missing Pods (and
// their claims), replace finished ones, delete condemned ones from the
// highest ordinal, then roll outdated ones from the highest ordinal down
// to the partition. OrderedReady waits for each Pod to be Running and
// Ready before the next step; Parallel does not.
func (c *statefulSetController) act(ctx context.Context, set *appsv1.StatefulSet, pods []*corev1.Pod, current, update *appsv1.ControllerRevision, curTmpl, updTmpl *corev1.PodTemplateSpec) error {
	replicas := int(replicasOf(set.Spec.Replicas))
	start := startOrdinal(set)
	slots := make([]*corev1.Pod, replicas)
	var condemned []*corev1.Pod
	for _, p := range pods {
		n := podOrdinal(set, p) - start
		if n >= 0 && n < replicas {
			slots[n] = p
		} else {
			condemned = append(condemned, p)
		}
	}
	slices.SortFunc(condemned, func(a, b *corev1.Pod) int { return podOrdinal(set, b) - podOrdinal(set, a) })
	ordered := set.Spec.PodManagementPolicy != appsv1.ParallelPodManagement

	for i, p := range slots {
		ordinal := start + i
		switch {
		case p == nil:
			rev, tmpl := update, updTmpl
			if rolling(set) && ordinal-start < partition(set) {
				rev, tmpl = current, curTmpl
			}
			if err := c.createPod(ctx, set, rev, tmpl, ordinal); err != nil {
				return err
			}
			if ordered {
				return nil
			}
		case p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded:
			if p.DeletionTimestamp == nil {
				if err := c.deletePod(ctx, set, p); err != nil {
					return err
				}
			}
			if ordered {
				return nil
			}
		case ordered && !healthy(p):
			return nil
		}
	}
	for _, p := range condemned {
		if ordered && slices.ContainsFunc(slots, func(s *corev1.Pod) bool { return s == nil || !healthy(s) }) {
			return nil
		}
		if p.DeletionTimestamp == nil {
			if err := c.deletePod(ctx, set, p); err != nil {
				return err
			}
			if err := c.releaseClaims(ctx, set, podOrdinal(set, p)); err != nil {
				return err
			}
		}
		if ordered {
			return nil
		}
	}
	if !rolling(set) {
		return nil
	}
	// Roll: one Pod at a time, from the highest ordinal to the partition,
	// each once every Pod is healthy.
	for _, s := range slots {
		if s == nil || !healthy(s) {
			return nil
		}
	}
	for i := len(slots) - 1; i >= partition(set); i-- {
		p := slots[i]
		if p.Labels[stsRevisionLabel] != update.Name {
			return c.deletePod(ctx, set, p)
		}
	}
	return nil
}

func (c *statefulSetController) createPod(ctx context.Context, set *appsv1.StatefulSet, rev *appsv1.ControllerRevision, tmpl *corev1.PodTemplateSpec, ordinal int) error {
	p := newStatefulPod(set, tmpl, rev.Name, ordinal)
	for i := range set.Spec.VolumeClaimTemplates {
		pvc := newClaim(set, &set.Spec.VolumeClaimTemplates[i], ordinal)
		_, err := c.env.client.CoreV1().PersistentVolumeClaims(set.Namespace).Create(ctx, pvc, metav1.CreateOptions{})
		switch {
		case err == nil:
			c.rec.Eventf(set, corev1.EventTypeNormal, "SuccessfulCreate", "create Claim %s Pod %s in StatefulSet %s success", pvc.Name, p.Name, set.Name)
		case apierrors.IsAlreadyExists(err):
		default:
			c.rec.Eventf(set, corev1.EventTypeWarning, "FailedCreate", "create Claim %s for Pod %s in StatefulSet %s failed error: %s", pvc.Name, p.Name, set.Name, err)
			return err
		}
	}
	_, err := c.env.client.CoreV1().Pods(set.Namespace).Create(ctx, p, metav1.CreateOptions{})
	switch {
	case err == nil:
		c.rec.Eventf(set, corev1.EventTypeNormal, "SuccessfulCreate", "create Pod %s in StatefulSet %s successful", p.Name, set.Name)
	case apierrors.IsAlreadyExists(err):
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
	default:
		c.rec.Eventf(set, corev1.EventTypeWarning, "FailedCreate", "create Pod %s in StatefulSet %s failed error: %s", p.Name, set.Name, err)
		return err
	}
	return nil
}

func (c *statefulSetController) deletePod(ctx context.Context, set *appsv1.StatefulSet, p *corev1.Pod) error {
	err := c.env.client.CoreV1().Pods(set.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &p.UID}})
	switch {
	case err == nil:
		c.rec.Eventf(set, corev1.EventTypeNormal, "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful", p.Name, set.Name)
	case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
	default:
		c.rec.Eventf(set, corev1.EventTypeWarning, "FailedDelete", "delete Pod %s in StatefulSet %s failed error: %s", p.Name, set.Name, err)
		return err
	}
	return nil
}

// releaseClaims deletes a scaled-away ordinal's claims when the retention
// policy says whenScaled: Delete; they are kept otherwise.
func (c *statefulSetController) releaseClaims(ctx context.Context, set *appsv1.StatefulSet, ordinal int) error {
	p := set.Spec.PersistentVolumeClaimRetentionPolicy
	if p == nil || p.WhenScaled != appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
		return nil
	}
	for i := range set.Spec.VolumeClaimTemplates {
		n := claimName(set, &set.Spec.VolumeClaimTemplates[i], ordinal)
		if err := c.env.client.CoreV1().PersistentVolumeClaims(set.Namespace).Delete(ctx, n, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting claim %s of a scaled-down pod: %w", n, err)
		}
	}
	return nil
}

// status counts the set's Pods.
func (c *statefulSetController) status(set *appsv1.StatefulSet, pods []*corev1.Pod, current, update *appsv1.ControllerRevision) (appsv1.StatefulSetStatus, time.Duration) {
	s := appsv1.StatefulSetStatus{
		ObservedGeneration: set.Generation,
		CurrentRevision:    current.Name,
		UpdateRevision:     update.Name,
		CollisionCount:     set.Status.CollisionCount,
		Conditions:         set.Status.Conditions,
	}
	now := c.env.now()
	var wait time.Duration
	for _, p := range pods {
		s.Replicas++
		if healthy(p) {
			s.ReadyReplicas++
			if ok, left := podAvailable(p, set.Spec.MinReadySeconds, now); ok {
				s.AvailableReplicas++
			} else if wait == 0 || left < wait {
				wait = left + 100*time.Millisecond
			}
		}
		if p.Labels[stsRevisionLabel] == current.Name {
			s.CurrentReplicas++
		}
		if p.Labels[stsRevisionLabel] == update.Name {
			s.UpdatedReplicas++
		}
	}
	if rolling(set) && s.UpdatedReplicas == s.Replicas && s.ReadyReplicas == s.Replicas && s.Replicas == replicasOf(set.Spec.Replicas) {
		s.CurrentReplicas = s.UpdatedReplicas
		s.CurrentRevision = s.UpdateRevision
	}
	return s, wait
}

// truncateHistory deletes the oldest revisions no Pod uses beyond
// revisionHistoryLimit.
func (c *statefulSetController) truncateHistory(ctx context.Context, set *appsv1.StatefulSet, pods []*corev1.Pod, revs []*appsv1.ControllerRevision, current, update *appsv1.ControllerRevision) error {
	live := map[string]bool{current.Name: true, update.Name: true}
	for _, p := range pods {
		live[p.Labels[stsRevisionLabel]] = true
	}
	var old []*appsv1.ControllerRevision
	for _, r := range revs {
		if !live[r.Name] {
			old = append(old, r)
		}
	}
	limit := 10
	if set.Spec.RevisionHistoryLimit != nil {
		limit = int(*set.Spec.RevisionHistoryLimit)
	}
	if len(old) <= limit {
		return nil
	}
	for _, r := range old[:len(old)-limit] {
		if err := c.env.client.AppsV1().ControllerRevisions(set.Namespace).Delete(ctx, r.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting controllerrevision %s: %w", r.Name, err)
		}
	}
	return nil
}
