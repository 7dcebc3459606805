package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"pkg.dev/pkg/orchestrator/store"
)

// initialEventsEndAnnotation marks the bookmark that ends the initial
// events of a sendInitialEvents watch.
const initialEventsEndAnnotation = "k8s.io/initial-events-end"

// watchStream writes the events of one watch response.
type watchStream struct {
	s       *Server
	w       http.ResponseWriter
	flusher http.Flusher
	res     *Resource
	sel     *selector
	mode    media  // mediaJSON, mediaTable or mediaPartial
	include string // includeObject of table events
}

// serveWatch answers a watch: ?watch=true on a list or a /watch/ path.
// Without a resourceVersion (or with "0") the current objects are sent as
// ADDED events first; with sendInitialEvents=true they are followed by a
// bookmark annotated k8s.io/initial-events-end.
func (s *Server) serveWatch(w http.ResponseWriter, r *http.Request, req request) {
	q := r.URL.Query()
	sel, err := parseSelector(req.res, q)
	if err != nil {
		s.fail(w, err)
		return
	}
	sel.name = req.name
	if n := fieldName(q.Get("fieldSelector")); req.name == "" && n != "" {
		sel.name = n
	}
	mode := negotiate(r.Header.Get("Accept"), true, false)
	if mode == mediaNone {
		s.fail(w, errNotAcceptable())
		return
	}
	bookmarks := boolParam(r, "allowWatchBookmarks")
	rv := q.Get("resourceVersion")
	initial := rv == "" || rv == "0"
	sendInitial := q.Get("sendInitialEvents")
	if sendInitial != "" {
		if !bookmarks || q.Get("resourceVersionMatch") != string(metav1.ResourceVersionMatchNotOlderThan) {
			s.fail(w, apierrors.NewBadRequest("sendInitialEvents requires allowWatchBookmarks=true and resourceVersionMatch=NotOlderThan"))
			return
		}
		initial = sendInitial == "true"
	}
	timeout := s.cfg.WatchTimeout
	if t := q.Get("timeoutSeconds"); t != "" {
		if n, err := strconv.ParseInt(t, 10, 64); err == nil && n > 0 {
			timeout = time.Duration(n) * time.Second
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()

	var from int64
	var items []object
	if initial {
		page, err := s.list(ctx, req.res, req.ns, sel, 0, "")
		if err != nil {
			s.fail(w, err)
			return
		}
		items, from = page.items, page.rev
	} else if rv != "" && rv != "0" {
		if from, err = strconv.ParseInt(rv, 10, 64); err != nil || from < 0 {
			s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("invalid resource version %q", rv)))
			return
		}
	}
	if cur, ok := s.waitRevision(ctx, from); !ok {
		s.fail(w, apierrors.NewTimeoutError(fmt.Sprintf("Too large resource version: %d, current: %d", from, cur), 1))
		return
	}
	watcher, werr := s.cfg.Store.Watch(ctx, req.res.keyPrefix(req.ns), from)
	if werr != nil && !errors.Is(werr, store.ErrCompacted) {
		s.fail(w, werr)
		return
	}
	ws := &watchStream{s: s, w: w, res: req.wire(), sel: sel, mode: mode, include: q.Get("includeObject")}
	ws.flusher, _ = w.(http.Flusher)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Transfer-Encoding", "chunked")
	w.WriteHeader(http.StatusOK)
	if werr != nil {
		ws.sendError(apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %d", from)))
		return
	}
	defer watcher.Stop()
	for _, o := range items {
		if !ws.send("ADDED", o) {
			return
		}
	}
	if sendInitial == "true" {
		if !ws.bookmark(from, true) {
			return
		}
	}
	ws.flush()
	var tick <-chan time.Time
	if bookmarks {
		t := time.NewTicker(s.cfg.BookmarkInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			watcher.Bookmark()
		case ev, ok := <-watcher.Events():
			if !ok || !ws.event(ev, bookmarks) {
				return
			}
		}
	}
}

// fieldName returns X when a field selector is exactly metadata.name=X.
func fieldName(fs string) string {
	const p = "metadata.name="
	if len(fs) > len(p) && fs[:len(p)] == p {
		for _, c := range fs[len(p):] {
			if c == ',' || c == '=' || c == '!' {
				return ""
			}
		}
		return fs[len(p):]
	}
	return ""
}

// event relays one store event; false ends the watch.
func (ws *watchStream) event(ev store.Event, bookmarks bool) bool {
	switch ev.Type {
	case store.EventBookmark:
		if !bookmarks {
			return true
		}
		return ws.bookmark(ev.Rev, false)
	case store.EventError:
		err := ev.Err
		if errors.Is(err, store.ErrCompacted) {
			err = apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %d", ev.Rev))
		}
		ws.sendError(err)
		return false
	}
	o, err := fromKV(ev.Object)
	if err != nil {
		ws.sendError(err)
		return false
	}
	ws.res.servedForm(o)
	typ := ev.Type.String()
	now := ws.sel.matches(o)
	if ev.Type == store.EventModified && ev.Prev != nil {
		was := true
		if !ws.sel.labels.Empty() || !ws.sel.fields.Empty() {
			if prev, err := fromKV(*ev.Prev); err == nil {
				was = ws.sel.matches(prev)
			}
		}
		switch {
		case now && !was:
			typ = "ADDED"
		case !now && was:
			typ, now = "DELETED", true
		}
	}
	if !now {
		return true
	}
	if ev.Type == store.EventDeleted {
		meta(o)["resourceVersion"] = strconv.FormatInt(ev.Rev, 10)
	}
	ok := ws.send(typ, o)
	ws.flush()
	return ok
}

// bookmark sends a BOOKMARK event at rev.
func (ws *watchStream) bookmark(rev int64, initialEnd bool) bool {
	m := map[string]any{"resourceVersion": strconv.FormatInt(rev, 10)}
	if initialEnd {
		m["annotations"] = map[string]any{initialEventsEndAnnotation: "true"}
	}
	o := object{"apiVersion": ws.res.APIVersion(), "kind": ws.res.Kind, "metadata": m}
	if ws.mode == mediaPartial {
		o = partial(o)
	}
	ok := ws.write("BOOKMARK", o)
	ws.flush()
	return ok
}

// send writes an object event, as a Table or partial metadata when the
// client asked for one. o is in its stored form, converted to the watched
// version (conversion.go).
func (ws *watchStream) send(typ string, o object) bool {
	if ws.mode != mediaTable {
		wo, err := ws.res.wireForm(o)
		if err != nil {
			ws.sendError(err)
			return false
		}
		if ws.mode == mediaPartial {
			return ws.write(typ, partial(wo))
		}
		return ws.write(typ, wo)
	}
	t, err := ws.s.table(ws.res, []object{o}, metav1.ListMeta{ResourceVersion: str(o, "metadata", "resourceVersion")}, ws.include, true)
	if err != nil {
		ws.sendError(err)
		return false
	}
	return ws.write(typ, t)
}

// sendError writes an ERROR event carrying err as a Status.
func (ws *watchStream) sendError(err error) {
	ws.write("ERROR", statusOf(err))
	ws.flush()
}

// write writes one event line; false when the client has gone.
func (ws *watchStream) write(typ string, obj any) bool {
	data, err := json.Marshal(struct {
		Type   string `json:"type"`
		Object any    `json:"object"`
	}{typ, obj})
	if err != nil {
		return false
	}
	_, err = ws.w.Write(append(data, '\n'))
	return err == nil
}

// flush pushes buffered events to the client.
func (ws *watchStream) flush() {
	if ws.flusher != nil {
		ws.flusher.Flush()
	}
}

// freshWait is how long a watch from a resourceVersion the store has not
// published yet waits for it, as kube-apiserver's watch cache waits
// before answering "Too large resource version".
const freshWait = 3 * time.Second

// waitRevision waits until the store's revision reaches rev: a client may
// hold a resourceVersion from a write acknowledged a moment before the
// store's watchers were told of it. It returns the revision last seen and
// whether it reached rev.
func (s *Server) waitRevision(ctx context.Context, rev int64) (int64, bool) {
	cur := s.cfg.Store.Revision()
	if rev <= cur {
		return cur, true
	}
	deadline := time.NewTimer(freshWait)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if cur = s.cfg.Store.Revision(); rev <= cur {
				return cur, true
			}
		case <-deadline.C:
			return s.cfg.Store.Revision(), false
		case <-ctx.Done():
			return s.cfg.Store.Revision(), false
		}
	}
}
