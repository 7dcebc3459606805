package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"pkg.dev/pkg/orchestrator/internal/mount"
	"pkg.dev/pkg/orchestrator/runtime"
)

// PodRunner is the part of a node agent that runs the Pods bound to its
// node, as the kubelet does: volumes, network, init containers in order,
// app containers with their restart policy and back-off, probes, status
// reported through the API, and termination with a grace period.
type PodRunner struct {
	// Node is the node's name.
	Node   string
	Client kubernetes.Interface
	// Runtime runs the containers; required.
	Runtime runtime.Driver
	// Images provides root filesystems; required.
	Images Images
	// Network gives Pods their own address; nil puts every Pod on the
	// host's network (host-network mode, without the privileges for
	// namespaces), as Pods with spec.hostNetwork always are.
	Network *Network
	// HostIP is the node's address, the podIP of Pods on the host's
	// network; "" means 127.0.0.1.
	HostIP string
	// Dir holds the Pods' volumes, root filesystems and logs.
	Dir string
	// DNS is the cluster DNS server's address written into Pods'
	// resolv.conf (dnsPolicy ClusterFirst); "" leaves the image's.
	DNS string
	// Domain is the cluster domain; "" means cluster.local.
	Domain string
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// Log receives what the runner does; nil discards it.
	Log *slog.Logger
	// BackoffBase is the first crash back-off; 0 means 10 s (tests set
	// less). It doubles to 5 minutes, as the kubelet's.
	BackoffBase time.Duration
	// Eviction evicts Pods when the node runs low on memory; nil never
	// evicts.
	Eviction *Eviction

	mu      sync.Mutex
	workers map[types.UID]*podWorker
}

// hostIP is the address of Pods on the host's network.
func (r *PodRunner) hostIP() string {
	if r.HostIP == "" {
		return "127.0.0.1"
	}
	return r.HostIP
}

func (r *PodRunner) now() time.Time {
	if r.Clock != nil {
		return r.Clock()
	}
	return time.Now()
}

func (r *PodRunner) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Run runs the node's Pods until ctx ends; then it stops every container.
// Containers left by an earlier run of the agent are removed first, and
// their Pods started afresh (replaced, never duplicated).
func (r *PodRunner) Run(ctx context.Context) error {
	if r.Runtime == nil || r.Images == nil {
		return errors.New("pod runner: no runtime or image service")
	}
	r.mu.Lock()
	r.workers = map[types.UID]*podWorker{}
	r.mu.Unlock()
	if left, err := r.Runtime.List(ctx); err == nil {
		for _, c := range left {
			r.log().Info("removing a container left by an earlier run", "container", c.ID)
			_ = r.Runtime.Remove(ctx, c.ID)
		}
	}
	// Their root filesystems too: an earlier run killed before it could
	// unmount them leaves overlays mounted, also for Pods gone since.
	if err := mount.Unmount(filepath.Join(r.Dir, "pods")); err != nil {
		r.log().Warn("unmounting root filesystems left by an earlier run", "err", err)
	}
	factory := informers.NewSharedInformerFactoryWithOptions(r.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", r.Node).String()
		}))
	inf := factory.Core().V1().Pods().Informer()
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { r.sync(ctx, obj) },
		UpdateFunc: func(_, obj any) { r.sync(ctx, obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if p, ok := obj.(*corev1.Pod); ok {
				// Removed without waiting for us (a forced delete): stop
				// it with the shortest grace period.
				zero := int64(0)
				r.stopWorker(p.UID, true, &zero)
			}
		},
	})
	if err != nil {
		return err
	}
	factory.Start(ctx.Done())
	if r.Eviction != nil {
		go r.runEviction(ctx)
	}
	<-ctx.Done()
	factory.Shutdown()
	r.mu.Lock()
	ws := make([]*podWorker, 0, len(r.workers))
	for _, w := range r.workers {
		ws = append(ws, w)
	}
	r.mu.Unlock()
	for _, w := range ws {
		w.stop(false, nil)
	}
	for _, w := range ws {
		<-w.done
	}
	return nil
}

// sync starts a worker for a new Pod, or tells a worker its Pod is being
// deleted.
func (r *PodRunner) sync(ctx context.Context, obj any) {
	p, ok := obj.(*corev1.Pod)
	if !ok || p.Spec.NodeName != r.Node {
		return
	}
	r.mu.Lock()
	w, exists := r.workers[p.UID]
	if !exists && p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
		w = newPodWorker(r, p)
		r.workers[p.UID] = w
		r.mu.Unlock()
		go w.run(context.WithoutCancel(ctx))
		return
	}
	r.mu.Unlock()
	switch {
	case exists && p.DeletionTimestamp != nil:
		w.stop(true, p.DeletionGracePeriodSeconds)
		w.shorten(p.DeletionGracePeriodSeconds)
	case !exists && p.DeletionTimestamp != nil:
		// Being deleted with nothing running here (it never started, or
		// an earlier run of the agent left it): its files go and its
		// deletion is complete.
		go func() {
			_ = mount.RemoveAll(r.podDir(p))
			if r.Network != nil && !p.Spec.HostNetwork && p.Status.PodIP != "" {
				_ = r.Network.Teardown(ctx, string(p.UID), p.Status.PodIP)
			}
			r.finishDeletion(ctx, p)
		}()
	}
}

func (r *PodRunner) stopWorker(uid types.UID, deleted bool, grace *int64) {
	r.mu.Lock()
	w := r.workers[uid]
	r.mu.Unlock()
	if w != nil {
		w.stop(deleted, grace)
		w.shorten(grace)
	}
}

// finishDeletion completes the graceful deletion of a Pod whose
// containers have stopped, as the kubelet does: a delete with a grace
// period of 0, for this Pod only (its uid).
func (r *PodRunner) finishDeletion(ctx context.Context, p *corev1.Pod) {
	finishDeletion(context.WithoutCancel(ctx), r.Client, p, r.log())
}

// finishDeletion deletes p for good. A Pod gone (not found) or replaced
// by another of its name (the uid precondition's conflict) needs nothing
// more. Any other failure (the API
// server busy or restarting) is tried again, for about a minute: nothing
// else would ever finish the deletion, and the Pod would stay Terminating.
func finishDeletion(ctx context.Context, cs kubernetes.Interface, p *corev1.Pod, log *slog.Logger) {
	zero := int64(0)
	uid := p.UID
	wait := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}})
		if err == nil || apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return
		}
		log.Warn("completing the pod's deletion", "pod", p.Namespace+"/"+p.Name, "attempt", attempt, "err", err)
		if attempt == 12 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
}

func (r *PodRunner) forget(uid types.UID) {
	r.mu.Lock()
	delete(r.workers, uid)
	r.mu.Unlock()
}

// podDir is where a Pod's files live.
func (r *PodRunner) podDir(p *corev1.Pod) string {
	return filepath.Join(r.Dir, "pods", string(p.UID))
}

// LogPath is the log file of one run of a container, as PodRunner writes
// it: PODDIR/logs/CONTAINER/RESTARTCOUNT.log.
func LogPath(dir string, podUID types.UID, container string, restart int32) string {
	return filepath.Join(dir, "pods", string(podUID), "logs", container, fmt.Sprintf("%d.log", restart))
}

func ensureDir(p string) error { return os.MkdirAll(p, 0o755) }
