package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"pkg.dev/pkg/orchestrator/store"
)

// getObject reads one object, mapping a missing one to a NotFound Status.
func (s *Server) getObject(ctx context.Context, res *Resource, ns, name string) (object, store.KV, error) {
	kv, err := s.cfg.Store.Get(ctx, res.key(ns, name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, kv, apierrors.NewNotFound(res.GroupResource(), name)
	}
	if err != nil {
		return nil, kv, err
	}
	o, err := fromKV(kv)
	return res.servedForm(o), kv, err
}

// serveGet answers GET of one object or of its status.
func (s *Server) serveGet(w http.ResponseWriter, r *http.Request, req request) {
	o, _, err := s.getObject(r.Context(), req.res, req.ns, req.name)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.writeObjects(w, r, req.wire(), o, nil, metav1.ListMeta{ResourceVersion: str(o, "metadata", "resourceVersion")})
}

// listPage is the result of a filtered list.
type listPage struct {
	items []object
	rev   int64
	cont  string
	// remaining is how many objects follow in the store, selected or
	// not.
	remaining int64
}

// listMeta is the metadata of a list page: remainingItemCount is given,
// as kube-apiserver gives it, only when there is a next page and the
// count is exact, that is when no selector filtered the list.
func listMeta(rev int64, cont string, remaining int64, exact bool) metav1.ListMeta {
	lm := metav1.ListMeta{ResourceVersion: strconv.FormatInt(rev, 10), Continue: cont}
	if cont != "" && exact {
		lm.RemainingItemCount = &remaining
	}
	return lm
}

// list reads the objects under the resource's prefix in ns that sel
// selects. With a limit it returns at most that many selected objects and
// a continue token for the rest; store pages are fetched until the page
// is full so that selectors do not leave pages short.
func (s *Server) list(ctx context.Context, res *Resource, ns string, sel *selector, limit int64, cont string) (listPage, error) {
	var page listPage
	prefix := res.keyPrefix(ns)
	for {
		want := int64(0)
		if limit > 0 {
			want = limit - int64(len(page.items))
		}
		got, err := s.cfg.Store.List(ctx, prefix, store.ListOptions{Limit: want, Continue: cont})
		if err != nil {
			if errors.Is(err, store.ErrCompacted) {
				return page, apierrors.NewResourceExpired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.")
			}
			if errors.Is(err, store.ErrInvalid) {
				return page, apierrors.NewBadRequest(fmt.Sprintf("invalid continue token: %v", err))
			}
			return page, err
		}
		if page.rev == 0 {
			page.rev = got.Rev
		}
		for _, kv := range got.Items {
			o, err := fromKV(kv)
			if err != nil {
				return page, err
			}
			res.servedForm(o)
			if sel == nil || sel.matches(o) {
				page.items = append(page.items, o)
			}
		}
		cont = got.Continue
		if cont == "" || (limit > 0 && int64(len(page.items)) >= limit) {
			page.cont, page.remaining = cont, got.Remaining
			return page, nil
		}
	}
}

// serveList answers a list.
func (s *Server) serveList(w http.ResponseWriter, r *http.Request, req request) {
	q := r.URL.Query()
	sel, err := parseSelector(req.res, q)
	if err != nil {
		s.fail(w, err)
		return
	}
	var limit int64
	if l := q.Get("limit"); l != "" {
		limit, err = strconv.ParseInt(l, 10, 64)
		if err != nil || limit < 0 {
			s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("invalid limit %q", l)))
			return
		}
	}
	if sel.labelsOnly() && req.served == nil && negotiate(r.Header.Get("Accept"), true, false) == mediaJSON &&
		s.serveRawList(r.Context(), w, req.res, req.ns, sel.labels, limit, q.Get("continue")) {
		return
	}
	page, err := s.list(r.Context(), req.res, req.ns, sel, limit, q.Get("continue"))
	if err != nil {
		s.fail(w, err)
		return
	}
	if page.items == nil {
		page.items = []object{}
	}
	lm := listMeta(page.rev, page.cont, page.remaining, sel.selectsAll())
	s.writeObjects(w, r, req.wire(), nil, page.items, lm)
}
