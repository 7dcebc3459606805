package scheduler

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Name is the scheduler name Pods ask for ("" means this one too).
const Name = "default-scheduler"

// Options tune a Scheduler.
type Options struct {
	// Log receives what the scheduler does; nil discards it.
	Log *slog.Logger
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// Scheduler binds Pods without a node to nodes, one at a time, from a
// snapshot of the informers' caches plus the Pods it bound and the cache
// has not seen yet (assumed).
type Scheduler struct {
	client kubernetes.Interface
	log    *slog.Logger
	now    func() time.Time
	queue  workqueue.TypedRateLimitingInterface[string]
	nodes  corelisters.NodeLister
	pods   corelisters.PodLister
	// storage looks up Pods' claims and volumes.
	storage Storage

	mu sync.Mutex
	// assumed are Pods bound by this scheduler, by namespace/name, until
	// the cache shows them bound.
	assumed map[string]*corev1.Pod
	// waiting are Pods found unschedulable, retried when the cluster
	// changes.
	waiting map[string]bool
	// snap is the view the last decision was made on, with every Pod
	// assumed since added to it; nil when the cluster changed in a way
	// the scheduler did not cause, so that the next decision rebuilds it.
	snap *Snapshot
	// binds limits the bindings in flight: a decision does not wait for
	// its binding (as kube-scheduler binds in the background), so the
	// store's group commit takes many bindings in one write.
	binds chan struct{}
	// inflight counts the bindings and events still being written.
	inflight sync.WaitGroup
}

// maxBinds is how many bindings may be in flight at once.
const maxBinds = 32

// New returns a scheduler working through client.
func New(client kubernetes.Interface, opts Options) *Scheduler {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	now := opts.Clock
	if now == nil {
		now = time.Now
	}
	return &Scheduler{
		client:  client,
		log:     log,
		now:     now,
		queue:   workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]()),
		assumed: map[string]*corev1.Pod{},
		waiting: map[string]bool{},
		binds:   make(chan struct{}, maxBinds),
	}
}

// invalidate drops the cached view: the next decision reads the caches
// again.
func (s *Scheduler) invalidate() {
	s.mu.Lock()
	s.snap = nil
	s.mu.Unlock()
}

// changesView tells whether a Pod event changes what decisions see: a
// Pod bound to a node appeared, went, or changed, unless it is the echo
// of a binding this scheduler made (already in its view).
func (s *Scheduler) changesView(old, cur *corev1.Pod) bool {
	if (old == nil || old.Spec.NodeName == "") && (cur == nil || cur.Spec.NodeName == "") {
		return false // pending Pods are not in the view
	}
	if cur != nil && cur.Spec.NodeName != "" && (old == nil || old.Spec.NodeName == "") {
		s.mu.Lock()
		a, ok := s.assumed[key(cur)]
		s.mu.Unlock()
		if ok && a.Spec.NodeName == cur.Spec.NodeName {
			return false
		}
	}
	if old != nil && cur != nil && old.Spec.NodeName == cur.Spec.NodeName && old.Status.Phase == cur.Status.Phase &&
		labels.Equals(old.Labels, cur.Labels) && old.DeletionTimestamp.Equal(cur.DeletionTimestamp) {
		return false // a status update of a bound Pod (ready, restarts)
	}
	return true
}

