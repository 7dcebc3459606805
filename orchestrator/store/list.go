package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// ListOptions select one page of a list.
type ListOptions struct {
	// Limit is the most items to return; 0 returns them all.
	Limit int64
	// Continue is the token of the previous page, empty for the first.
	Continue string
}

// ListResult is one page of a list.
type ListResult struct {
	// Items are the objects, in key order.
	Items []KV
	// Rev is the revision the page shows: the store's revision for a
	// first page, the pinned revision for the following ones.
	Rev int64
	// Continue is the token of the next page, empty on the last one.
	Continue string
	// Remaining is how many objects follow this page at its revision,
	// 0 on the last page: Kubernetes' remainingItemCount.
	Remaining int64
}

// List returns the objects whose keys start with prefix, from one
// consistent snapshot. With a limit, pages after the first show the data as
// it was when the first was read, until that revision leaves the history:
// then the token is refused with ErrCompacted.
func (s *Store) List(ctx context.Context, prefix string, opts ListOptions) (ListResult, error) {
	if err := ctx.Err(); err != nil {
		return ListResult{}, wrap(OpList, prefix, err)
	}
	if opts.Limit < 0 {
		return ListResult{}, wrap(OpList, prefix, fmt.Errorf("%w: negative limit %d", ErrInvalid, opts.Limit))
	}
	var tok *continueToken
	if opts.Continue != "" {
		t, err := decodeContinue(opts.Continue)
		if err != nil {
			return ListResult{}, wrap(OpList, prefix, err)
		}
		tok = &t
	}
	for {
		res, waitFor, err := s.listOnce(prefix, opts.Limit, tok)
		if waitFor == 0 {
			return res, wrap(OpList, prefix, err)
		}
		// The snapshot saw a commit whose events are being published.
		if err := s.hub.waitPublished(waitFor); err != nil {
			return ListResult{}, wrap(OpList, prefix, err)
		}
	}
}

// listOnce reads one page in a read transaction. A continued list needs the
// history up to the snapshot's revision; if it is not published yet,
// listOnce returns that revision to wait for and the caller tries again.
func (s *Store) listOnce(prefix string, limit int64, tok *continueToken) (ListResult, int64, error) {
	tx, err := s.db.Begin(false)
	if err != nil {
		return ListResult{}, 0, closedErr(err)
	}
	defer func() { _ = tx.Rollback() }()
	cur := readRevision(tx)
	it := &pageIter{prefix: prefix, t: s.seal.t, c: tx.Bucket([]byte(bucketObjects)).Cursor()}
	res := ListResult{Rev: cur}
	if tok != nil {
		res.Rev = tok.Rev
		it.after = prefix + tok.Start
		if tok.Rev > cur {
			return ListResult{}, 0, fmt.Errorf("%w: continue token is pinned to revision %d, newer than the store's %d",
				ErrInvalid, tok.Rev, cur)
		}
		past, err := s.hub.pastStates(tok.Rev, cur, prefix, it.after)
		if errors.Is(err, errNotPublished) {
			return ListResult{}, cur, nil
		}
		if err != nil {
			return ListResult{}, 0, err
		}
		it.past = past
		it.pastKeys = slices.Sorted(maps.Keys(past))
	}
	it.seek()
	for limit == 0 || int64(len(res.Items)) < limit {
		kv, ok, err := it.next()
		if err != nil {
			return ListResult{}, 0, err
		}
		if !ok {
			return res, 0, nil
		}
		res.Items = append(res.Items, kv)
	}
	if it.more() && len(res.Items) > 0 {
		last := res.Items[len(res.Items)-1].Key
		res.Continue = encodeContinue(continueToken{Rev: res.Rev, Start: last[len(prefix):]})
		res.Remaining = it.remaining()
	}
	return res, 0, nil
}

// errNotPublished means the history has not caught up with a snapshot.
var errNotPublished = errors.New("revision not published yet")

