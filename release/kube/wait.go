package kube

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"pkg.dev/pkg/release"
)

// DefaultWaitTimeout bounds Wait when WaitOptions.Timeout is zero: Helm's
// default --timeout.
const DefaultWaitTimeout = 5 * time.Minute

// maxReadRetries is how many polls in a row a resource's state may fail to
// be read with a transient error before a wait gives up, as Helm allows.
const maxReadRetries = 30

// Wait polls every resource of list until all are ready as Helm judges
// readiness, or until opts.Timeout (DefaultWaitTimeout when zero) has
// passed. After each poll that finds resources not ready, it calls
// opts.Progress with them and why. A failed Job (with opts.Jobs) and an
// API error that will not go away (a missing object, a refused request)
// end the wait at once; transient errors are retried.
func (c *Client) Wait(ctx context.Context, list release.ResourceList, opts release.WaitOptions) error {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultWaitTimeout
	}
	c.log.Debug("waiting for resources to be ready", "count", len(list), "timeout", timeout)
	return c.poll(ctx, "ready", timeout, list, opts.Progress, func(ctx context.Context, r *release.Resource) (bool, string, error) {
		return c.readiness(ctx, r, opts.Jobs)
	})
}

// WaitForDelete polls until every resource of list is gone, or until
// timeout has passed.
func (c *Client) WaitForDelete(ctx context.Context, list release.ResourceList, timeout time.Duration) error {
	return c.waitForDelete(ctx, list, timeout)
}

func (c *Client) waitForDelete(ctx context.Context, list release.ResourceList, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = DefaultWaitTimeout
	}
	return c.poll(ctx, "deleted", timeout, list, nil, func(ctx context.Context, r *release.Resource) (bool, string, error) {
		obj, err := c.live(ctx, r)
		if err != nil {
			return false, "", errors.Unwrap(err)
		}
		if obj == nil {
			return true, "", nil
		}
		if obj.GetDeletionTimestamp() != nil {
			if f := obj.GetFinalizers(); len(f) > 0 {
				return false, "being deleted, waiting for finalizers " + strings.Join(f, ", "), nil
			}
			return false, "being deleted", nil
		}
		return false, "still exists", nil
	})
}

// check tells whether one resource is there yet and, if not, why.
type check func(ctx context.Context, r *release.Resource) (bool, string, error)

// poll runs check on every resource each poll interval until all pass,
// the timeout passes (a WaitTimeoutError) or a check fails for good.
func (c *Client) poll(ctx context.Context, op string, timeout time.Duration, list release.ResourceList, progress func([]release.Pending), ok check) error {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	failures := make([]int, len(list))
	var last []release.Pending
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-wctx.Done():
			return c.waitEnded(ctx, op, timeout, last, list)
		case <-timer.C:
		}
		var pending []release.Pending
		for i, r := range list {
			done, reason, err := ok(wctx, r)
			if err != nil {
				if wctx.Err() != nil {
					return c.waitEnded(ctx, op, timeout, last, list)
				}
				failures[i]++
				if !retryable(err) || failures[i] > maxReadRetries {
					return fmt.Errorf("waiting for %s to be %s: %w", r, op, err)
				}
				c.log.Debug("retrying after an error reading a resource", "resource", r.String(), "error", err)
				pending = append(pending, release.Pending{Resource: r, Reason: "cannot read its state: " + err.Error()})
				continue
			}
			failures[i] = 0
			if !done {
				pending = append(pending, release.Pending{Resource: r, Reason: reason})
			}
		}
		if len(pending) == 0 {
			return nil
		}
		last = pending
		if progress != nil {
			progress(pending)
		}
		timer.Reset(c.interval)
	}
}

// waitEnded is the error of a wait whose context ended: the caller's own
// cancellation, or the timeout with what was still pending.
func (c *Client) waitEnded(ctx context.Context, op string, timeout time.Duration, pending []release.Pending, list release.ResourceList) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("waiting for %d resource(s) to be %s: %w", len(list), op, err)
	}
	if pending == nil {
		for _, r := range list {
			pending = append(pending, release.Pending{Resource: r, Reason: "not checked yet"})
		}
	}
	return &WaitTimeoutError{Op: op, Timeout: timeout, Pending: pending}
}

// retryable tells whether an error reading a resource may go away: an
// API status of 429 or 5xx (but 501), or an error that is no API status
// (a connection problem). A failed Job is never retried.
func retryable(err error) bool {
	var jf *JobFailedError
	if errors.As(err, &jf) {
		return false
	}
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		return true
	}
	code := st.Status().Code
	return code == 0 || code == http.StatusTooManyRequests || (code >= 500 && code != http.StatusNotImplemented)
}