func key(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

func ours(p *corev1.Pod) bool {
	return p.Spec.NodeName == "" && (p.Spec.SchedulerName == "" || p.Spec.SchedulerName == Name) &&
		p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// Run schedules until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	factory := informers.NewSharedInformerFactory(s.client, 0)
	podInf := factory.Core().V1().Pods()
	nodeInf := factory.Core().V1().Nodes()
	s.pods, s.nodes = podInf.Lister(), nodeInf.Lister()
	_, err := podInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			p, ok := obj.(*corev1.Pod)
			if !ok {
				return
			}
			if s.changesView(nil, p) {
				s.invalidate()
			}
			if ours(p) {
				s.queue.Add(key(p))
			}
		},
		UpdateFunc: func(oldObj, obj any) {
			p, ok := obj.(*corev1.Pod)
			if !ok {
				return
			}
			old, _ := oldObj.(*corev1.Pod)
			if s.changesView(old, p) {
				s.invalidate()
			}
			if ours(p) {
				s.queue.Add(key(p))
				return
			}
			s.mu.Lock()
			delete(s.assumed, key(p)) // the cache has it bound now
			s.mu.Unlock()
		},
		DeleteFunc: func(any) {
			s.invalidate()
			s.retryWaiting()
		},
	})
	if err != nil {
		return err
	}
	_, err = nodeInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) {
			s.invalidate()
			s.retryWaiting()
		},
		UpdateFunc: func(any, any) {
			s.invalidate()
			s.retryWaiting()
		},
		DeleteFunc: func(any) { s.invalidate() },
	})
	if err != nil {
		return err
	}
	// A claim made, bound or changed, a volume or a class may let a Pod
	// waiting for its volumes be placed.
	s.storage = listerStorage{
		claims:  factory.Core().V1().PersistentVolumeClaims().Lister(),
		volumes: factory.Core().V1().PersistentVolumes().Lister(),
		classes: factory.Storage().V1().StorageClasses().Lister(),
	}
	for _, inf := range []cache.SharedIndexInformer{
		factory.Core().V1().PersistentVolumeClaims().Informer(),
		factory.Core().V1().PersistentVolumes().Informer(),
		factory.Storage().V1().StorageClasses().Informer(),
	} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { s.retryWaiting() },
			UpdateFunc: func(any, any) { s.retryWaiting() },
		}); err != nil {
			return err
		}
	}
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	s.log.Debug("caches synced")
	go func() {
		<-ctx.Done()
		s.queue.ShutDown()
	}()
	for s.next(ctx) {
	}
	s.inflight.Wait()
	factory.Shutdown()
	return nil
}

// retryWaiting puts the unschedulable Pods back in the queue: a node or a
// freed Pod may make room.
func (s *Scheduler) retryWaiting() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.waiting {
		s.queue.Add(k)
	}
	s.waiting = map[string]bool{}
}

func (s *Scheduler) next(ctx context.Context) bool {
	k, quit := s.queue.Get()
	if quit {
		return false
	}
	defer s.queue.Done(k)
	if err := s.scheduleOne(ctx, k); err != nil {
		s.log.Warn("scheduling", "pod", k, "err", err)
		s.queue.AddRateLimited(k)
		return true
	}
	s.queue.Forget(k)
	return true
}

// snapshot builds the decision's view: every node with the Pods bound to
// it, the assumed ones included.
func (s *Scheduler) snapshot() (*Snapshot, error) {
	s.mu.Lock()
	snap := s.snap
	s.mu.Unlock()
	if snap != nil {
		return snap, nil
	}
	return s.buildSnapshot()
}

// buildSnapshot reads the view from the informers' caches and the
// assumed Pods, and keeps it for the decisions that follow.
func (s *Scheduler) buildSnapshot() (*Snapshot, error) {
	nodes, err := s.nodes.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	pods, err := s.pods.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	byNode := map[string][]*corev1.Pod{}
	seen := map[string]bool{}
	for _, p := range pods {
		if p.Spec.NodeName == "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
		seen[key(p)] = true
	}
	s.mu.Lock()
	for k, p := range s.assumed {
		if !seen[k] {
			byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
		}
	}
	s.mu.Unlock()
	snap := &Snapshot{Storage: s.storage}
	for _, n := range nodes {
		snap.Nodes = append(snap.Nodes, NewNodeInfo(n, byNode[n.Name]...))
	}
	s.mu.Lock()
	s.snap = snap
	s.mu.Unlock()
	return snap, nil
}

// assume records pod as bound to node, in the assumed Pods and in the
// cached view (when it is still the one decided on).
func (s *Scheduler) assume(snap *Snapshot, pod *corev1.Pod, node string) {
	assumed := pod.DeepCopy()
	assumed.Spec.NodeName = node
	s.mu.Lock()
	defer s.mu.Unlock()
	s.assumed[key(pod)] = assumed
	if s.snap != snap {
		return // rebuilt or dropped since: the next build adds assumed Pods
	}
	for _, ni := range snap.Nodes {
		if ni.Node.Name == node {
			ni.AddPod(assumed)
			return
		}
	}
}

