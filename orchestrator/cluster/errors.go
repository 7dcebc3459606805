package cluster

import (
	"errors"
	"fmt"
)

// ErrNotRunning means no server holds the data directory.
var ErrNotRunning = errors.New("cluster is not running")

// ErrNoCredentials means the data directory has no CA or token yet: the
// cluster was never started there.
var ErrNoCredentials = errors.New("cluster has no credentials yet")

// RunningError is returned when a server already holds the data directory.
// It wraps the store's lock error when there is one.
type RunningError struct {
	// Dir is the data directory.
	Dir string
	// PID is the process id of the running server, 0 if unknown.
	PID int
	// URL is the address it serves on, empty if unknown.
	URL string
	// Err is the cause, possibly nil.
	Err error
}

// Error says that the cluster is already running, with its pid and URL.
func (e *RunningError) Error() string {
	msg := "pkg cluster already running"
	if e.PID > 0 {
		msg += fmt.Sprintf(" (pid %d)", e.PID)
	}
	if e.URL != "" {
		msg += " on " + e.URL
	}
	return msg + " with data dir " + e.Dir
}

// Unwrap returns the cause.
func (e *RunningError) Unwrap() error { return e.Err }
