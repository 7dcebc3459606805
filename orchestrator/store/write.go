package store

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Create stores value under key, which must not exist yet (ErrAlreadyExists
// otherwise), and returns the new object. The returned KV's Value is value
// itself; the store keeps its own copy.
func (s *Store) Create(ctx context.Context, key string, value []byte) (KV, error) {
	o, err := s.write(ctx, OpCreate, key, value, 0)
	if err != nil {
		return KV{}, err
	}
	kv := o.ev.Object
	kv.Value = value
	return kv, nil
}

// Update replaces the value of the existing object under key and returns the
// new object. If expectedModRev is not 0 it must be the object's current
// ModRev, or the update fails with ErrConflict. The returned KV's Value is
// value itself.
func (s *Store) Update(ctx context.Context, key string, value []byte, expectedModRev int64) (KV, error) {
	o, err := s.write(ctx, OpUpdate, key, value, expectedModRev)
	if err != nil {
		return KV{}, err
	}
	kv := o.ev.Object
	kv.Value = value
	return kv, nil
}

// Delete removes the object under key. If expectedModRev is not 0 it must
// be the object's current ModRev, or the delete fails with ErrConflict. It
// returns the object's last value with ModRev set to the revision of the
// deletion, as Kubernetes reports deleted objects.
func (s *Store) Delete(ctx context.Context, key string, expectedModRev int64) (KV, error) {
	o, err := s.write(ctx, OpDelete, key, nil, expectedModRev)
	if err != nil {
		return KV{}, err
	}
	kv := o.ev.Object
	kv.Value = bytes.Clone(kv.Value)
	return kv, nil
}

// op is one write travelling to the commit loop and back.
type op struct {
	kind   string // OpCreate, OpUpdate or OpDelete
	key    string
	value  []byte // plain value, owned by the store
	stored []byte // value as written: sealed or the same as value
	sealed bool
	expect int64

	ev   Event         // the change, when err is nil
	err  error         // why the write did not happen
	done chan struct{} // closed once ev or err is set
}

// write validates and seals a write, queues it and waits for its commit.
func (s *Store) write(ctx context.Context, kind, key string, value []byte, expect int64) (*op, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap(kind, key, err)
	}
	if key == "" || len(key) > bolt.MaxKeySize {
		return nil, wrap(kind, key, fmt.Errorf("%w: key must be 1 to %d bytes long", ErrInvalid, bolt.MaxKeySize))
	}
	if expect < 0 {
		return nil, wrap(kind, key, fmt.Errorf("%w: negative revision %d", ErrInvalid, expect))
	}
	o := &op{kind: kind, key: key, expect: expect, done: make(chan struct{})}
	if kind != OpDelete {
		o.value = bytes.Clone(value)
		if o.value == nil {
			o.value = []byte{}
		}
		o.stored = o.value
		if s.seal.sealed(key) {
			sealed, err := s.seal.t.Seal(key, o.value)
			if err != nil {
				return nil, wrap(kind, key, err)
			}
			o.stored, o.sealed = sealed, true
		}
	}
	if err := s.enqueue(ctx, o); err != nil {
		return nil, wrap(kind, key, err)
	}
	<-o.done
	if o.err != nil {
		return nil, wrap(kind, key, o.err)
	}
	return o, nil
}

// enqueue hands o to the commit loop. Once queued, a write is committed or
// fails on its own; the caller must wait for it.
func (s *Store) enqueue(ctx context.Context, o *op) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	select {
	case s.ops <- o:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// apply performs o inside tx at revision rev. A precondition that fails
// (missing object, conflict) is recorded in o.err and leaves tx untouched;
// only errors that must abort the whole transaction are returned. It
// reports whether o used rev.
func (o *op) apply(tx *bolt.Tx, rev int64, t Transformer) (bool, error) {
	o.ev, o.err = Event{}, nil
	objects := tx.Bucket([]byte(bucketObjects))
	k := []byte(o.key)
	raw := objects.Get(k)
	if o.kind == OpCreate {
		if raw != nil {
			o.err = ErrAlreadyExists
			return false, nil
		}
		o.ev = Event{Type: EventAdded, Rev: rev, Object: KV{Key: o.key, Value: o.value, CreateRev: rev, ModRev: rev}}
		return true, objects.Put(k, record{createRev: rev, modRev: rev, sealed: o.sealed, value: o.stored}.encode())
	}
	if raw == nil {
		o.err = ErrNotFound
		return false, nil
	}
	cur, err := decodeRecord(raw)
	if err != nil {
		return false, err
	}
	if o.expect != 0 && o.expect != cur.modRev {
		o.err = fmt.Errorf("%w: the object has been modified: it is at revision %d, not %d", ErrConflict, cur.modRev, o.expect)
		return false, nil
	}
	prev, err := cur.kv(o.key, t)
	if err != nil {
		return false, err
	}
	if o.kind == OpDelete {
		o.ev = Event{Type: EventDeleted, Rev: rev, Prev: &prev,
			Object: KV{Key: o.key, Value: prev.Value, CreateRev: prev.CreateRev, ModRev: rev}}
		return true, objects.Delete(k)
	}
	o.ev = Event{Type: EventModified, Rev: rev, Prev: &prev,
		Object: KV{Key: o.key, Value: o.value, CreateRev: cur.createRev, ModRev: rev}}
	return true, objects.Put(k, record{createRev: cur.createRev, modRev: rev, sealed: o.sealed, value: o.stored}.encode())
}
