package image

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// UnpackOptions configure Unpack.
type UnpackOptions struct {
	// Hardlink links regular files from the store's layer cache into the
	// root filesystem instead of copying them: much faster and no extra
	// space, but a container that changes a file in place changes it for
	// every container of the image. Use it only for read-only root
	// filesystems.
	Hardlink bool
}

// Unpack builds the root filesystem of the image ref names in rootfs,
// which must not exist or be empty. Each layer is extracted once into the
// store's layer cache (by diffID, verified) and then applied in order,
// whiteouts honoured. On error rootfs is removed, or emptied if it existed.
func (s *Store) Unpack(ctx context.Context, ref, rootfs string, opts UnpackOptions) (Image, error) {
	img, err := s.unpack(ctx, ref, rootfs, opts)
	if err != nil {
		return Image{}, &Error{Op: "unpack", Ref: ref, Err: err}
	}
	return img, nil
}

func (s *Store) unpack(ctx context.Context, ref, rootfs string, opts UnpackOptions) (Image, error) {
	unlock, err := s.writers() // keeps GC from sweeping our layers and tmp/
	if err != nil {
		return Image{}, err
	}
	defer unlock()
	_, h, err := s.resolve(ref)
	if err != nil {
		return Image{}, err
	}
	refs, err := s.readRefs()
	if err != nil {
		return Image{}, err
	}
	info, err := s.describe(h, refs)
	if err != nil {
		return Image{}, err
	}
	img, err := s.v1Image(h)
	if err != nil {
		return Image{}, err
	}
	dirs := make([]string, len(info.Layers))
	for i, l := range info.Layers {
		if dirs[i], err = s.layerDir(ctx, img, l); err != nil {
			return Image{}, err
		}
	}

	created := true
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		created = false
		if !errors.Is(err, fs.ErrExist) {
			return Image{}, fmt.Errorf("creating root filesystem: %w", err)
		}
		kids, err := os.ReadDir(rootfs)
		if err != nil {
			return Image{}, fmt.Errorf("root filesystem %s: %w", rootfs, err)
		}
		if len(kids) > 0 {
			return Image{}, fmt.Errorf("root filesystem %s is not empty: remove it or pick another directory", rootfs)
		}
	}
	a := &applier{rootfs: rootfs, hardlink: opts.Hardlink, root: os.Geteuid() == 0}
	for i, d := range dirs {
		if err := a.apply(ctx, d); err != nil {
			clearRootfs(rootfs, created)
			return Image{}, fmt.Errorf("applying layer %s: %w", info.Layers[i].Digest, err)
		}
	}
	return info, nil
}

// clearRootfs undoes a failed unpack: it removes rootfs if Unpack created it,
// else empties it.
func clearRootfs(rootfs string, created bool) {
	if created {
		_ = removeTree(rootfs)
		return
	}
	kids, _ := os.ReadDir(rootfs)
	for _, k := range kids {
		_ = removeTree(filepath.Join(rootfs, k.Name()))
	}
}

// layerDir returns the unpacked form of layer l, extracting it into the
// layer cache first if needed. Concurrent calls for one layer extract it
// once; the cache entry appears by rename, complete or not at all.
func (s *Store) layerDir(ctx context.Context, img v1.Image, l Layer) (string, error) {
	diffID, err := v1.NewHash(l.DiffID)
	if err != nil {
		return "", fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	final := s.layerPath(diffID)
	if _, err := os.Stat(final); err == nil {
		return final, nil
	}
	_, err = s.flights.do("layer\x00"+l.DiffID, func() (any, error) {
		if _, err := os.Stat(final); err == nil {
			return nil, nil
		}
		return nil, s.extractToCache(ctx, img, l, diffID, final)
	})
	if err != nil {
		return "", err
	}
	return final, nil
}

func (s *Store) extractToCache(ctx context.Context, img v1.Image, l Layer, diffID v1.Hash, final string) error {
	digest, err := v1.NewHash(l.Digest)
	if err != nil {
		return err
	}
	layer, err := img.LayerByDigest(digest)
	if err != nil {
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	rc, err := layer.Uncompressed()
	if err != nil {
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	defer rc.Close()
	tmp, err := os.MkdirTemp(filepath.Join(s.dir, "tmp"), "layer-")
	if err != nil {
		return err
	}
	defer removeTree(tmp)
	sum := sha256.New()
	tee := io.TeeReader(rc, sum)
	if err := extractLayer(ctx, tee, tmp); err != nil {
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	if _, err := io.Copy(io.Discard, tee); err != nil { // tar padding
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	if got := hexSum(sum); got != diffID.Hex {
		return fmt.Errorf("layer %s: uncompressed content has digest sha256:%s, config says %s: %w", l.Digest, got, diffID, ErrDigestMismatch)
	}
	if err := os.Rename(tmp, final); err != nil {
		if _, serr := os.Stat(final); serr == nil {
			return nil // another process got there first
		}
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	return nil
}
