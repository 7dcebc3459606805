package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Store is an open data directory. Its methods are safe for concurrent use.
type Store struct {
	dir  string
	opts Options
	db   *bolt.DB
	seal sealer
	hub  *hub

	ops      chan *op      // writes waiting for the commit loop
	stopping chan struct{} // closed by Close to stop the commit loop
	loopDone chan struct{} // closed when the commit loop has exited

	closeMu sync.RWMutex // held for reading while queueing a write
	closed  bool
}

// Open opens the store in dir, creating the directory (mode 0700) and its
// files (mode 0600) if needed. It fails with a *LockedError if another
// store holds dir for longer than opts.LockTimeout, or until ctx is done if
// that comes first.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap(OpOpen, dir, err)
	}
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, wrap(OpOpen, dir, err)
	}
	timeout := opts.LockTimeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = max(min(timeout, time.Until(deadline)), time.Millisecond)
	}
	db, err := openLocked(dir, timeout)
	if err != nil {
		var locked *LockedError
		if errors.As(err, &locked) {
			return nil, locked
		}
		return nil, wrap(OpOpen, dir, fmt.Errorf("opening %s: %w", filepath.Join(dir, DBFile), err))
	}
	s, err := start(dir, db, opts)
	if err != nil {
		_ = removePID(dir)
		_ = db.Close()
		return nil, wrap(OpOpen, dir, err)
	}
	return s, nil
}

// start finishes Open once the lock is held.
func start(dir string, db *bolt.DB, opts Options) (*Store, error) {
	if err := writePID(dir); err != nil {
		return nil, fmt.Errorf("writing pid file: %w", err)
	}
	var rev int64
	err := db.Update(func(tx *bolt.Tx) error {
		if err := initLayout(tx); err != nil {
			return err
		}
		rev = readRevision(tx)
		return nil
	})
	if err != nil {
		return nil, err
	}
	t := opts.Transformer
	if t == nil && len(opts.SealedPrefixes) > 0 {
		a, err := LoadAESGCM(filepath.Join(dir, KeyFile))
		if err != nil {
			return nil, err
		}
		t = a
	}
	s := &Store{
		dir:      dir,
		opts:     opts,
		db:       db,
		seal:     sealer{prefixes: opts.SealedPrefixes, t: t},
		hub:      newHub(opts.HistorySize, opts.WatchBuffer, rev),
		ops:      make(chan *op, opts.MaxBatch),
		stopping: make(chan struct{}),
		loopDone: make(chan struct{}),
	}
	go s.commitLoop()
	return s, nil
}

// Close commits the writes already queued, ends every watch with an
// ErrClosed error event, and releases the data directory. Later calls do
// nothing.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	s.closeMu.Unlock()

	close(s.stopping)
	<-s.loopDone
	s.hub.close()
	errPID := removePID(s.dir)
	errDB := s.db.Close()
	if err := errors.Join(errPID, errDB); err != nil {
		return wrap("close", s.dir, err)
	}
	return nil
}

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// Revision returns the store's current revision: that of the newest write
// acknowledged, or the revision found on disk when nothing has been
// written since Open.
func (s *Store) Revision() int64 { return s.hub.revision() }

// Compact forgets the events up to and including rev, which must not be
// newer than the current revision. From then on, watching from a revision
// before rev, or continuing a list pinned to one, fails with ErrCompacted;
// rev itself stays available. The history is also compacted automatically
// once it holds Options.HistorySize events. The database file keeps only
// the latest value of each key, so there is nothing to compact on disk.
func (s *Store) Compact(rev int64) error {
	return wrap(OpCompact, "", s.hub.compact(rev))
}

// Get returns the object stored under key.
func (s *Store) Get(ctx context.Context, key string) (KV, error) {
	if err := ctx.Err(); err != nil {
		return KV{}, wrap(OpGet, key, err)
	}
	var kv KV
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket([]byte(bucketObjects)).Get([]byte(key))
		if raw == nil {
			return ErrNotFound
		}
		rec, err := decodeRecord(raw)
		if err != nil {
			return err
		}
		kv, err = rec.kv(key, s.seal.t)
		return err
	})
	return kv, wrap(OpGet, key, closedErr(err))
}

// closedErr reports bbolt's closed-database error as ErrClosed.
func closedErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}
