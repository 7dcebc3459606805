package controllers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

var daemonSetKind = appsv1.SchemeGroupVersion.WithKind("DaemonSet")

// daemonTolerations are the tolerations the DaemonSet controller adds to
// every daemon Pod, as Kubernetes does, so daemons run on nodes that are
// not ready, unreachable, under pressure or cordoned.
var daemonTolerations = []corev1.Toleration{
	{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeDiskPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeMemoryPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodePIDPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
}

// daemonSetController runs one Pod of each DaemonSet on every node that
// matches it. The Pods are pinned to their node by required node
// affinity and bound by the scheduler, as in Kubernetes.
type daemonSetController struct {
	env   *env
	dss   appslisters.DaemonSetLister
	nodes corelisters.NodeLister
	pods  corelisters.PodLister
	revs  appslisters.ControllerRevisionLister
	q     *queue
	exp   *expectations
	rec   record.EventRecorder
}

func newDaemonSetController(e *env) *daemonSetController {
	c := &daemonSetController{
		env:   e,
		dss:   e.factory.Apps().V1().DaemonSets().Lister(),
		nodes: e.factory.Core().V1().Nodes().Lister(),
		pods:  e.factory.Core().V1().Pods().Lister(),
		revs:  e.factory.Apps().V1().ControllerRevisions().Lister(),
		exp:   newExpectations(e.now),
		rec:   e.recorder("daemonset-controller"),
	}
	c.q = newQueue("daemonset", e, c.sync)
	_, _ = e.factory.Apps().V1().DaemonSets().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, n any) { c.enqueue(n) },
		DeleteFunc: func(obj any) {
			if k, ok := keyOf(obj); ok {
				c.exp.forget(k)
			}
		},
	})
	all := func(any) { c.enqueueAll() }
	_, _ = e.factory.Core().V1().Nodes().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    all,
		UpdateFunc: func(o, n any) { c.nodeUpdated(o, n) },
		DeleteFunc: all,
	})
	podEvent := func(obj any, add, del bool) {
		p := asPod(obj)
		if p == nil {
			return
		}
		ref := metav1.GetControllerOfNoCopy(p)
		if ref == nil || ref.Kind != daemonSetKind.Kind {
			return
		}
		k := p.Namespace + "/" + ref.Name
		if add {
			c.exp.created(k)
		}
		if del {
			c.exp.deleted(k, p.UID)
		}
		c.q.add(k)
	}
	_, _ = e.factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { podEvent(obj, true, false) },
		UpdateFunc: func(_, n any) { podEvent(n, false, false) },
		DeleteFunc: func(obj any) { podEvent(obj, false, true) },
	})
	return c
}

func (c *daemonSetController) run(ctx context.Context) { c.q.run(ctx, c.env.workers) }

func (c *daemonSetController) enqueue(obj any) {
	if k, ok := keyOf(obj); ok {
		c.q.add(k)
	}
}

func (c *daemonSetController) enqueueAll() {
	dss, err := c.dss.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range dss {
		c.q.add(ds.Namespace + "/" + ds.Name)
	}
}

// nodeUpdated resyncs every DaemonSet when a node's labels, taints or
// readiness changed (heartbeats alone do not).
func (c *daemonSetController) nodeUpdated(oldObj, newObj any) {
	o, ok1 := oldObj.(*corev1.Node)
	n, ok2 := newObj.(*corev1.Node)
	if !ok1 || !ok2 {
		return
	}
	if apiequality.Semantic.DeepEqual(o.Labels, n.Labels) && apiequality.Semantic.DeepEqual(o.Spec.Taints, n.Spec.Taints) && o.Spec.Unschedulable == n.Spec.Unschedulable {
		return
	}
	c.enqueueAll()
}

