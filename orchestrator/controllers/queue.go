package controllers

import (
	"context"
	"log/slog"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/workqueue"
)

// queue is one controller's rate-limited queue of namespace/name keys and
// the function that syncs a key.
type queue struct {
	name string
	q    workqueue.TypedRateLimitingInterface[string]
	sync func(ctx context.Context, key string) error
	log  *slog.Logger
}

func newQueue(name string, e *env, sync func(ctx context.Context, key string) error) *queue {
	return &queue{
		name: name,
		q: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: name, Clock: e.clock}),
		sync: sync,
		log:  e.log.With("controller", name),
	}
}

// add queues key now.
func (q *queue) add(key string) { q.q.Add(key) }

// addAfter queues key after d.
func (q *queue) addAfter(key string, d time.Duration) { q.q.AddAfter(key, d) }

// run runs workers until ctx is done, then shuts the queue down.
func (q *queue) run(ctx context.Context, workers int) {
	done := make(chan struct{})
	for range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for q.next(ctx) {
			}
		}()
	}
	<-ctx.Done()
	q.q.ShutDown()
	for range workers {
		<-done
	}
}

// next syncs one key; false once the queue is shut down. A failed sync is
// retried with the queue's back-off; a conflict is retried without logging.
func (q *queue) next(ctx context.Context) bool {
	key, quit := q.q.Get()
	if quit {
		return false
	}
	defer q.q.Done(key)
	err := q.sync(ctx, key)
	switch {
	case err == nil:
		q.q.Forget(key)
	case ctx.Err() != nil:
	default:
		// A conflict, or creating what already exists, is a cache a
		// moment behind the server: the retry reads it again and
		// settles, as in kube-controller-manager, which logs neither
		// as a warning.
		if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
			q.log.Debug("sync raced the cache; retrying", "key", key, "err", err)
		} else {
			q.log.Warn("sync failed; retrying", "key", key, "err", err, "retries", q.q.NumRequeues(key))
		}
		q.q.AddRateLimited(key)
	}
	return true
}
