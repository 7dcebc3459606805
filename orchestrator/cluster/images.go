package cluster

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"

	"pkg.dev/pkg/orchestrator/image"
	"pkg.dev/pkg/orchestrator/node"
)

// storeImages serves the node agents' images from the cluster's image
// store: pulled as the container's policy says, with the Pod's pull
// secrets, then mounted as an overlay on the container's root filesystem
// (root only; the image is flattened once and shared) or, where overlayfs
// cannot be mounted, unpacked into it by copying.
type storeImages struct {
	store *image.Store
	log   *slog.Logger
	// noOverlay is set once mounting an overlay failed for a reason that
	// will not go away (no overlayfs, or a file system it cannot sit on).
	noOverlay atomic.Bool
}

var _ node.Images = (*storeImages)(nil)

// Prepare pulls (if the policy says so) and mounts or unpacks ref into
// dir; the overlay's own directories go beside dir.
func (s *storeImages) Prepare(ctx context.Context, ref string, policy corev1.PullPolicy, pullSecrets [][]byte, dir string) (node.ImageConfig, error) {
	var chains []image.Keychain
	for _, b := range pullSecrets {
		if kc, err := image.ParseDockerConfig(b); err == nil {
			chains = append(chains, kc)
		}
	}
	p := image.PullPolicy(policy)
	if p == "" {
		p = image.DefaultPullPolicy(ref)
	}
	if _, _, err := s.store.Ensure(ctx, ref, p, image.PullOptions{Keychain: image.NewKeychain(chains...)}); err != nil {
		return node.ImageConfig{}, err
	}
	img, err := s.mount(ctx, ref, dir)
	if err != nil {
		if img, err = s.store.Unpack(ctx, ref, dir, image.UnpackOptions{}); err != nil {
			return node.ImageConfig{}, err
		}
	}
	c := img.Config
	return node.ImageConfig{Entrypoint: c.Entrypoint, Cmd: c.Cmd, Env: c.Env, WorkingDir: c.WorkingDir, User: c.User}, nil
}

// mount mounts ref's overlay on dir, when this process may and overlays
// worked so far; an error means dir is to be filled by copying.
func (s *storeImages) mount(ctx context.Context, ref, dir string) (image.Image, error) {
	if os.Geteuid() != 0 || s.noOverlay.Load() {
		return image.Image{}, errors.New("no overlay")
	}
	img, err := s.store.Mount(ctx, ref, dir, filepath.Dir(dir))
	if errors.Is(err, image.ErrNoOverlay) && !s.noOverlay.Swap(true) && s.log != nil {
		s.log.Warn("cannot mount overlay root filesystems here: images are copied for each container instead", "err", err)
	}
	return img, err
}