// shouldRun reports whether a daemon Pod of ds belongs on node (run:
// the template's node selector and required node affinity match it, and
// every NoSchedule or NoExecute taint is tolerated), and whether one
// already there may stay (keep). As in Kubernetes, an untolerated
// NoSchedule taint only keeps new daemon Pods away; an untolerated
// NoExecute taint, or a selector or affinity that no longer matches,
// removes the running ones.
func shouldRun(ds *appsv1.DaemonSet, node *corev1.Node) (run, keep bool) {
	pod := &corev1.Pod{Spec: *ds.Spec.Template.Spec.DeepCopy()}
	if ok, err := nodeaffinity.GetRequiredNodeAffinity(pod).Match(node); err != nil || !ok {
		return false, false
	}
	tol := append(slices.Clone(pod.Spec.Tolerations), daemonTolerations...)
	untolerated := func(effects ...corev1.TaintEffect) bool {
		_, found := corev1helpers.FindMatchingUntoleratedTaint(klog.Background(), node.Spec.Taints, tol, func(t *corev1.Taint) bool {
			return slices.Contains(effects, t.Effect)
		}, false)
		return found
	}
	if untolerated(corev1.TaintEffectNoExecute) {
		return false, false
	}
	return !untolerated(corev1.TaintEffectNoSchedule), true
}

// targetNode is the node a daemon Pod is for: its nodeName once bound,
// else the node its required affinity names.
func targetNode(p *corev1.Pod) string {
	if p.Spec.NodeName != "" {
		return p.Spec.NodeName
	}
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, f := range t.MatchFields {
			if f.Key == metav1.ObjectNameField && f.Operator == corev1.NodeSelectorOpIn && len(f.Values) == 1 {
				return f.Values[0]
			}
		}
	}
	return ""
}

// daemonPod builds ds's Pod for node from the template, pinned to node.
func daemonPod(ds *appsv1.DaemonSet, node, hash string) *corev1.Pod {
	o := &owner{meta: ds, gvk: daemonSetKind}
	p := podFromTemplate(&ds.Spec.Template, ds.Name+"-", o.ref())
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Labels[appsv1.ControllerRevisionHashLabelKey] = hash
	p.Labels["pod-template-generation"] = fmt.Sprint(ds.Generation)
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &corev1.Affinity{}
	}
	if p.Spec.Affinity.NodeAffinity == nil {
		p.Spec.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{
			Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{node},
		}}}},
	}
	for _, t := range daemonTolerations {
		if !slices.ContainsFunc(p.Spec.Tolerations, func(x corev1.Toleration) bool { return x.Key == t.Key && x.Effect == t.Effect }) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, t)
		}
	}
	return p
}

func (c *daemonSetController) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.dss.DaemonSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.exp.forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	ds := cached.DeepCopy()
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil || sel.Empty() {
		c.env.log.Warn("daemonset has an invalid selector", "key", key, "err", err)
		return nil
	}
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return err
	}
	all, err := c.pods.Pods(ns).List(labels.Everything())
	if err != nil {
		return err
	}
	o := &owner{meta: ds, gvk: daemonSetKind, selector: sel, fresh: func(ctx context.Context) (metav1.Object, error) {
		return c.env.client.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
	}}
	pods, err := claim(ctx, o, all, func(ctx context.Context, n string, patch []byte) error {
		_, err := c.env.client.CoreV1().Pods(ns).Patch(ctx, n, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		return err
	})
	if err != nil {
		return err
	}
	if ds.DeletionTimestamp != nil {
		return nil
	}
	hash, err := c.revision(ctx, ds)
	if err != nil {
		return err
	}
	byNode := map[string][]*corev1.Pod{}
	for _, p := range pods {
		if n := targetNode(p); n != "" {
			byNode[n] = append(byNode[n], p)
		}
	}
	var actErr error
	if c.exp.satisfied(key) {
		actErr = c.manage(ctx, key, ds, nodes, byNode, hash)
	}
	status, wait := c.status(ds, nodes, byNode, hash)
	if !apiequality.Semantic.DeepEqual(ds.Status, status) {
		next := ds.DeepCopy()
		next.Status = status
		if _, err := c.env.client.AppsV1().DaemonSets(ns).UpdateStatus(ctx, next, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("updating the status of daemonset %s: %w", key, err)
		}
	}
	if wait > 0 {
		c.q.addAfter(key, wait)
	}
	return actErr
}

