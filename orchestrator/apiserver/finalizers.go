package apiserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"pkg.dev/pkg/orchestrator/store"
)

// namespaceFinalizer is the entry of a Namespace's spec.finalizers that
// the namespace controller removes once the namespace is empty.
const namespaceFinalizer = "kubernetes"

// isNamespaces reports whether res is the core Namespace resource.
func isNamespaces(res *Resource) bool { return res.Group == "" && res.Resource == "namespaces" }

// finalizers returns the object's metadata.finalizers.
func finalizers(o object) []string {
	var out []string
	for _, v := range slice(o, "metadata", "finalizers") {
		if f, ok := v.(string); ok {
			out = append(out, f)
		}
	}
	return out
}

// setFinalizers replaces the object's metadata.finalizers; an empty list
// removes the field.
func setFinalizers(o object, fs []string) {
	m := meta(o)
	if len(fs) == 0 {
		delete(m, "finalizers")
		return
	}
	list := make([]any, len(fs))
	for i, f := range fs {
		list[i] = f
	}
	m["finalizers"] = list
}

// specFinalizers returns a Namespace's spec.finalizers.
func specFinalizers(o object) []string {
	var out []string
	for _, v := range slice(o, "spec", "finalizers") {
		if f, ok := v.(string); ok {
			out = append(out, f)
		}
	}
	return out
}

// deleting reports whether the object has a deletionTimestamp.
func deleting(o object) bool { return str(o, "metadata", "deletionTimestamp") != "" }

// finalized reports whether an object being deleted has nothing left to
// wait for and may be removed: no finalizers, and no grace period (a Pod
// being deleted gracefully waits for its node agent).
func finalized(res *Resource, o object) bool {
	if !deleting(o) || len(finalizers(o)) > 0 || num(o, "metadata", "deletionGracePeriodSeconds") > 0 {
		return false
	}
	return !isNamespaces(res) || len(specFinalizers(o)) == 0
}

// gcFinalizers returns the finalizers the object should carry after a
// delete with opts, applying the propagation policy as the garbage
// collector's orphan and foregroundDeletion finalizers, the way
// kube-apiserver does.
func gcFinalizers(o object, opts *metav1.DeleteOptions) []string {
	orphan, foreground := false, false
	decided := false
	//nolint:staticcheck // OrphanDependents is deprecated but still honoured.
	if opts.OrphanDependents != nil {
		orphan, decided = *opts.OrphanDependents, true
	} else if opts.PropagationPolicy != nil {
		switch *opts.PropagationPolicy {
		case metav1.DeletePropagationOrphan:
			orphan, decided = true, true
		case metav1.DeletePropagationForeground:
			foreground, decided = true, true
		case metav1.DeletePropagationBackground:
			decided = true
		}
	}
	cur := finalizers(o)
	if !decided {
		orphan = slices.Contains(cur, metav1.FinalizerOrphanDependents)
		foreground = !orphan && slices.Contains(cur, metav1.FinalizerDeleteDependents)
	}
	var out []string
	for _, f := range cur {
		if f != metav1.FinalizerOrphanDependents && f != metav1.FinalizerDeleteDependents {
			out = append(out, f)
		}
	}
	if orphan {
		out = append(out, metav1.FinalizerOrphanDependents)
	}
	if foreground {
		out = append(out, metav1.FinalizerDeleteDependents)
	}
	return out
}

// checkDeleteOptions refuses DeleteOptions Kubernetes refuses: an unknown
// propagation policy, or one given with orphanDependents.
func checkDeleteOptions(opts *metav1.DeleteOptions) error {
	if opts.PropagationPolicy == nil && opts.OrphanDependents == nil { //nolint:staticcheck // still honoured
		return nil
	}
	if errs := metav1validation.ValidateDeleteOptions(opts); len(errs) > 0 {
		return apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: "DeleteOptions"}, "", errs)
	}
	return nil
}

// beginDelete decides what deleting cur does. Objects left with
// finalizers after the propagation policy is applied, and Namespaces, are
// only marked (deletionTimestamp, deletionGracePeriodSeconds 0, and phase
// Terminating for a Namespace) and returned with pending true; the caller
// removes the others at once.
func (s *Server) beginDelete(ctx context.Context, res *Resource, cur object, kv store.KV, opts *metav1.DeleteOptions, dryRun bool) (pending bool, out object, err error) {
	if err := checkDeleteOptions(opts); err != nil {
		return true, nil, err
	}
	if isPods(res) {
		if handled, pending, out, err := s.beginPodDelete(ctx, res, cur, kv, opts, dryRun); handled {
			return pending, out, err
		}
	}
	next := deepCopy(cur)
	fs := gcFinalizers(cur, opts)
	if deleting(cur) {
		// Finalizers may be changed by a new delete only before deletion
		// has started, except the garbage collector's own.
		setFinalizers(next, fs)
	} else {
		if len(fs) == 0 && !isNamespaces(res) {
			return false, nil, nil
		}
		setFinalizers(next, fs)
		m := meta(next)
		m["deletionTimestamp"] = s.now().UTC().Truncate(time.Second).Format(time.RFC3339)
		m["deletionGracePeriodSeconds"] = int64(0)
		if g := num(m, "generation"); g > 0 {
			m["generation"] = g + 1
		}
	}
	if isNamespaces(res) {
		st := mapOf(next, "status")
		if st == nil {
			st = map[string]any{}
			next["status"] = st
		}
		st["phase"] = "Terminating"
	}
	if equalJSON(next, cur) || dryRun {
		return true, next, nil
	}
	data, err := storedBytes(next)
	if err != nil {
		return true, nil, err
	}
	name := str(cur, "metadata", "name")
	got, err := s.cfg.Store.Update(ctx, kv.Key, data, kv.ModRev)
	switch {
	case errors.Is(err, store.ErrConflict):
		return true, nil, racedError{errConflict(res, name)}
	case errors.Is(err, store.ErrNotFound):
		return true, nil, apierrors.NewNotFound(res.GroupResource(), name)
	case err != nil:
		return true, nil, err
	}
	meta(next)["resourceVersion"] = strconv.FormatInt(got.ModRev, 10)
	return true, next, nil
}

