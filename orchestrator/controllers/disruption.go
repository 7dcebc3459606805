package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// disruptedPodTimeout is how long an eviction's entry in disruptedPods
// counts before the Pod is expected to be gone, as Kubernetes'.
const disruptedPodTimeout = 2 * time.Minute

// disruptionController keeps PodDisruptionBudgets' status: how many of
// their Pods are healthy, how many must be, and how many may be evicted.
type disruptionController struct {
	env  *env
	pdbs policylisters.PodDisruptionBudgetLister
	pods corelisters.PodLister
	rss  appslisters.ReplicaSetLister
	ds   appslisters.DeploymentLister
	sts  appslisters.StatefulSetLister
	q    *queue
	rec  record.EventRecorder
}

func newDisruptionController(e *env) *disruptionController {
	c := &disruptionController{
		env:  e,
		pdbs: e.factory.Policy().V1().PodDisruptionBudgets().Lister(),
		pods: e.factory.Core().V1().Pods().Lister(),
		rss:  e.factory.Apps().V1().ReplicaSets().Lister(),
		ds:   e.factory.Apps().V1().Deployments().Lister(),
		sts:  e.factory.Apps().V1().StatefulSets().Lister(),
		rec:  e.recorder("controllermanager"),
	}
	c.q = newQueue("disruption", e, c.sync)
	_, _ = e.factory.Policy().V1().PodDisruptionBudgets().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, n any) { c.enqueue(n) },
		DeleteFunc: c.enqueue,
	})
	podChanged := func(obj any) {
		p := asPod(obj)
		if p == nil {
			return
		}
		pdbs, err := c.pdbs.PodDisruptionBudgets(p.Namespace).List(labels.Everything())
		if err != nil {
			return
		}
		for _, b := range pdbs {
			sel, err := metav1.LabelSelectorAsSelector(b.Spec.Selector)
			if err == nil && sel.Matches(labels.Set(p.Labels)) {
				c.q.add(b.Namespace + "/" + b.Name)
			}
		}
	}
	_, _ = e.factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    podChanged,
		UpdateFunc: func(_, n any) { podChanged(n) },
		DeleteFunc: podChanged,
	})
	// Scale changes of the controllers move expectedPods.
	all := func(any) { c.enqueueAll() }
	for _, inf := range []cache.SharedIndexInformer{e.factory.Apps().V1().ReplicaSets().Informer(), e.factory.Apps().V1().Deployments().Informer(), e.factory.Apps().V1().StatefulSets().Informer()} {
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{UpdateFunc: func(_, n any) { all(n) }})
	}
	return c
}

func (c *disruptionController) run(ctx context.Context) { c.q.run(ctx, c.env.workers) }

func (c *disruptionController) enqueue(obj any) {
	if k, ok := keyOf(obj); ok {
		c.q.add(k)
	}
}

func (c *disruptionController) enqueueAll() {
	pdbs, err := c.pdbs.List(labels.Everything())
	if err != nil {
		return
	}
	for _, b := range pdbs {
		c.q.add(b.Namespace + "/" + b.Name)
	}
}

func (c *disruptionController) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.pdbs.PodDisruptionBudgets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	pdb := cached.DeepCopy()
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil {
		return nil
	}
	pods, err := c.pods.Pods(ns).List(sel)
	if err != nil {
		return err
	}
	if len(pods) == 0 {
		c.rec.Eventf(pdb, corev1.EventTypeNormal, "NoPods", "No matching pods found")
	}
	now := c.env.now()
	expected, desired, calcErr := c.expectations(pdb, pods)
	if calcErr != nil {
		c.rec.Eventf(pdb, corev1.EventTypeWarning, "CalculateExpectedPodCountFailed", "Failed to calculate the number of expected pods: %v", calcErr)
	}
	disrupted, recheck := c.disrupted(pdb, pods, now)
	var healthy int32
	for _, p := range pods {
		if p.DeletionTimestamp == nil && podReady(p) && !disrupted[p.Name] {
			healthy++
		}
	}
	s := pdb.Status.DeepCopy()
	s.ObservedGeneration = pdb.Generation
	s.CurrentHealthy = healthy
	s.DesiredHealthy = desired
	s.ExpectedPods = expected
	s.DisruptedPods = map[string]metav1.Time{}
	for n := range disrupted {
		s.DisruptedPods[n] = pdb.Status.DisruptedPods[n]
	}
	if len(s.DisruptedPods) == 0 {
		s.DisruptedPods = nil
	}
	allowed := max(0, healthy-desired)
	if calcErr != nil || expected <= 0 {
		allowed = 0
	}
	s.DisruptionsAllowed = allowed
	cond := metav1.Condition{Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionFalse, Reason: policyv1.InsufficientPodsReason, ObservedGeneration: pdb.Generation}
	if calcErr != nil {
		cond.Reason = policyv1.SyncFailedReason
		cond.Message = calcErr.Error()
	} else if allowed > 0 {
		cond.Status, cond.Reason = metav1.ConditionTrue, policyv1.SufficientPodsReason
	}
	setCondition(&s.Conditions, cond, now)
	if !apiequality.Semantic.DeepEqual(pdb.Status, *s) {
		pdb.Status = *s
		if _, err := c.env.client.PolicyV1().PodDisruptionBudgets(ns).UpdateStatus(ctx, pdb, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("updating the status of poddisruptionbudget %s: %w", key, err)
		}
	}
	if recheck > 0 {
		c.q.addAfter(key, recheck)
	}
	return nil
}

