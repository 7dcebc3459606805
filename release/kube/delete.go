package kube

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"pkg.dev/pkg/release"
)

// Delete deletes every resource of list in reverse order with the given
// propagation policy (Background when empty). Objects already gone are
// skipped; other failures do not stop the others and are all returned.
func (c *Client) Delete(ctx context.Context, list release.ResourceList, opts release.DeleteOptions) (*release.ApplyResult, []error) {
	policy := metav1.DeletionPropagation(opts.Propagation)
	if policy == "" {
		policy = metav1.DeletePropagationBackground
	}
	res := &release.ApplyResult{}
	var errs []error
	for i := len(list) - 1; i >= 0; i-- {
		r := list[i]
		deleted, err := c.delete(ctx, r, policy)
		switch {
		case err != nil:
			errs = append(errs, err)
		case deleted:
			res.Deleted = append(res.Deleted, r)
		}
	}
	return res, errs
}

// delete deletes one object; it reports false, nil when it was gone.
func (c *Client) delete(ctx context.Context, r *release.Resource, policy metav1.DeletionPropagation) (bool, error) {
	c.log.Debug("deleting", "resource", r.String(), "propagation", string(policy))
	err := c.resourceClient(r).Delete(ctx, r.Name, metav1.DeleteOptions{PropagationPolicy: &policy})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("deleting %s: %w", r, err)
	}
	return true, nil
}
