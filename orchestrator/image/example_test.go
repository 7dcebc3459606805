package image_test

import (
	"fmt"

	"pkg.dev/pkg/orchestrator/image"
)

// A node agent decides whether to pull from the container's policy, or
// the Kubernetes default for its image, and what the store holds.
func ExampleShouldPull() {
	for _, c := range []struct {
		ref     string
		policy  image.PullPolicy
		present bool
	}{
		{"nginx", "", true},
		{"nginx:1.27", "", true},
		{"nginx:1.27", image.PullAlways, true},
		{"localhost:5000/app:v1", image.PullNever, false},
	} {
		policy := c.policy
		if policy == "" {
			policy = image.DefaultPullPolicy(c.ref)
		}
		pull, err := image.ShouldPull(policy, c.present)
		fmt.Printf("%s %s present=%v: pull=%v err=%v\n", c.ref, policy, c.present, pull, err)
	}
	// Output:
	// nginx Always present=true: pull=true err=<nil>
	// nginx:1.27 IfNotPresent present=true: pull=false err=<nil>
	// nginx:1.27 Always present=true: pull=true err=<nil>
	// localhost:5000/app:v1 Never present=false: pull=false err=image is not present and the pull policy is Never
}