// forget drops an assumed Pod whose binding failed.
func (s *Scheduler) forget(pod *corev1.Pod) {
	s.mu.Lock()
	delete(s.assumed, key(pod))
	s.snap = nil
	s.mu.Unlock()
}

func (s *Scheduler) scheduleOne(ctx context.Context, k string) error {
	s.log.Debug("scheduling", "pod", k)
	ns, name, _ := cache.SplitMetaNamespaceKey(k)
	pod, err := s.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !ours(pod) {
		return nil
	}
	s.mu.Lock()
	_, bound := s.assumed[k]
	s.mu.Unlock()
	if bound {
		return nil
	}
	snap, err := s.snapshot()
	if err != nil {
		return err
	}
	node, err := Schedule(snap, pod)
	if err != nil {
		return s.unschedulable(ctx, pod, err)
	}
	// The next decision counts this Pod on its node at once; the binding
	// is written in the background.
	s.assume(snap, pod, node)
	select {
	case s.binds <- struct{}{}:
	case <-ctx.Done():
		s.forget(pod)
		return ctx.Err()
	}
	s.inflight.Add(1)
	go func() {
		defer s.inflight.Done()
		defer func() { <-s.binds }()
		s.bind(ctx, pod, node)
	}()
	return nil
}

// bind writes pod's binding to node and its Scheduled Event. A failed
// binding forgets the assumption and retries the Pod later.
func (s *Scheduler) bind(ctx context.Context, pod *corev1.Pod, node string) {
	k := key(pod)
	err := s.client.CoreV1().Pods(pod.Namespace).Bind(ctx, &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}, metav1.CreateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		// Bound by someone else, or gone: the caches will tell.
		s.forget(pod)
		return
	}
	if err != nil {
		s.forget(pod)
		if ctx.Err() == nil {
			s.log.Warn("binding", "pod", k, "node", node, "err", err)
			s.queue.AddRateLimited(k)
		}
		return
	}
	s.event(ctx, pod, corev1.EventTypeNormal, "Scheduled", fmt.Sprintf("Successfully assigned %s to %s", k, node))
	s.log.Debug("bound", "pod", k, "node", node)
}

// unschedulable records why a Pod cannot be placed: PodScheduled=False
// with reason Unschedulable and a FailedScheduling Event, as
// kube-scheduler does, and keeps the Pod for a retry when the cluster
// changes.
func (s *Scheduler) unschedulable(ctx context.Context, pod *corev1.Pod, why error) error {
	s.mu.Lock()
	s.waiting[key(pod)] = true
	s.mu.Unlock()
	msg := why.Error()
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Message == msg {
			return nil // already said
		}
	}
	p := pod.DeepCopy()
	now := metav1.NewTime(s.now())
	cond := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: msg, LastTransitionTime: now}
	replaced := false
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodScheduled {
			p.Status.Conditions[i], replaced = cond, true
		}
	}
	if !replaced {
		p.Status.Conditions = append(p.Status.Conditions, cond)
	}
	if p.Status.Phase == "" {
		p.Status.Phase = corev1.PodPending
	}
	if _, err := s.client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return err
	}
	s.event(ctx, pod, corev1.EventTypeWarning, "FailedScheduling", msg)
	return nil
}

// event records an Event about pod from the scheduler.
func (s *Scheduler) event(ctx context.Context, pod *corev1.Pod, typ, reason, msg string) {
	now := metav1.NewTime(s.now())
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: pod.Name + ".", Namespace: pod.Namespace},
		InvolvedObject: corev1.ObjectReference{
			Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, ResourceVersion: pod.ResourceVersion,
		},
		Reason: reason, Message: msg, Type: typ, Count: 1,
		FirstTimestamp: now, LastTimestamp: now,
		Source:              corev1.EventSource{Component: Name},
		ReportingController: Name,
	}
	if _, err := s.client.CoreV1().Events(pod.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		s.log.Debug("recording event", "pod", key(pod), "err", err)
	}
}
