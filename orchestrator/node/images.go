package node

import (
	"context"

	corev1 "k8s.io/api/core/v1"
)

// Images gives the pod runner the root filesystems containers run from.
// The orchestrator's image store (package image) is the production one.
type Images interface {
	// Prepare makes ref available as the pull policy says (pulling with
	// the Pod's pull secrets, each a .dockerconfigjson) and unpacks it
	// into dir, an empty directory, returning the image's configuration.
	Prepare(ctx context.Context, ref string, policy corev1.PullPolicy, pullSecrets [][]byte, dir string) (ImageConfig, error)
}

// ImageConfig is what an image says about how to run it.
type ImageConfig struct {
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkingDir string
	User       string
}
