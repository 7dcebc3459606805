package image

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"pkg.dev/pkg/orchestrator/internal/mount"
)

// Remove removes a reference from the store; a reference by digest or an
// image ID removes every reference to that image. Blobs and unpacked
// layers no longer referenced by any image are then deleted.
func (s *Store) Remove(ctx context.Context, ref string) (removed []string, err error) {
	r, h, err := s.resolve(ref)
	if err != nil {
		return nil, &Error{Op: "remove", Ref: ref, Err: err}
	}
	// A tag named as such removes that tag; an image ID or digest, the image.
	byTag := false
	if p, perr := ParseReference(ref); perr == nil && p.Tag != "" && p == r {
		byTag = true
	}
	err = s.updateRefs(func(refs map[string]string) error {
		if byTag {
			delete(refs, r.String())
			removed = append(removed, r.String())
			// With its last tag gone, the image's digest references go too.
			for k, d := range refs {
				if d == h.String() && !strings.Contains(k, "@") {
					return nil
				}
			}
		}
		for k, d := range refs {
			if d == h.String() {
				delete(refs, k)
				if k != r.String() || !byTag {
					removed = append(removed, k)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, &Error{Op: "remove", Ref: ref, Err: err}
	}
	if err := s.GC(ctx); err != nil {
		return removed, err
	}
	return removed, nil
}

// GC deletes blobs and unpacked layers that no referenced image uses, and
// leftovers of interrupted writes. It waits for writes in progress.
func (s *Store) GC(ctx context.Context) error {
	unlock, err := s.lock("gc.lock", syscall.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	refs, err := s.readRefs()
	if err != nil {
		return &Error{Op: "gc", Err: err}
	}
	blobs := map[string]bool{}
	diffIDs := map[string]bool{}
	roots := map[string]bool{}
	for _, d := range refs {
		h, err := v1.NewHash(d)
		if err != nil {
			continue
		}
		blobs[h.Hex] = true
		img, err := s.describe(h, refs)
		if err != nil {
			continue // keep what a damaged image uses rather than guess
		}
		c, _ := v1.NewHash(img.ID)
		blobs[c.Hex] = true
		roots[c.Hex] = true
		for _, l := range img.Layers {
			if lh, err := v1.NewHash(l.Digest); err == nil {
				blobs[lh.Hex] = true
			}
			if dh, err := v1.NewHash(l.DiffID); err == nil {
				diffIDs[dh.Hex] = true
			}
		}
	}
	if err := sweep(filepath.Join(s.dir, "blobs", "sha256"), blobs); err != nil {
		return &Error{Op: "gc", Err: err}
	}
	if err := sweep(filepath.Join(s.dir, "layers", "sha256"), diffIDs); err != nil {
		return &Error{Op: "gc", Err: err}
	}
	// A flattened tree goes with its image, unless a container's overlay
	// still has it below.
	rootDir := filepath.Join(s.dir, "rootfs", "sha256")
	if entries, err := os.ReadDir(rootDir); err == nil {
		for _, e := range entries {
			if !roots[e.Name()] && mount.IsLowerDir(filepath.Join(rootDir, e.Name())) {
				roots[e.Name()] = true
			}
		}
		if err := sweep(rootDir, roots); err != nil {
			return &Error{Op: "gc", Err: err}
		}
	}
	// With the exclusive lock held no write is in progress in any process,
	// so whatever is in tmp/ was left by a crash.
	if err := sweep(filepath.Join(s.dir, "tmp"), nil); err != nil {
		return &Error{Op: "gc", Err: err}
	}
	return nil
}

func sweep(dir string, keep map[string]bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading %s: %w", dir, err)
	}
	for _, e := range entries {
		if keep[e.Name()] {
			continue
		}
		if err := removeTree(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("removing %s: %w", e.Name(), err)
		}
	}
	return nil
}