// revision makes sure a ControllerRevision of the current template
// exists and returns its hash, Kubernetes' pod-template-hash of it.
func (c *daemonSetController) revision(ctx context.Context, ds *appsv1.DaemonSet) (string, error) {
	hash := templateHash(&ds.Spec.Template, ds.Status.CollisionCount)
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&ds.Spec.Template)
	if err != nil {
		return "", err
	}
	raw["$patch"] = "replace"
	data, err := json.Marshal(map[string]any{"spec": map[string]any{"template": raw}})
	if err != nil {
		return "", err
	}
	list, err := c.revs.ControllerRevisions(ds.Namespace).List(labels.Everything())
	if err != nil {
		return "", err
	}
	var maxRev int64
	var same *appsv1.ControllerRevision
	for _, r := range list {
		if ref := metav1.GetControllerOfNoCopy(r); ref == nil || ref.UID != ds.UID {
			continue
		}
		maxRev = max(maxRev, r.Revision)
		if bytes.Equal(r.Data.Raw, data) {
			same = r
		}
	}
	if same != nil {
		if same.Revision < maxRev {
			r := same.DeepCopy()
			r.Revision = maxRev + 1
			if _, err := c.env.client.AppsV1().ControllerRevisions(ds.Namespace).Update(ctx, r, metav1.UpdateOptions{}); err != nil {
				return "", fmt.Errorf("renumbering controllerrevision %s: %w", r.Name, err)
			}
		}
		return hash, nil
	}
	o := &owner{meta: ds, gvk: daemonSetKind}
	lbls := maps.Clone(ds.Spec.Template.Labels)
	if lbls == nil {
		lbls = map[string]string{}
	}
	lbls[appsv1.ControllerRevisionHashLabelKey] = hash
	rev := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{Name: ds.Name + "-" + hash, Namespace: ds.Namespace, Labels: lbls, OwnerReferences: []metav1.OwnerReference{o.ref()}},
		Data:       runtime.RawExtension{Raw: data},
		Revision:   maxRev + 1,
	}
	if _, err := c.env.client.AppsV1().ControllerRevisions(ds.Namespace).Create(ctx, rev, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("creating controllerrevision %s: %w", rev.Name, err)
	}
	return hash, nil
}

// rollingBudget resolves maxSurge and maxUnavailable against the number
// of nodes that should run a daemon (maxUnavailable 1 by default).
func rollingBudget(ds *appsv1.DaemonSet, desired int) (surge, unavailable int) {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	one := intstr.FromInt32(1)
	mu := &one
	var ms *intstr.IntOrString
	if ru != nil {
		if ru.MaxUnavailable != nil {
			mu = ru.MaxUnavailable
		}
		ms = ru.MaxSurge
	}
	if ms != nil {
		surge, _ = intstr.GetScaledValueFromIntOrPercent(ms, desired, true)
	}
	unavailable, _ = intstr.GetScaledValueFromIntOrPercent(mu, desired, true)
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	return surge, unavailable
}

