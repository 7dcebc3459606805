package node

import (
	"context"
	"io"
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Finisher stands in for a PodRunner on a node that runs no containers
// (no container runtime here): nothing runs there to be stopped, so the
// graceful deletion of the node's Pods is completed at once instead of
// leaving them Terminating.
type Finisher struct {
	// Node is the node's name.
	Node   string
	Client kubernetes.Interface
	// Log receives what the finisher does; nil discards it.
	Log *slog.Logger
}

// Run completes deletions until ctx ends.
func (f *Finisher) Run(ctx context.Context) error {
	log := f.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	factory := informers.NewSharedInformerFactoryWithOptions(f.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", f.Node).String()
		}))
	finish := func(obj any) {
		if p, ok := obj.(*corev1.Pod); ok && p.DeletionTimestamp != nil {
			go finishDeletion(ctx, f.Client, p, log)
		}
	}
	if _, err := factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: finish, UpdateFunc: func(_, o any) { finish(o) },
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	<-ctx.Done()
	factory.Shutdown()
	return nil
}
