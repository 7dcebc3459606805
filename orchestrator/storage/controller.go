package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
)

// Controller binds claims to volumes, provisions volumes for claims of
// its provisioner's classes, and reclaims released volumes.
type Controller struct {
	Client kubernetes.Interface
	// Dir holds the provisioned volumes' directories, one per volume;
	// required.
	Dir string
	// Log receives what the controller does; nil discards it.
	Log *slog.Logger
	// Resync replays the informers' caches this often; 0 means a
	// minute.
	Resync time.Duration

	claims  corelisters.PersistentVolumeClaimLister
	volumes corelisters.PersistentVolumeLister
	pods    corelisters.PodLister
	classes storagelisters.StorageClassLister
	queue   workqueue.TypedRateLimitingInterface[string]
	rec     record.EventRecorder
}

// Keys of the work queue: a claim or a volume.
const (
	claimKey  = "claim/"
	volumeKey = "volume/"
)

func (c *Controller) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	if c.Dir == "" {
		return errors.New("storage controller: no directory for volumes")
	}
	resync := c.Resync
	if resync <= 0 {
		resync = time.Minute
	}
	factory := informers.NewSharedInformerFactory(c.Client, resync)
	c.claims = factory.Core().V1().PersistentVolumeClaims().Lister()
	c.volumes = factory.Core().V1().PersistentVolumes().Lister()
	c.pods = factory.Core().V1().Pods().Lister()
	c.classes = factory.Storage().V1().StorageClasses().Lister()
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "persistentvolume-binder"})
	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: c.Client.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	c.rec = broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "persistentvolume-controller"})

	onClaim := func(obj any) {
		if pvc, ok := tombstone(obj).(*corev1.PersistentVolumeClaim); ok {
			c.queue.Add(claimKey + pvc.Namespace + "/" + pvc.Name)
			if pvc.Spec.VolumeName != "" {
				c.queue.Add(volumeKey + pvc.Spec.VolumeName)
			}
		}
	}
	onVolume := func(obj any) {
		if pv, ok := tombstone(obj).(*corev1.PersistentVolume); ok {
			c.queue.Add(volumeKey + pv.Name)
			if r := pv.Spec.ClaimRef; r != nil {
				c.queue.Add(claimKey + r.Namespace + "/" + r.Name)
			}
		}
	}
	onPod := func(obj any) {
		// Scheduled Pods may select a node for their claims; any Pod's
		// end may free a claim being deleted.
		p, ok := tombstone(obj).(*corev1.Pod)
		if !ok {
			return
		}
		for _, v := range p.Spec.Volumes {
			if v.PersistentVolumeClaim != nil {
				c.queue.Add(claimKey + p.Namespace + "/" + v.PersistentVolumeClaim.ClaimName)
			}
		}
	}
	onClass := func(any) {
		// A new or changed class may let waiting claims proceed.
		claims, _ := c.claims.List(everything())
		for _, pvc := range claims {
			if pvc.Status.Phase != corev1.ClaimBound {
				c.queue.Add(claimKey + pvc.Namespace + "/" + pvc.Name)
			}
		}
	}
	for _, h := range []struct {
		inf cache.SharedIndexInformer
		f   func(any)
	}{
		{factory.Core().V1().PersistentVolumeClaims().Informer(), onClaim},
		{factory.Core().V1().PersistentVolumes().Informer(), onVolume},
		{factory.Core().V1().Pods().Informer(), onPod},
		{factory.Storage().V1().StorageClasses().Informer(), onClass},
	} {
		f := h.f
		if _, err := h.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: f, UpdateFunc: func(_, o any) { f(o) }, DeleteFunc: f,
		}); err != nil {
			return err
		}
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("storage controller: the %v cache never filled", typ)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c.next(ctx) {
		}
	}()
	<-ctx.Done()
	c.queue.ShutDown()
	<-done
	return nil
}

// next syncs one key; false once the queue is shut down.
func (c *Controller) next(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	var err error
	switch {
	case strings.HasPrefix(key, claimKey):
		ns, name, _ := strings.Cut(strings.TrimPrefix(key, claimKey), "/")
		err = c.syncClaim(ctx, ns, name)
	case strings.HasPrefix(key, volumeKey):
		err = c.syncVolume(ctx, strings.TrimPrefix(key, volumeKey))
	}
	switch {
	case err == nil:
		c.queue.Forget(key)
	case ctx.Err() != nil:
	default:
		if !apierrors.IsConflict(err) && !apierrors.IsAlreadyExists(err) {
			c.log().Warn("syncing; retrying", "key", key, "err", err)
		}
		c.queue.AddRateLimited(key)
	}
	return true
}

// tombstone unwraps a deleted object the informer saw only as gone.
func tombstone(obj any) any {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return d.Obj
	}
	return obj
}
