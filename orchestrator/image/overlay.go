package image

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"

	"pkg.dev/pkg/orchestrator/internal/mount"
)

// Mount makes rootfs the root filesystem of the image ref names as an
// overlay, as containerd's overlay snapshotter does: the image's layers
// are flattened once into the store (below rootfs/, by image ID, their
// files hard-linked from the layer cache), and every container mounts
// that tree read-only beneath an upper directory of its own, in scratch
// (scratch/upper and scratch/work, emptied first). A container so starts
// in the same time whatever the size of its image, and its writes stay
// its own. It needs root and a kernel and file system that allow
// overlayfs; callers fall back to Unpack when it fails. Unmount undoes it.
func (s *Store) Mount(ctx context.Context, ref, rootfs, scratch string) (Image, error) {
	img, err := s.mount(ctx, ref, rootfs, scratch)
	if err != nil {
		return Image{}, &Error{Op: "mount", Ref: ref, Err: err}
	}
	return img, nil
}

func (s *Store) mount(ctx context.Context, ref, rootfs, scratch string) (Image, error) {
	unlock, err := s.writers() // keeps GC from sweeping the tree until it is mounted
	if err != nil {
		return Image{}, err
	}
	defer unlock()
	img, lower, err := s.flatten(ctx, ref)
	if err != nil {
		return Image{}, err
	}
	if err := mount.Unmount(rootfs); err != nil {
		return Image{}, err
	}
	upper, work := filepath.Join(scratch, "upper"), filepath.Join(scratch, "work")
	for _, d := range []string{upper, work} {
		if err := removeTree(d); err != nil {
			return Image{}, err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return Image{}, err
		}
	}
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		return Image{}, err
	}
	for _, p := range []string{lower, upper, work} {
		if strings.ContainsAny(p, ",:\\ \t\n") {
			return Image{}, fmt.Errorf("path %q has a character overlay mount options cannot carry: %w", p, ErrNoOverlay)
		}
	}
	opts := "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", rootfs, "overlay", 0, opts); err != nil {
		return Image{}, fmt.Errorf("mounting an overlay on %s: %w: %w", rootfs, ErrNoOverlay, err)
	}
	return img, nil
}

// flatten returns the image's layers applied into one tree in the store,
// making it once: built in tmp/ and renamed into place, so that the tree
// is whole or absent. The caller holds the writers lock.
func (s *Store) flatten(ctx context.Context, ref string) (Image, string, error) {
	_, h, err := s.resolve(ref)
	if err != nil {
		return Image{}, "", err
	}
	refs, err := s.readRefs()
	if err != nil {
		return Image{}, "", err
	}
	img, err := s.describe(h, refs)
	if err != nil {
		return Image{}, "", err
	}
	id, err := v1.NewHash(img.ID)
	if err != nil {
		return Image{}, "", err
	}
	final := s.rootfsPath(id)
	if _, err := os.Stat(final); err == nil {
		return img, final, nil
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return Image{}, "", err
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(s.dir, "tmp", "rootfs-"+hex.EncodeToString(rnd[:]))
	if _, err := s.unpack(ctx, h.String(), tmp, UnpackOptions{Hardlink: true}); err != nil {
		return Image{}, "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		_ = removeTree(tmp)
		if _, serr := os.Stat(final); serr != nil {
			return Image{}, "", fmt.Errorf("storing the flattened image: %w", err)
		}
		// Another process flattened it first.
	}
	return img, final, nil
}

// rootfsPath is where the flattened tree of the image with config digest
// id lives.
func (s *Store) rootfsPath(id v1.Hash) string {
	return filepath.Join(s.dir, "rootfs", id.Algorithm, id.Hex)
}
