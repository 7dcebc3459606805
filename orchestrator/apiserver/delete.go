package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"pkg.dev/pkg/orchestrator/store"
)

// readDeleteOptions reads the optional DeleteOptions body of a delete; a
// dryRun there counts as one in the query.
func (s *Server) readDeleteOptions(r *http.Request, req *request) (metav1.DeleteOptions, error) {
	var opts metav1.DeleteOptions
	data, err := s.readJSON(r)
	if err != nil || len(data) == 0 {
		return opts, err
	}
	if err := json.Unmarshal(data, &opts); err != nil {
		return opts, apierrors.NewBadRequest(fmt.Sprintf("decoding DeleteOptions: %v", err))
	}
	for _, v := range opts.DryRun {
		if v != metav1.DryRunAll {
			return opts, apierrors.NewBadRequest(fmt.Sprintf("unsupported dryRun value %q: only All is supported", v))
		}
		req.dryRun = true
	}
	return opts, nil
}

// serveDelete answers DELETE of one object.
func (s *Server) serveDelete(w http.ResponseWriter, r *http.Request, req request) {
	opts, err := s.readDeleteOptions(r, &req)
	if err != nil {
		s.fail(w, err)
		return
	}
	out, err := s.delete(r.Context(), req.res, req.ns, req.name, &opts, req.dryRun)
	if err != nil {
		s.fail(w, err)
		return
	}
	if req.res.ReturnDeleted || deleting(out) {
		s.writeObject(w, http.StatusOK, req.wire(), out)
		return
	}
	writeJSON(w, http.StatusOK, successStatus(req.res, req.name, str(out, "metadata", "uid")))
}

// delete removes one object, checking the preconditions, and returns its
// last state. Objects with finalizers, those deleted with the Orphan or
// Foreground policy, and Namespaces are only marked as being deleted
// (beginDelete) and returned in that state. A dry run checks and answers
// without deleting.
//
// A write that lands between the read and the delete (a status update,
// a controller's) makes the store refuse it; as kube-apiserver's
// conditional delete does, it is tried again on the new state, unless the
// caller pinned a resourceVersion. Clients do not expect a 409 for a
// plain DELETE: the node agent's final delete of a Pod, refused that way,
// left the Pod Terminating.
func (s *Server) delete(ctx context.Context, res *Resource, ns, name string, opts *metav1.DeleteOptions, dryRun bool) (object, error) {
	if opts == nil {
		opts = &metav1.DeleteOptions{}
	}
	pinned := opts.Preconditions != nil && opts.Preconditions.ResourceVersion != nil
	for attempt := 1; ; attempt++ {
		out, err := s.deleteOnce(ctx, res, ns, name, opts, dryRun)
		var raced racedError
		if !errors.As(err, &raced) {
			return out, err
		}
		if pinned || attempt == maxDeleteAttempts || ctx.Err() != nil {
			return nil, raced.error
		}
	}
}

// maxDeleteAttempts bounds the retries of a raced write by delete and by
// an unconditional update.
const maxDeleteAttempts = 20

// racedError is a write the store refused because the object changed
// after it was read (not a failed precondition).
type racedError struct{ error }

func (e racedError) Unwrap() error { return e.error }

func (s *Server) deleteOnce(ctx context.Context, res *Resource, ns, name string, opts *metav1.DeleteOptions, dryRun bool) (object, error) {
	pre := opts.Preconditions
	if res.Resource == "namespaces" && res.Group == "" {
		for _, sys := range []string{"default", "kube-system", "kube-public"} {
			if name == sys {
				return nil, apierrors.NewForbidden(res.GroupResource(), name, errors.New("this namespace may not be deleted"))
			}
		}
	}
	cur, kv, err := s.getObject(ctx, res, ns, name)
	if err != nil {
		return nil, err
	}
	if pre != nil && pre.UID != nil && string(*pre.UID) != str(cur, "metadata", "uid") {
		return nil, apierrors.NewConflict(res.GroupResource(), name,
			fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *pre.UID, str(cur, "metadata", "uid")))
	}
	if pre != nil && pre.ResourceVersion != nil && *pre.ResourceVersion != str(cur, "metadata", "resourceVersion") {
		return nil, apierrors.NewConflict(res.GroupResource(), name,
			fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in meta: %v", *pre.ResourceVersion, str(cur, "metadata", "resourceVersion")))
	}
	if pending, out, err := s.beginDelete(ctx, res, cur, kv, opts, dryRun); pending || err != nil {
		return out, err
	}
	if dryRun {
		return cur, nil
	}
	gone, err := s.cfg.Store.Delete(ctx, kv.Key, kv.ModRev)
	switch {
	case errors.Is(err, store.ErrConflict):
		return nil, racedError{errConflict(res, name)}
	case errors.Is(err, store.ErrNotFound):
		return nil, apierrors.NewNotFound(res.GroupResource(), name)
	case err != nil:
		return nil, err
	}
	if gone.ModRev > kv.ModRev {
		meta(cur)["resourceVersion"] = strconv.FormatInt(gone.ModRev, 10)
	}
	s.releaseService(res, cur)
	s.afterWrite(ctx, res, cur, true)
	return cur, nil
}

// emptyNamespace deletes every object in namespace ns; the namespace
// controller (gc.go) calls it for a Terminating namespace.
func (s *Server) emptyNamespace(ctx context.Context, ns string) error {
	all := s.allResources()
	for i := range all {
		res := &all[i]
		if !res.Namespaced || res.storedElsewhere() {
			continue
		}
		page, err := s.list(ctx, res, ns, nil, 0, "")
		if err != nil {
			return err
		}
		for _, o := range page.items {
			if _, err := s.delete(ctx, res, ns, str(o, "metadata", "name"), nil, false); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("emptying namespace %s: %w", ns, err)
			}
		}
	}
	return nil
}

// serveDeleteCollection answers DELETE of a collection: every selected
// object is deleted and the list of them is returned.
func (s *Server) serveDeleteCollection(w http.ResponseWriter, r *http.Request, req request) {
	opts, err := s.readDeleteOptions(r, &req)
	if err != nil {
		s.fail(w, err)
		return
	}
	sel, err := parseSelector(req.res, r.URL.Query())
	if err != nil {
		s.fail(w, err)
		return
	}
	page, err := s.list(r.Context(), req.res, req.ns, sel, 0, "")
	if err != nil {
		s.fail(w, err)
		return
	}
	deleted := []object{}
	for _, o := range page.items {
		out, err := s.delete(r.Context(), req.res, str(o, "metadata", "namespace"), str(o, "metadata", "name"), &opts, req.dryRun)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			s.fail(w, err)
			return
		}
		deleted = append(deleted, out)
	}
	if deleted, err = req.wire().wireForms(deleted); err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"apiVersion": req.wire().APIVersion(),
		"kind":       req.res.Kind + "List",
		"metadata":   metav1.ListMeta{ResourceVersion: strconv.FormatInt(page.rev, 10)},
		"items":      deleted,
	})
}
