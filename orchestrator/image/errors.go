package image

import (
	"errors"
	"fmt"
)

// ErrNotFound reports a reference or blob the store does not hold.
var ErrNotFound = errors.New("image not found in the store")

// ErrNeverPull reports an image absent from the store whose pull policy is
// Never. Kubernetes reports it as ErrImageNeverPull.
var ErrNeverPull = errors.New("image is not present and the pull policy is Never")

// ErrUnsafeLayer reports a layer that tries to write outside the root
// filesystem or through a link; nothing is written for it.
var ErrUnsafeLayer = errors.New("unsafe layer")

// ErrDigestMismatch reports content whose digest is not the one announced.
var ErrDigestMismatch = errors.New("digest mismatch")

// Error is an error from a store operation on one image reference.
type Error struct {
	Op  string // "pull", "load", "unpack", "remove", ...
	Ref string // the reference or file involved
	Err error
}

func (e *Error) Error() string {
	if e.Ref == "" {
		return fmt.Sprintf("image %s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("image %s %s: %v", e.Op, e.Ref, e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ErrNoOverlay is returned by Mount when the kernel refuses the overlay
// mount itself (no overlayfs, no privilege, or a file system an upper
// directory cannot live on): Unpack is the way there.
var ErrNoOverlay = errors.New("overlay mounts are not available")
