package apiserver

import (
	"context"
	"errors"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"pkg.dev/pkg/orchestrator/store"
)

// defaultPodGrace is a Pod's terminationGracePeriodSeconds when unset.
const defaultPodGrace = 30

// isPods reports whether res is the core Pod resource.
func isPods(res *Resource) bool { return res.Group == "" && res.Resource == "pods" }

// podGrace is how long the deletion of a Pod waits for its node agent,
// as kube-apiserver's pod strategy decides it: none for a Pod not bound
// to a node or already finished, else the delete's gracePeriodSeconds,
// else the Pod's terminationGracePeriodSeconds (30 s by default).
func podGrace(pod object, opts *metav1.DeleteOptions) int64 {
	if str(pod, "spec", "nodeName") == "" {
		return 0
	}
	switch str(pod, "status", "phase") {
	case "Succeeded", "Failed":
		return 0
	}
	grace := int64(defaultPodGrace)
	if v := get(pod, "spec", "terminationGracePeriodSeconds"); v != nil {
		grace = num(pod, "spec", "terminationGracePeriodSeconds")
	}
	if opts.GracePeriodSeconds != nil {
		grace = *opts.GracePeriodSeconds
	}
	if grace < 0 {
		grace = 1
	}
	return grace
}

// beginPodDelete is the graceful deletion of a Pod bound to a node: the
// Pod is only marked, deletionTimestamp set to now plus the grace period
// and deletionGracePeriodSeconds to it, and its node agent stops its
// containers within that time and then deletes it with a grace period of
// 0. A later delete may shorten the grace period, never lengthen it; one
// with a grace period of 0 (kubectl delete --force --grace-period=0)
// removes the Pod at once. handled false leaves the decision to the
// finalizer rules of beginDelete.
func (s *Server) beginPodDelete(ctx context.Context, res *Resource, cur object, kv store.KV, opts *metav1.DeleteOptions, dryRun bool) (handled, pending bool, out object, err error) {
	grace := podGrace(cur, opts)
	fs := gcFinalizers(cur, opts)
	if grace == 0 && !deleting(cur) {
		return false, false, nil, nil
	}
	if grace == 0 && len(fs) == 0 {
		return true, false, nil, nil // the agent is done, or a forced delete
	}
	next := deepCopy(cur)
	setFinalizers(next, fs)
	m := meta(next)
	now := s.now().UTC()
	deadline := now.Add(time.Duration(grace) * time.Second).Truncate(time.Second)
	switch {
	case !deleting(cur):
		m["deletionTimestamp"] = deadline.Format(time.RFC3339)
		m["deletionGracePeriodSeconds"] = grace
		if g := num(m, "generation"); g > 0 {
			m["generation"] = g + 1
		}
	default:
		old, perr := time.Parse(time.RFC3339, str(cur, "metadata", "deletionTimestamp"))
		if perr != nil || deadline.Before(old) || grace == 0 {
			m["deletionTimestamp"] = deadline.Format(time.RFC3339)
			m["deletionGracePeriodSeconds"] = grace
		}
	}
	if equalJSON(next, cur) || dryRun {
		return true, true, next, nil
	}
	data, err := storedBytes(next)
	if err != nil {
		return true, true, nil, err
	}
	name := str(cur, "metadata", "name")
	got, err := s.cfg.Store.Update(ctx, kv.Key, data, kv.ModRev)
	switch {
	case errors.Is(err, store.ErrConflict):
		return true, true, nil, racedError{errConflict(res, name)}
	case errors.Is(err, store.ErrNotFound):
		return true, true, nil, apierrors.NewNotFound(res.GroupResource(), name)
	case err != nil:
		return true, true, nil, err
	}
	meta(next)["resourceVersion"] = strconv.FormatInt(got.ModRev, 10)
	return true, true, next, nil
}