// setCondition puts c into conds, keeping the transition time when the
// status did not change.
func setCondition(conds *[]metav1.Condition, c metav1.Condition, now time.Time) {
	for i := range *conds {
		cur := &(*conds)[i]
		if cur.Type != c.Type {
			continue
		}
		if cur.Status == c.Status {
			c.LastTransitionTime = cur.LastTransitionTime
		} else {
			c.LastTransitionTime = metav1.NewTime(now)
		}
		*cur = c
		return
	}
	c.LastTransitionTime = metav1.NewTime(now)
	*conds = append(*conds, c)
}

// disrupted returns the Pods an eviction recorded in disruptedPods that
// still count as disrupted, and when the next entry expires.
func (c *disruptionController) disrupted(pdb *policyv1.PodDisruptionBudget, pods []*corev1.Pod, now time.Time) (map[string]bool, time.Duration) {
	out := map[string]bool{}
	var next time.Duration
	byName := map[string]*corev1.Pod{}
	for _, p := range pods {
		byName[p.Name] = p
	}
	for n, at := range pdb.Status.DisruptedPods {
		p := byName[n]
		if p == nil || p.DeletionTimestamp != nil {
			continue
		}
		left := at.Add(disruptedPodTimeout).Sub(now)
		if left <= 0 {
			continue
		}
		out[n] = true
		if next == 0 || left < next {
			next = left
		}
	}
	return out, next
}

// expectations returns the number of Pods the budget expects and how
// many must be healthy: with an integer minAvailable, the matching Pods
// and that number; otherwise the replicas of the Pods' controllers,
// scaled by the percentage (rounded up) or less maxUnavailable.
func (c *disruptionController) expectations(pdb *policyv1.PodDisruptionBudget, pods []*corev1.Pod) (int32, int32, error) {
	if mu := pdb.Spec.MaxUnavailable; mu != nil {
		expected, err := c.controllerScale(pods)
		if err != nil {
			return 0, 0, err
		}
		n, err := intstr.GetScaledValueFromIntOrPercent(mu, int(expected), true)
		if err != nil {
			return 0, 0, err
		}
		return expected, max(0, expected-int32(n)), nil
	}
	if ma := pdb.Spec.MinAvailable; ma != nil {
		if ma.Type == intstr.Int {
			return int32(len(pods)), ma.IntVal, nil
		}
		expected, err := c.controllerScale(pods)
		if err != nil {
			return 0, 0, err
		}
		n, err := intstr.GetScaledValueFromIntOrPercent(ma, int(expected), true)
		if err != nil {
			return 0, 0, err
		}
		return expected, int32(n), nil
	}
	return int32(len(pods)), 0, nil
}

// controllerScale sums the replicas of the controllers of pods, each
// counted once: a ReplicaSet's Deployment when it has one, a
// StatefulSet.
func (c *disruptionController) controllerScale(pods []*corev1.Pod) (int32, error) {
	seen := map[types.UID]bool{}
	var total int32
	for _, p := range pods {
		ref := metav1.GetControllerOfNoCopy(p)
		if ref == nil {
			return 0, fmt.Errorf("found no controller ref for pod %q", p.Name)
		}
		uid, n, err := c.scaleOf(p.Namespace, ref)
		if err != nil {
			return 0, err
		}
		if !seen[uid] {
			seen[uid] = true
			total += n
		}
	}
	return total, nil
}

func (c *disruptionController) scaleOf(ns string, ref *metav1.OwnerReference) (types.UID, int32, error) {
	switch ref.Kind {
	case "ReplicaSet":
		rs, err := c.rss.ReplicaSets(ns).Get(ref.Name)
		if err != nil || rs.UID != ref.UID {
			return "", 0, fmt.Errorf("found no controllers for pod's owner %s %q", ref.Kind, ref.Name)
		}
		if dref := metav1.GetControllerOfNoCopy(rs); dref != nil && dref.Kind == "Deployment" {
			d, err := c.ds.Deployments(ns).Get(dref.Name)
			if err == nil && d.UID == dref.UID {
				return d.UID, replicasOf(d.Spec.Replicas), nil
			}
		}
		return rs.UID, replicasOf(rs.Spec.Replicas), nil
	case "StatefulSet":
		s, err := c.sts.StatefulSets(ns).Get(ref.Name)
		if err != nil || s.UID != ref.UID {
			return "", 0, fmt.Errorf("found no controllers for pod's owner %s %q", ref.Kind, ref.Name)
		}
		return s.UID, replicasOf(s.Spec.Replicas), nil
	}
	return "", 0, fmt.Errorf("found no controllers for pod's owner %s %q", ref.Kind, ref.Name)
}
