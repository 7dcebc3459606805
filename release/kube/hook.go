package kube

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"pkg.dev/pkg/release"
)

// WatchUntilReady waits for hook resources, each with its own timeout
// (none when zero), concurrently: a Job until its Complete condition (an
// error "job NAME failed: REASON" on its Failed condition), a Pod until it
// succeeded (an error "pod NAME failed" if it failed). A Job or Pod deleted
// meanwhile counts as done; other kinds are done at once. Every failure is
// returned.
func (c *Client) WatchUntilReady(ctx context.Context, list release.ResourceList, timeout time.Duration) error {
	errs := make([]error, len(list))
	var wg sync.WaitGroup
	for i, r := range list {
		var judge func(*unstructured.Unstructured) (bool, error)
		switch r.GVK.GroupKind().String() {
		case "Job.batch":
			judge = jobFinished
		case "Pod":
			judge = podFinished
		default:
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.watchUntil(ctx, r, timeout, judge)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// watchUntil reads r, then watches it, until judge says it is done or
// fails. A watch that ends early is started again; a server that cannot
// watch is polled.
func (c *Client) watchUntil(ctx context.Context, r *release.Resource, timeout time.Duration, judge func(*unstructured.Unstructured) (bool, error)) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	c.log.Debug("watching a hook", "resource", r.String(), "timeout", timeout)
	rc := c.resourceClient(r)
	for {
		obj, err := rc.Get(ctx, r.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case err != nil:
			return c.watchFailed(ctx, r, timeout, err)
		}
		if done, err := judge(obj); done || err != nil {
			return err
		}
		w, err := rc.Watch(ctx, metav1.ListOptions{
			FieldSelector:   fields.OneTermEqualSelector("metadata.name", r.Name).String(),
			ResourceVersion: obj.GetResourceVersion(),
		})
		if err != nil {
			c.log.Debug("cannot watch; polling", "resource", r.String(), "error", err)
			select {
			case <-ctx.Done():
				return c.watchFailed(ctx, r, timeout, ctx.Err())
			case <-time.After(c.interval):
			}
			continue
		}
		done, err := c.drain(ctx, w, judge)
		if done || err != nil {
			return err
		}
		if ctx.Err() != nil {
			return c.watchFailed(ctx, r, timeout, ctx.Err())
		}
	}
}

// drain reads watch events until judge decides, the object is deleted,
// or the watch ends (false, nil: read again and watch anew).
func (c *Client) drain(ctx context.Context, w watch.Interface, judge func(*unstructured.Unstructured) (bool, error)) (bool, error) {
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return false, nil
			}
			switch ev.Type {
			case watch.Added, watch.Modified:
				obj, ok := ev.Object.(*unstructured.Unstructured)
				if !ok {
					continue
				}
				if done, err := judge(obj); done || err != nil {
					return true, err
				}
			case watch.Deleted:
				return true, nil
			case watch.Error:
				// Often an expired resource version: start over.
				c.log.Debug("watch error event", "error", apierrors.FromObject(ev.Object))
				return false, nil
			}
		}
	}
}

// watchFailed words the end of a hook watch that did not see the hook
// finish.
func (c *Client) watchFailed(ctx context.Context, r *release.Resource, timeout time.Duration, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && timeout > 0 {
		return fmt.Errorf("watching %s: timed out after %s waiting for it to finish: %w", r, timeout, context.DeadlineExceeded)
	}
	return fmt.Errorf("watching %s: %w", r, err)
}

// jobFinished: done on the Complete condition, failed on Failed.
func jobFinished(obj *unstructured.Unstructured) (bool, error) {
	var job batchv1.Job
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &job); err != nil {
		return true, fmt.Errorf("reading Job %q: %w", obj.GetName(), err)
	}
	for _, cond := range job.Status.Conditions {
		if cond.Status != corev1.ConditionTrue {
			continue
		}
		switch cond.Type {
		case batchv1.JobComplete:
			return true, nil
		case batchv1.JobFailed:
			return true, &JobFailedError{Namespace: job.Namespace, Name: job.Name, Reason: orNone(cond.Reason)}
		}
	}
	return false, nil
}

// podFinished: done when Succeeded, failed when Failed.
func podFinished(obj *unstructured.Unstructured) (bool, error) {
	phase, _, _ := unstructured.NestedString(obj.Object, "status", "phase")
	switch corev1.PodPhase(phase) {
	case corev1.PodSucceeded:
		return true, nil
	case corev1.PodFailed:
		return true, fmt.Errorf("pod %s failed", obj.GetName())
	}
	return false, nil
}
