package store

import (
	"errors"
	"fmt"
	"strconv"
)

// Operations named by Error.Op.
const (
	OpOpen    = "open"
	OpCreate  = "create"
	OpGet     = "get"
	OpUpdate  = "update"
	OpDelete  = "delete"
	OpList    = "list"
	OpWatch   = "watch"
	OpCompact = "compact"
)

// Sentinel errors. Test for them with errors.Is; the errors returned by this
// package wrap them with the operation and key they concern.
var (
	// ErrNotFound means the key holds no object (404 upstream).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists means Create found the key already taken (409
	// upstream, reason AlreadyExists).
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict means the object's modification revision is not the one
	// the caller expected: someone else changed it first (409 Conflict).
	ErrConflict = errors.New("conflict")
	// ErrCompacted means a revision asked for has left the history: a watch
	// or a continue token that is too old, or a watcher that fell behind.
	// The client must list again (410 Gone upstream).
	ErrCompacted = errors.New("revision compacted")
	// ErrLocked means another store holds the data directory; see
	// LockedError.
	ErrLocked = errors.New("data dir is locked")
	// ErrClosed means the store has been closed.
	ErrClosed = errors.New("store is closed")
	// ErrInvalid means an argument cannot be used: an empty or oversized
	// key, a malformed continue token, a revision in the future.
	ErrInvalid = errors.New("invalid argument")
)

// Error is the error returned by the methods of Store: the operation, the
// key or prefix it concerned (possibly empty) and the cause, which wraps one
// of the sentinel errors when one applies.
type Error struct {
	// Op is the operation that failed, one of the Op constants.
	Op string
	// Key is the key, prefix or data directory concerned.
	Key string
	// Err is the cause.
	Err error
}

// Error formats the error as "OP KEY: CAUSE".
func (e *Error) Error() string {
	if e.Key == "" {
		return e.Op + ": " + e.Err.Error()
	}
	return e.Op + " " + strconv.Quote(e.Key) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// LockedError is returned by Open when another store, in this process or
// another one, holds the data directory. It wraps ErrLocked.
type LockedError struct {
	// Dir is the data directory.
	Dir string
	// PID is the process id recorded by the holder, or 0 if unknown.
	PID int
}

// Error says which directory is in use and by which process.
func (e *LockedError) Error() string {
	if e.PID <= 0 {
		return fmt.Sprintf("data dir %s is in use by another pkg cluster", e.Dir)
	}
	return fmt.Sprintf("data dir %s is in use by another pkg cluster (pid %d)", e.Dir, e.PID)
}

// Unwrap returns ErrLocked.
func (e *LockedError) Unwrap() error { return ErrLocked }

// wrap builds an *Error, leaving nil alone.
func wrap(op, key string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Key: key, Err: err}
}
