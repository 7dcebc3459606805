package kube

import (
	"context"
	"errors"
	"io"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"pkg.dev/pkg/release"
)

var _ release.ReadinessReporter = (*Client)(nil)

// Ready reports, once and without waiting, whether each resource exists
// and is ready as Wait (with Jobs) judges it, and why not. The resources
// are read concurrently.
func (c *Client) Ready(ctx context.Context, list release.ResourceList) ([]release.ResourceState, error) {
	out := make([]release.ResourceState, len(list))
	errs := make([]error, len(list))
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallelRequests)
	for i, r := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ready, reason, err := c.readiness(ctx, r, true)
			var failed *JobFailedError
			switch {
			case apierrors.IsNotFound(err):
				out[i] = release.ResourceState{}
			case errors.As(err, &failed):
				out[i] = release.ResourceState{Exists: true, Reason: failed.Error()}
			case err != nil:
				errs[i] = err
			default:
				out[i] = release.ResourceState{Exists: true, Ready: ready, Reason: reason}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// Kinds readiness does not read (ConfigMaps, ...) exist if Get finds them.
	live, err := c.Get(ctx, list)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if live[i] == nil {
			out[i] = release.ResourceState{}
		} else if !out[i].Exists {
			out[i] = release.ResourceState{Exists: true, Ready: true}
		}
	}
	return out, nil
}

var _ release.PodLogReader = (*Client)(nil)

// PodLogs copies a Pod's log (its only or first container) to w.
func (c *Client) PodLogs(ctx context.Context, namespace, pod string, w io.Writer) error {
	rc, err := c.typed.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{}).Stream(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(w, rc)
	return err
}
