package image

import "fmt"

// PullPolicy is a container's imagePullPolicy.
type PullPolicy string

// The pull policies of Kubernetes.
const (
	PullAlways       PullPolicy = "Always"
	PullIfNotPresent PullPolicy = "IfNotPresent"
	PullNever        PullPolicy = "Never"
)

// DefaultPullPolicy is the policy Kubernetes gives a container that sets
// none: Always for the tag "latest" or no tag (and no digest), otherwise
// IfNotPresent.
func DefaultPullPolicy(ref string) PullPolicy {
	r, err := ParseReference(ref)
	if err != nil || (r.Digest == "" && r.Tag == "latest") {
		return PullAlways
	}
	return PullIfNotPresent
}

// ShouldPull says whether an image must be pulled under policy, given
// whether the store already holds it. An empty policy is IfNotPresent. It
// returns ErrNeverPull for an absent image under Never.
func ShouldPull(policy PullPolicy, present bool) (bool, error) {
	switch policy {
	case PullAlways:
		return true, nil
	case PullIfNotPresent, "":
		return !present, nil
	case PullNever:
		if !present {
			return false, ErrNeverPull
		}
		return false, nil
	default:
		return false, fmt.Errorf("unknown image pull policy %q: use Always, IfNotPresent or Never", policy)
	}
}
