package image

import "context"

// Ensure makes the image ref names available as a container with the
// given imagePullPolicy needs it: it pulls when ShouldPull says so and
// returns the stored image, and whether it was pulled. An empty policy is
// the Kubernetes default for ref (DefaultPullPolicy). Under Never an
// absent image fails with ErrNeverPull.
func (s *Store) Ensure(ctx context.Context, ref string, policy PullPolicy, opts PullOptions) (Image, bool, error) {
	if policy == "" {
		policy = DefaultPullPolicy(ref)
	}
	present, err := s.Has(ctx, ref)
	if err != nil {
		return Image{}, false, err
	}
	pull, err := ShouldPull(policy, present)
	if err != nil {
		return Image{}, false, &Error{Op: "pull", Ref: ref, Err: err}
	}
	if pull {
		img, err := s.Pull(ctx, ref, opts)
		return img, err == nil, err
	}
	img, err := s.Get(ctx, ref)
	return img, false, err
}
