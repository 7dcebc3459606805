package kube

import (
	"context"
	"fmt"
	"strings"
	"time"

	"pkg.dev/pkg/release"
)

// UnknownKindError reports a manifest object whose kind the API server
// does not serve, typically a custom resource whose CRD is not installed.
type UnknownKindError struct {
	// Name, APIVersion and Kind are the object's.
	Name, APIVersion, Kind string
	// Source is the template the object came from (the document's
	// "# Source:" comment), "" when the document has none.
	Source string
	// Err is the mapper's error.
	Err error
}

// Error says which object and kind, where it came from and what to do,
// worded after Helm's message.
func (e *UnknownKindError) Error() string {
	from := ""
	if e.Source != "" {
		from = fmt.Sprintf(" from %q", e.Source)
	}
	return fmt.Sprintf("resource mapping not found for name %q%s: no matches for kind %q in version %q: install its CustomResourceDefinition (CRD) first", e.Name, from, e.Kind, e.APIVersion)
}

// Unwrap returns the mapper's error.
func (e *UnknownKindError) Unwrap() error { return e.Err }

// JobFailedError says a Job a wait needed complete has failed.
type JobFailedError struct {
	// Namespace and Name are the Job's.
	Namespace, Name string
	// Reason is the Failed condition's reason when known
	// ("BackoffLimitExceeded").
	Reason string
}

// Error reads as Helm's messages: "job is failed: NS/NAME" while waiting,
// "job NAME failed: REASON" for hooks.
func (e *JobFailedError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("job %s failed: %s", e.Name, e.Reason)
	}
	return fmt.Sprintf("job is failed: %s/%s", e.Namespace, e.Name)
}

// WaitTimeoutError says a wait ran out of time and what it still waited
// for. It wraps context.DeadlineExceeded.
type WaitTimeoutError struct {
	// Op is what was waited for ("ready", "deleted").
	Op string
	// Timeout is the wait's bound.
	Timeout time.Duration
	// Pending are the resources that were not there yet, with why.
	Pending []release.Pending
}

// Error lists the pending resources and their reasons.
func (e *WaitTimeoutError) Error() string {
	parts := make([]string, len(e.Pending))
	for i, p := range e.Pending {
		parts[i] = p.Resource.String() + ": " + p.Reason
	}
	return fmt.Sprintf("timed out after %s waiting for %d resource(s) to be %s: %s", e.Timeout, len(e.Pending), e.Op, strings.Join(parts, "; "))
}

// Unwrap returns context.DeadlineExceeded.
func (e *WaitTimeoutError) Unwrap() error { return context.DeadlineExceeded }
