package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// EventType says what an Event reports.
type EventType int

// Event types. Their String forms are Kubernetes' watch event types.
const (
	// EventAdded reports a created object.
	EventAdded EventType = iota + 1
	// EventModified reports an updated object.
	EventModified
	// EventDeleted reports a deleted object.
	EventDeleted
	// EventBookmark carries only a revision: the watcher has been sent
	// every change up to it.
	EventBookmark
	// EventError ends a watch; Event.Err says why. The channel is closed
	// right after it.
	EventError
)

// String returns ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.
func (t EventType) String() string {
	switch t {
	case EventAdded:
		return "ADDED"
	case EventModified:
		return "MODIFIED"
	case EventDeleted:
		return "DELETED"
	case EventBookmark:
		return "BOOKMARK"
	case EventError:
		return "ERROR"
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// Event is one change delivered by a Watcher. Its byte slices are shared by
// every watcher and the history: read them, never modify them.
type Event struct {
	// Type says what happened.
	Type EventType
	// Rev is the revision of the change, or the current revision for a
	// bookmark.
	Rev int64
	// Object is the object as the event reports it, with Object.ModRev ==
	// Rev: the new state for EventAdded and EventModified, the last state
	// for EventDeleted (as Kubernetes reports deletions). Empty for
	// bookmarks and errors.
	Object KV
	// Prev is the state before the change, nil for EventAdded.
	Prev *KV
	// Err is the reason an EventError ended the watch.
	Err error
}

// hub owns the history and the watchers, and fans published events out to
// them. Publishing never blocks on a watcher.
type hub struct {
	mu        sync.Mutex
	published *sync.Cond // broadcast when history.last advances or on close
	hist      *history
	watchers  map[*Watcher]struct{}
	buffer    int
	closed    bool
}

func newHub(historySize, buffer int, rev int64) *hub {
	h := &hub{
		hist:     newHistory(historySize, rev),
		watchers: make(map[*Watcher]struct{}),
		buffer:   buffer,
	}
	h.published = sync.NewCond(&h.mu)
	return h
}

// publish records committed events, in revision order, and offers them to
// every watcher.
func (h *hub) publish(evs []Event) {
	if len(evs) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range evs {
		h.hist.add(evs[i])
		for w := range h.watchers {
			w.offer(&evs[i])
		}
	}
	h.published.Broadcast()
}

// revision returns the newest published revision.
func (h *hub) revision() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hist.last
}

// waitPublished waits until rev has been published. The commit loop
// publishes right after committing, so the wait is short.
func (h *hub) waitPublished(rev int64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.hist.last < rev {
		if h.closed {
			return ErrClosed
		}
		h.published.Wait()
	}
	return nil
}

// compact forgets the history up to rev.
func (h *hub) compact(rev int64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rev > h.hist.last {
		return fmt.Errorf("%w: revision %d is newer than the current revision %d", ErrInvalid, rev, h.hist.last)
	}
	h.hist.compact(rev)
	return nil
}

// compactedError explains why rev cannot be served.
func (h *hub) compactedError(rev int64) error {
	return fmt.Errorf("%w: revision %d is gone (the oldest still available is %d); list again",
		ErrCompacted, rev, h.hist.compacted)
}

// close ends every watch with an error event and wakes waiters.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for w := range h.watchers {
		w.end(Event{Type: EventError, Rev: h.hist.last, Err: &Error{Op: OpWatch, Key: w.prefix, Err: ErrClosed}})
	}
	h.published.Broadcast()
}

// Watcher delivers the events of one watch. Stop it, or cancel the context
// given to Watch, when done.
type Watcher struct {
	hub    *hub
	prefix string
	from   int64
	ch     chan Event  // one slot beyond the buffer is kept for the final event
	unhook func() bool // releases the context hook; guarded by hub.mu
}

// Watch starts delivering, in revision order, the events for keys starting
// with prefix whose revision is greater than fromRev; fromRev 0 means from
// the current revision. Retained history is replayed first, then live
// events follow. A fromRev older than the history fails with ErrCompacted.
// The watch ends when ctx is done or Stop is called.
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) (*Watcher, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap(OpWatch, prefix, err)
	}
	if fromRev < 0 {
		return nil, wrap(OpWatch, prefix, fmt.Errorf("%w: negative revision %d", ErrInvalid, fromRev))
	}
	w, err := s.hub.watch(prefix, fromRev)
	if err != nil {
		return nil, wrap(OpWatch, prefix, err)
	}
	unhook := context.AfterFunc(ctx, w.Stop)
	s.hub.mu.Lock()
	if _, live := s.hub.watchers[w]; live {
		w.unhook, unhook = unhook, nil
	}
	s.hub.mu.Unlock()
	if unhook != nil { // the watch already ended
		unhook()
	}
	return w, nil
}

// watch registers a watcher and queues its replay.
func (h *hub) watch(prefix string, from int64) (*Watcher, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	if from == 0 {
		from = h.hist.last
	}
	if from < h.hist.compacted {
		return nil, h.compactedError(from)
	}
	replay := 0
	h.hist.each(from, h.hist.last, func(ev *Event) {
		if strings.HasPrefix(ev.Object.Key, prefix) {
			replay++
		}
	})
	w := &Watcher{
		hub:    h,
		prefix: prefix,
		from:   from,
		ch:     make(chan Event, replay+h.buffer+1),
	}
	h.hist.each(from, h.hist.last, w.offer)
	h.watchers[w] = struct{}{}
	return w, nil
}

// Events returns the channel of events. It is closed when the watch ends;
// an EventError comes first unless the watch was stopped by its owner.
func (w *Watcher) Events() <-chan Event { return w.ch }

// Bookmark queues an EventBookmark carrying the current revision after the
// events already queued, so that the receiver knows it has seen every
// change up to that revision. It does nothing once the watch has ended.
func (w *Watcher) Bookmark() {
	h := w.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.watchers[w]; !ok {
		return
	}
	w.send(Event{Type: EventBookmark, Rev: max(h.hist.last, w.from)})
}

// Stop ends the watch and closes the channel. Calling it again does nothing.
func (w *Watcher) Stop() {
	h := w.hub
	h.mu.Lock()
	if _, ok := h.watchers[w]; ok {
		delete(h.watchers, w)
		close(w.ch)
	}
	unhook := w.unhook
	w.unhook = nil
	h.mu.Unlock()
	if unhook != nil {
		unhook()
	}
}

// offer queues ev if the watcher wants it. Called with the hub locked.
func (w *Watcher) offer(ev *Event) {
	if ev.Rev <= w.from || !strings.HasPrefix(ev.Object.Key, w.prefix) {
		return
	}
	w.send(*ev)
}

// send queues ev without blocking, ending the watch with an error event if
// the receiver has fallen a full buffer behind. Called with the hub locked.
func (w *Watcher) send(ev Event) {
	if len(w.ch) >= cap(w.ch)-1 {
		err := fmt.Errorf("%w: watcher fell %d events behind at revision %d; list again",
			ErrCompacted, cap(w.ch)-1, ev.Rev)
		w.end(Event{Type: EventError, Rev: ev.Rev, Err: &Error{Op: OpWatch, Key: w.prefix, Err: err}})
		return
	}
	w.ch <- ev
}

// end delivers a last event into the reserved slot and closes the channel.
// Called with the hub locked.
func (w *Watcher) end(ev Event) {
	w.ch <- ev
	close(w.ch)
	delete(w.hub.watchers, w)
	if w.unhook != nil {
		w.unhook()
		w.unhook = nil
	}
}
