package store

// history is the bounded, in-memory log of recent events that watchers
// replay and continue tokens are resolved against. Every revision is one
// event, so the events it holds always have the consecutive revisions
// compacted+1 through last: n == last-compacted. It is not safe for
// concurrent use; hub guards it.
type history struct {
	buf  []Event // ring of len(buf) slots
	head int     // slot of the oldest event
	n    int     // events held

	// compacted is the newest revision no longer held: watching from an
	// older revision, or continuing a list pinned to one, is refused.
	compacted int64
	// last is the newest revision published.
	last int64
}

// newHistory returns an empty history of size slots starting at rev: the
// revisions before it were written by an earlier process and are gone.
func newHistory(size int, rev int64) *history {
	return &history{buf: make([]Event, size), compacted: rev, last: rev}
}

// add appends ev, whose revision must be last+1, dropping the oldest event
// when the ring is full.
func (h *history) add(ev Event) {
	if h.n == len(h.buf) {
		h.drop()
	}
	h.buf[(h.head+h.n)%len(h.buf)] = ev
	h.n++
	h.last = ev.Rev
}

// drop forgets the oldest event.
func (h *history) drop() {
	h.compacted = h.buf[h.head].Rev
	h.buf[h.head] = Event{} // release the values for the collector
	h.head = (h.head + 1) % len(h.buf)
	h.n--
}

// compact forgets every event up to and including rev, which must not be
// newer than last.
func (h *history) compact(rev int64) {
	for h.n > 0 && h.buf[h.head].Rev <= rev {
		h.drop()
	}
	if rev > h.compacted {
		h.compacted = rev
	}
}

// each calls fn, oldest first, for the events with from < Rev <= to. The
// caller checks that from is not compacted.
func (h *history) each(from, to int64, fn func(*Event)) {
	if from < h.compacted {
		from = h.compacted
	}
	if to > h.last {
		to = h.last
	}
	for rev := from + 1; rev <= to; rev++ {
		i := int(rev - h.compacted - 1)
		fn(&h.buf[(h.head+i)%len(h.buf)])
	}
}