// pastStates returns, for each key under prefix and after after that
// changed in (from, to], its state at from: the Prev of its first change,
// nil if that change created it.
func (h *hub) pastStates(from, to int64, prefix, after string) (map[string]*KV, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if from < h.hist.compacted {
		return nil, h.compactedError(from)
	}
	if h.hist.last < to {
		return nil, errNotPublished
	}
	past := make(map[string]*KV)
	h.hist.each(from, to, func(ev *Event) {
		k := ev.Object.Key
		if k <= after || !strings.HasPrefix(k, prefix) {
			return
		}
		if _, seen := past[k]; !seen {
			past[k] = ev.Prev
		}
	})
	return past, nil
}

// pageIter walks the keys under prefix after after, merging the current
// data with the past states of the keys that changed since the pinned
// revision.
type pageIter struct {
	prefix, after string
	t             Transformer
	c             *bolt.Cursor
	k, v          []byte // cursor position; k nil when exhausted

	past     map[string]*KV // state at the pinned revision of changed keys
	pastKeys []string       // keys of past, sorted
	pi       int            // next index in pastKeys

	peeked *KV // an item read by more and not yet returned
}

// seek positions the cursor on the first key to consider.
func (it *pageIter) seek() {
	if it.after == "" {
		it.k, it.v = it.c.Seek([]byte(it.prefix))
	} else {
		it.k, it.v = it.c.Seek([]byte(it.after))
		if it.k != nil && string(it.k) == it.after {
			it.k, it.v = it.c.Next()
		}
	}
	it.clip()
}

// clip ends the cursor walk at the first key outside the prefix.
func (it *pageIter) clip() {
	if it.k != nil && !bytes.HasPrefix(it.k, []byte(it.prefix)) {
		it.k, it.v = nil, nil
	}
}

func (it *pageIter) advance() {
	it.k, it.v = it.c.Next()
	it.clip()
}

// next returns the next item, or false at the end.
func (it *pageIter) next() (KV, bool, error) {
	if it.peeked != nil {
		kv := *it.peeked
		it.peeked = nil
		return kv, true, nil
	}
	for {
		havePast := it.pi < len(it.pastKeys)
		if it.k == nil && !havePast {
			return KV{}, false, nil
		}
		if havePast && (it.k == nil || it.pastKeys[it.pi] <= string(it.k)) {
			key := it.pastKeys[it.pi]
			it.pi++
			if it.k != nil && key == string(it.k) {
				it.advance()
			}
			if st := it.past[key]; st != nil {
				kv := *st
				kv.Value = bytes.Clone(st.Value)
				return kv, true, nil
			}
			continue // created after the pinned revision
		}
		key := string(it.k)
		rec, err := decodeRecord(it.v)
		if err != nil {
			return KV{}, false, fmt.Errorf("reading %q: %w", key, err)
		}
		kv, err := rec.kv(key, it.t)
		if err != nil {
			return KV{}, false, fmt.Errorf("reading %q: %w", key, err)
		}
		it.advance()
		return kv, true, nil
	}
}

// remaining counts the items next would still return, without reading
// their values, and exhausts the iterator.
func (it *pageIter) remaining() int64 {
	var n int64
	if it.peeked != nil {
		n++
		it.peeked = nil
	}
	for {
		havePast := it.pi < len(it.pastKeys)
		if it.k == nil && !havePast {
			return n
		}
		if havePast && (it.k == nil || it.pastKeys[it.pi] <= string(it.k)) {
			key := it.pastKeys[it.pi]
			it.pi++
			if it.k != nil && key == string(it.k) {
				it.advance()
			}
			if it.past[key] != nil {
				n++
			}
			continue
		}
		n++
		it.advance()
	}
}

// more reports whether another item follows, keeping it for next.
func (it *pageIter) more() bool {
	if it.peeked != nil {
		return true
	}
	kv, ok, err := it.next()
	if err != nil {
		return true // let the next page report it
	}
	if ok {
		it.peeked = &kv
	}
	return ok
}
