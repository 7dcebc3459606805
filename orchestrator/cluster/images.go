package cluster

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	"pkg.dev/pkg/orchestrator/image"
	"pkg.dev/pkg/orchestrator/node"
)

// storeImages serves the node agents' images from the cluster's image
// store: pulled as the container's policy says, with the Pod's pull
// secrets, then unpacked into the container's root filesystem.
type storeImages struct {
	store *image.Store
}

var _ node.Images = storeImages{}

// Prepare pulls (if the policy says so) and unpacks ref into dir.
func (s storeImages) Prepare(ctx context.Context, ref string, policy corev1.PullPolicy, pullSecrets [][]byte, dir string) (node.ImageConfig, error) {
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
	img, err := s.store.Unpack(ctx, ref, dir, image.UnpackOptions{})
	if err != nil {
		return node.ImageConfig{}, err
	}
	c := img.Config
	return node.ImageConfig{Entrypoint: c.Entrypoint, Cmd: c.Cmd, Env: c.Env, WorkingDir: c.WorkingDir, User: c.User}, nil
}