// manage creates the missing daemon Pods, deletes those on nodes that no
// longer match, extra and finished ones, and rolls outdated ones within
// the budget.
func (c *daemonSetController) manage(ctx context.Context, key string, ds *appsv1.DaemonSet, nodes []*corev1.Node, byNode map[string][]*corev1.Pod, hash string) error {
	var create []string
	var del []*corev1.Pod
	now := c.env.now()
	desired := 0
	unavailable := 0
	type rollable struct {
		node string
		pods []*corev1.Pod
	}
	var outdated []rollable
	for _, n := range nodes {
		pods := byNode[n.Name]
		var live []*corev1.Pod
		for _, p := range pods {
			switch {
			case p.DeletionTimestamp != nil:
			case p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded:
				del = append(del, p)
			default:
				live = append(live, p)
			}
		}
		if run, keep := shouldRun(ds, n); !run {
			if !keep {
				del = append(del, live...)
			}
			continue
		}
		desired++
		if len(live) == 0 {
			create = append(create, n.Name)
			unavailable++
			continue
		}
		// Keep the newest revision's Pod, else the oldest.
		slices.SortFunc(live, func(a, b *corev1.Pod) int {
			an, bn := a.Labels[appsv1.ControllerRevisionHashLabelKey] == hash, b.Labels[appsv1.ControllerRevisionHashLabelKey] == hash
			if an != bn {
				if an {
					return -1
				}
				return 1
			}
			return a.CreationTimestamp.Compare(b.CreationTimestamp.Time)
		})
		keep := live[0]
		ok, _ := podAvailable(keep, ds.Spec.MinReadySeconds, now)
		if !ok {
			unavailable++
		}
		if keep.Labels[appsv1.ControllerRevisionHashLabelKey] != hash {
			outdated = append(outdated, rollable{n.Name, live})
			continue
		}
		// An updated Pod is there: extras (the old one after a surge)
		// go once it is available, or at once when not surging.
		surge, _ := rollingBudget(ds, desired)
		if len(live) > 1 && (ok || surge == 0) {
			del = append(del, live[1:]...)
		}
	}
	// Pods for nodes that are gone: no scheduler will bind an unbound
	// one, and no pod collector runs here for a bound one.
	exists := map[string]bool{}
	for _, n := range nodes {
		exists[n.Name] = true
	}
	for node, pods := range byNode {
		if exists[node] {
			continue
		}
		for _, p := range pods {
			if p.DeletionTimestamp == nil {
				del = append(del, p)
			}
		}
	}
	if ds.Spec.UpdateStrategy.Type != appsv1.OnDeleteDaemonSetStrategyType {
		surge, maxUnav := rollingBudget(ds, desired)
		surged := 0
		for _, r := range outdated {
			old := r.pods[0]
			oldOK, _ := podAvailable(old, ds.Spec.MinReadySeconds, now)
			switch {
			case !oldOK:
				// An unavailable old Pod costs nothing to replace.
				del = append(del, old)
			case surge > 0:
				if surged < surge {
					create = append(create, r.node)
					surged++
				}
			case unavailable < maxUnav:
				del = append(del, old)
				unavailable++
			}
		}
	}
	uids := make([]types.UID, len(del))
	for i, p := range del {
		uids[i] = p.UID
	}
	c.exp.expect(key, len(create), uids)
	var errs []error
	for _, p := range del {
		err := c.env.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &p.UID}})
		switch {
		case err == nil:
			c.rec.Eventf(ds, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %v", p.Name)
		case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
			c.exp.deleted(key, p.UID)
		default:
			c.exp.deleted(key, p.UID)
			c.rec.Eventf(ds, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
			errs = append(errs, err)
		}
	}
	slices.Sort(create)
	for _, node := range create {
		made, err := c.env.client.CoreV1().Pods(ds.Namespace).Create(ctx, daemonPod(ds, node, hash), metav1.CreateOptions{})
		if err != nil {
			c.exp.created(key)
			if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
				continue
			}
			c.rec.Eventf(ds, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
			errs = append(errs, err)
			continue
		}
		c.rec.Eventf(ds, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %v", made.Name)
	}
	return errors.Join(errs...)
}

// status counts the DaemonSet's nodes and Pods as Kubernetes reports
// them.
func (c *daemonSetController) status(ds *appsv1.DaemonSet, nodes []*corev1.Node, byNode map[string][]*corev1.Pod, hash string) (appsv1.DaemonSetStatus, time.Duration) {
	s := appsv1.DaemonSetStatus{
		ObservedGeneration: ds.Generation,
		CollisionCount:     ds.Status.CollisionCount,
		Conditions:         ds.Status.Conditions,
	}
	now := c.env.now()
	var wait time.Duration
	for _, n := range nodes {
		run, _ := shouldRun(ds, n)
		var live []*corev1.Pod
		for _, p := range byNode[n.Name] {
			if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodFailed && p.Status.Phase != corev1.PodSucceeded {
				live = append(live, p)
			}
		}
		if run {
			s.DesiredNumberScheduled++
		}
		if len(live) == 0 {
			continue
		}
		if !run {
			s.NumberMisscheduled++
			continue
		}
		s.CurrentNumberScheduled++
		slices.SortFunc(live, func(a, b *corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
		p := live[0]
		for _, x := range live {
			if x.Labels[appsv1.ControllerRevisionHashLabelKey] == hash {
				p = x
			}
		}
		if p.Labels[appsv1.ControllerRevisionHashLabelKey] == hash {
			s.UpdatedNumberScheduled++
		}
		if podReady(p) {
			s.NumberReady++
			if ok, left := podAvailable(p, ds.Spec.MinReadySeconds, now); ok {
				s.NumberAvailable++
			} else if wait == 0 || left < wait {
				wait = left + 100*time.Millisecond
			}
		}
	}
	s.NumberUnavailable = max(0, s.DesiredNumberScheduled-s.NumberAvailable)
	return s, wait
}
