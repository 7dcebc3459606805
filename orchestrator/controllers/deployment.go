package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// deploymentKind is the kind a Deployment's ReplicaSets point at.
var deploymentKind = appsv1.SchemeGroupVersion.WithKind("Deployment")

// deploymentController rolls Deployments out through ReplicaSets.
type deploymentController struct {
	env  *env
	ds   appslisters.DeploymentLister
	rss  appslisters.ReplicaSetLister
	pods corelisters.PodLister
	q    *queue
	rec  record.EventRecorder
}

func newDeploymentController(e *env) *deploymentController {
	c := &deploymentController{
		env:  e,
		ds:   e.factory.Apps().V1().Deployments().Lister(),
		rss:  e.factory.Apps().V1().ReplicaSets().Lister(),
		pods: e.factory.Core().V1().Pods().Lister(),
		rec:  e.recorder(deploymentControlName),
	}
	c.q = newQueue("deployment", e, c.sync)
	_, _ = e.factory.Apps().V1().Deployments().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, n any) { c.enqueue(n) },
		DeleteFunc: c.enqueue,
	})
	_, _ = e.factory.Apps().V1().ReplicaSets().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { c.rsChanged(nil, obj) },
		UpdateFunc: func(o, n any) {
			c.rsChanged(o, n)
		},
		DeleteFunc: func(obj any) { c.rsChanged(nil, obj) },
	})
	_, _ = e.factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		DeleteFunc: c.podDeleted,
	})
	return c
}

func (c *deploymentController) run(ctx context.Context) { c.q.run(ctx, c.env.workers) }

func (c *deploymentController) enqueue(obj any) {
	if k, ok := keyOf(obj); ok {
		c.q.add(k)
	}
}

// rsChanged queues the Deployments a ReplicaSet change concerns: its
// controller (old and new), or for an orphan every Deployment selecting it.
func (c *deploymentController) rsChanged(oldObj, newObj any) {
	rs := asReplicaSet(newObj)
	if rs == nil {
		return
	}
	if o := asReplicaSet(oldObj); o != nil {
		if ref := metav1.GetControllerOfNoCopy(o); ref != nil && ref.Kind == deploymentKind.Kind {
			c.q.add(o.Namespace + "/" + ref.Name)
		}
	}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
		if ref.Kind == deploymentKind.Kind {
			c.q.add(rs.Namespace + "/" + ref.Name)
		}
		return
	}
	ds, err := c.ds.Deployments(rs.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, d := range ds {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(rs.Labels)) {
			c.q.add(d.Namespace + "/" + d.Name)
		}
	}
}

func asReplicaSet(obj any) *appsv1.ReplicaSet {
	switch o := obj.(type) {
	case *appsv1.ReplicaSet:
		return o
	case cache.DeletedFinalStateUnknown:
		rs, _ := o.Obj.(*appsv1.ReplicaSet)
		return rs
	}
	return nil
}

// podDeleted wakes a Recreate Deployment waiting for its old Pods to go.
func (c *deploymentController) podDeleted(obj any) {
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
	rs, err := c.rss.ReplicaSets(p.Namespace).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return
	}
	if dref := metav1.GetControllerOfNoCopy(rs); dref != nil && dref.Kind == deploymentKind.Kind {
		d, err := c.ds.Deployments(p.Namespace).Get(dref.Name)
		if err == nil && d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
			c.q.add(p.Namespace + "/" + dref.Name)
		}
	}
}

// sync drives one Deployment.
func (c *deploymentController) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.ds.Deployments(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	d := cached.DeepCopy()
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		c.env.log.Warn("deployment has an invalid selector", "key", key, "err", err)
		return nil
	}
	if sel.Empty() {
		c.rec.Eventf(d, corev1.EventTypeWarning, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Generation {
			d.Status.ObservedGeneration = d.Generation
			_, err := c.env.client.AppsV1().Deployments(ns).UpdateStatus(ctx, d, metav1.UpdateOptions{})
			return err
		}
		return nil
	}
	rsList, err := c.claimReplicaSets(ctx, d, sel)
	if err != nil {
		return err
	}
	if d.DeletionTimestamp != nil {
		return c.syncStatusOnly(ctx, d, rsList)
	}
	if d, err = c.checkPaused(ctx, d); err != nil {
		return err
	}
	if d.Spec.Paused {
		return c.syncScale(ctx, d, rsList)
	}
	if isScalingEvent(d, rsList) {
		return c.syncScale(ctx, d, rsList)
	}
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		return c.rolloutRecreate(ctx, d, rsList, sel)
	}
	return c.rolloutRolling(ctx, d, rsList)
}

// claimReplicaSets returns the ReplicaSets d controls, adopting and
// releasing by selector.
func (c *deploymentController) claimReplicaSets(ctx context.Context, d *appsv1.Deployment, sel labels.Selector) ([]*appsv1.ReplicaSet, error) {
	all, err := c.rss.ReplicaSets(d.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	o := &owner{meta: d, gvk: deploymentKind, selector: sel, fresh: func(ctx context.Context) (metav1.Object, error) {
		return c.env.client.AppsV1().Deployments(d.Namespace).Get(ctx, d.Name, metav1.GetOptions{})
	}}
	return claim(ctx, o, all, func(ctx context.Context, n string, patch []byte) error {
		_, err := c.env.client.AppsV1().ReplicaSets(d.Namespace).Patch(ctx, n, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		return err
	})
}

// checkPaused records pausing and resuming in the Progressing condition.
func (c *deploymentController) checkPaused(ctx context.Context, d *appsv1.Deployment) (*appsv1.Deployment, error) {
	if !hasProgressDeadline(d) {
		return d, nil
	}
	cond := deploymentCondition(&d.Status, appsv1.DeploymentProgressing)
	pausedCond := cond != nil && cond.Reason == reasonPaused
	switch {
	case d.Spec.Paused && !pausedCond:
		setDeploymentCondition(&d.Status, newDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, reasonPaused, "Deployment is paused", c.env.now()))
	case !d.Spec.Paused && pausedCond:
		setDeploymentCondition(&d.Status, newDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, reasonResumed, "Deployment is resumed", c.env.now()))
	default:
		return d, nil
	}
	out, err := c.env.client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("updating the status of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	return out, nil
}

// isScalingEvent reports whether an active ReplicaSet was last scaled
// for another replica count than the Deployment's.
func isScalingEvent(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) bool {
	for _, rs := range activeReplicaSets(rsList) {
		if want, ok := annotatedInt(rs, DesiredReplicasAnnotation); ok && want != replicasOf(d.Spec.Replicas) {
			return true
		}
	}
	return false
}

// findNewRS returns the oldest ReplicaSet whose template is d's.
func findNewRS(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	sorted := slices.Clone(rsList)
	slices.SortFunc(sorted, byCreation)
	for _, rs := range sorted {
		if equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			return rs
		}
	}
	return nil
}

// setRevision writes the revision annotation on the Deployment itself
// (through the main resource: the status subresource keeps metadata).
func (c *deploymentController) setRevision(ctx context.Context, d *appsv1.Deployment, revision string) error {
	if revision == "" || d.Annotations[RevisionAnnotation] == revision {
		return nil
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{RevisionAnnotation: revision}}})
	out, err := c.env.client.AppsV1().Deployments(d.Namespace).Patch(ctx, d.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("recording revision %s on deployment %s/%s: %w", revision, d.Namespace, d.Name, err)
	}
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[RevisionAnnotation] = revision
	d.ResourceVersion = out.ResourceVersion
	return nil
}
