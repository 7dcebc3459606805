package release

import (
	"errors"
	"fmt"
)

// Sentinel errors of the release layer.
var (
	// ErrNotFound is returned when a release or revision does not exist.
	ErrNotFound = errors.New("release: not found")
	// ErrExists is returned when creating a revision that already exists.
	ErrExists = errors.New("release: already exists")
	// ErrNoDeployed is returned when a release has no deployed revision.
	ErrNoDeployed = errors.New("has no deployed releases")
	// ErrInProgress is returned when another operation holds the release.
	ErrInProgress = errors.New("another operation (install/upgrade/rollback) is in progress")
	// ErrInvalidName is returned for a release name Helm would refuse.
	ErrInvalidName = errors.New("invalid release name")
)

// OpError is an error of one release operation: what was being done, to
// which release, and why it failed.
type OpError struct {
	Op   string // "install", "upgrade", "rollback", "uninstall"
	Name string
	Err  error
}

func (e *OpError) Error() string { return fmt.Sprintf("%s %q: %v", e.Op, e.Name, e.Err) }

// Unwrap returns the cause.
func (e *OpError) Unwrap() error { return e.Err }