// admitUpdate applies the rules of updates beyond merge: a Service's
// allocations (admitService), no new finalizers on an object being
// deleted, and a Namespace's spec.finalizers changed only through its
// finalize subresource. The returned function is called with whether the
// update was stored.
func (s *Server) admitUpdate(ctx context.Context, res *Resource, sub string, cur, next object, dryRun bool) (func(bool), error) {
	if isPriorityClasses(res) && sub == "" {
		if err := s.admitPriorityClass(ctx, res, next); err != nil {
			return nil, err
		}
	}
	if isNamespaces(res) && sub != "finalize" && sub != "status" {
		spec := mapOf(next, "spec")
		if spec == nil {
			spec = map[string]any{}
			next["spec"] = spec
		}
		if v, ok := get(cur, "spec", "finalizers").([]any); ok {
			spec["finalizers"] = v
		} else {
			delete(spec, "finalizers")
		}
		if len(spec) == 0 {
			delete(next, "spec")
		}
	}
	if deleting(cur) {
		var added []string
		old := finalizers(cur)
		for _, f := range finalizers(next) {
			if !slices.Contains(old, f) {
				added = append(added, f)
			}
		}
		if len(added) > 0 {
			return keepAll, apierrors.NewInvalid(res.GroupVersionKind().GroupKind(), str(cur, "metadata", "name"), field.ErrorList{
				field.Forbidden(field.NewPath("metadata", "finalizers"), fmt.Sprintf("no new finalizers can be added if the object is being deleted, found new finalizers %#v", added)),
			})
		}
	}
	if sub == "status" {
		return keepAll, nil
	}
	return s.admitService(res, cur, next, dryRun)
}

// storeUpdate stores next over the stored kv, or, when next is being
// deleted and its last finalizer is gone, removes it.
func (s *Server) storeUpdate(ctx context.Context, res *Resource, kv store.KV, next object, data []byte) (store.KV, error) {
	if !finalized(res, next) {
		return s.cfg.Store.Update(ctx, kv.Key, data, kv.ModRev)
	}
	gone, err := s.cfg.Store.Delete(ctx, kv.Key, kv.ModRev)
	if err == nil {
		s.releaseService(res, next)
		s.afterWrite(ctx, res, next, true)
	}
	return gone, err
}

// namespaceOpen checks that namespace ns exists and is not being
// terminated before an object named name of res is created in it.
func (s *Server) namespaceOpen(ctx context.Context, res *Resource, ns, name string) error {
	if !res.Namespaced {
		return nil
	}
	o, _, err := s.getObject(ctx, s.byGV["v1"]["namespaces"], "", ns)
	if err != nil {
		return err
	}
	if !deleting(o) && str(o, "status", "phase") != "Terminating" {
		return nil
	}
	e := apierrors.NewForbidden(res.GroupResource(), name, fmt.Errorf("unable to create new content in namespace %s because it is being terminated", ns))
	if e.ErrStatus.Details != nil {
		e.ErrStatus.Details.Causes = append(e.ErrStatus.Details.Causes, metav1.StatusCause{
			Type:    "NamespaceTerminating",
			Message: fmt.Sprintf("namespace %s is being terminated", ns),
			Field:   "metadata.namespace",
		})
	}
	return e
}

// admitCreate applies the rules of creates beyond defaulting: a new
// Namespace gets the kubernetes finalizer in spec.finalizers, and a
// Service its allocations (admitService). The returned function is called
// with whether the object was stored.
func (s *Server) admitCreate(ctx context.Context, res *Resource, o object, dryRun bool) (func(bool), error) {
	switch {
	case isPods(res):
		if err := s.admitPodPriority(ctx, res, o); err != nil {
			return nil, err
		}
		if s.cfg.ServiceAccounts {
			if err := s.admitPodServiceAccount(ctx, res, o); err != nil {
				return nil, err
			}
		}
	case res.Group == "" && res.Resource == "secrets":
		if err := s.admitServiceAccountTokenSecret(ctx, res, o); err != nil {
			return nil, err
		}
	case isPriorityClasses(res):
		if err := s.admitPriorityClass(ctx, res, o); err != nil {
			return nil, err
		}
	}
	if isNamespaces(res) {
		spec := mapOf(o, "spec")
		if spec == nil {
			spec = map[string]any{}
			o["spec"] = spec
		}
		if _, ok := spec["finalizers"]; !ok {
			spec["finalizers"] = []any{namespaceFinalizer}
		}
	}
	return s.admitService(res, nil, o, dryRun)
}
