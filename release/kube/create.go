package kube

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"pkg.dev/pkg/release"
)

// Create creates every resource of list in order and stops at the first
// error, which names the resource and carries the API's message. An object
// that already exists is an error: callers check ownership first.
func (c *Client) Create(ctx context.Context, list release.ResourceList) (*release.ApplyResult, error) {
	res := &release.ApplyResult{}
	for _, r := range list {
		if err := c.create(ctx, r); err != nil {
			return res, err
		}
		res.Created = append(res.Created, r)
	}
	return res, nil
}

// create creates one object. r.Object is left as the manifest declares
// it: it is the original of the next three-way merge.
func (c *Client) create(ctx context.Context, r *release.Resource) error {
	c.log.Debug("creating", "resource", r.String())
	_, err := c.resourceClient(r).Create(ctx, r.Object, metav1.CreateOptions{FieldManager: c.manager})
	if err != nil {
		// Helm's wording; the API's message names the kind and object.
		return fmt.Errorf("failed to create resource: %w", err)
	}
	return nil
}
