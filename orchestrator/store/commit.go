package store

import (
	"errors"

	bolt "go.etcd.io/bbolt"
)

// errNoChange rolls back a transaction in which every write failed its
// precondition, sparing a sync.
var errNoChange = errors.New("no change")

// commitLoop is the only writer of the database. It takes every write
// queued while the previous transaction was syncing, applies them in one
// transaction, publishes their events in revision order and releases their
// callers: a lone writer waits for one sync, and concurrent writers share
// theirs. It exits once Close has been called and the queue is empty.
func (s *Store) commitLoop() {
	defer close(s.loopDone)
	batch := make([]*op, 0, s.opts.MaxBatch)
	for {
		select {
		case o := <-s.ops:
			batch = s.gather(append(batch[:0], o))
			s.commit(batch)
		case <-s.stopping:
			// Close stops new writes before closing stopping, so the
			// queue only shrinks from here.
			for len(s.ops) > 0 {
				batch = s.gather(batch[:0])
				s.commit(batch)
			}
			return
		}
	}
}

// gather adds the writes already queued to batch, up to MaxBatch.
func (s *Store) gather(batch []*op) []*op {
	for len(batch) < s.opts.MaxBatch {
		select {
		case o := <-s.ops:
			batch = append(batch, o)
		default:
			return batch
		}
	}
	return batch
}

// commit applies batch in one transaction. If the transaction fails, each
// write is retried in a transaction of its own so that one bad write fails
// alone.
func (s *Store) commit(batch []*op) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		rev := readRevision(tx)
		next := rev
		for _, o := range batch {
			used, err := o.apply(tx, next+1, s.seal.t)
			if err != nil {
				return err
			}
			if used {
				next++
			}
		}
		if next == rev {
			return errNoChange
		}
		return writeRevision(tx, next)
	})
	if errors.Is(err, errNoChange) {
		err = nil
	}
	if err != nil && len(batch) > 1 {
		for _, o := range batch {
			s.commit([]*op{o})
		}
		return
	}
	evs := make([]Event, 0, len(batch))
	for _, o := range batch {
		if err != nil {
			o.ev, o.err = Event{}, closedErr(err)
		}
		if o.err == nil {
			evs = append(evs, o.ev)
		}
	}
	s.hub.publish(evs)
	for _, o := range batch {
		close(o.done)
	}
}
