package kube

import (
	"context"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"pkg.dev/pkg/release"
)

// Create creates every resource of list, kind after kind in install
// order, the resources of one kind concurrently as Helm batches them, and
// stops after the first kind with an error, which names the resource and
// carries the API's message. An object that already exists is an error:
// callers check ownership first.
func (c *Client) Create(ctx context.Context, list release.ResourceList) (*release.ApplyResult, error) {
	res := &release.ApplyResult{}
	for start := 0; start < len(list); {
		end := start + 1
		for end < len(list) && list[end].GVK == list[start].GVK {
			end++
		}
		batch := list[start:end]
		errs := make([]error, len(batch))
		var wg sync.WaitGroup
		sem := make(chan struct{}, parallelRequests)
		for i, r := range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				errs[i] = c.create(ctx, r)
			}()
		}
		wg.Wait()
		var first error
		for i, err := range errs {
			if err == nil {
				res.Created = append(res.Created, batch[i])
			} else if first == nil {
				first = err
			}
		}
		if first != nil {
			return res, first
		}
		start = end
	}
	return res, nil
}

// create creates one object. r.Object is left as the manifest declares
// it: it is the original of the next three-way merge.
func (c *Client) create(ctx context.Context, r *release.Resource) error {
	c.log.Debug("creating", "resource", r.String())
	_, err := c.resourceClient(r).Create(withSubject(ctx, r), r.Object, metav1.CreateOptions{FieldManager: c.manager})
	if err != nil {
		// Helm's wording; the API's message names the kind and object.
		return fmt.Errorf("failed to create resource: %w", err)
	}
	return nil
}
