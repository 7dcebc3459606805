package kube

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"pkg.dev/pkg/release"
)

// RecreatePods deletes the Pods the resources of list select, so that
// their controllers start them again: `rollback --recreate-pods`, as
// Helm does it. The kinds that select Pods are those kubectl knows:
// Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs,
// ReplicationControllers and Services. Each Pod is deleted once, with
// its UID as a precondition, so that a Pod recreated meanwhile under the
// same name is left alone; one that is already gone is no error.
func (c *Client) RecreatePods(ctx context.Context, list release.ResourceList) error {
	var errs []error
	seen := map[types.UID]bool{}
	for _, r := range list {
		sel, ok, err := c.podSelector(ctx, r)
		if err != nil {
			errs = append(errs, fmt.Errorf("unable to recreate pods for %s: %w", r, err))
			continue
		}
		if !ok {
			continue
		}
		pods, err := c.typed.CoreV1().Pods(r.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
		if err != nil {
			errs = append(errs, fmt.Errorf("unable to recreate pods for %s: %w", r, err))
			continue
		}
		for _, p := range pods.Items {
			if seen[p.UID] {
				continue
			}
			seen[p.UID] = true
			err := c.typed.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, *metav1.NewPreconditionDeleteOptions(string(p.UID)))
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				errs = append(errs, fmt.Errorf("unable to recreate pod %s of %s: %w", p.Name, r, err))
				continue
			}
			c.log.Debug("deleted pod to recreate it", "pod", p.Name, "owner", r.String())
		}
	}
	return errors.Join(errs...)
}

// podSelector returns the selector of the Pods r runs or fronts, read
// from its live object; ok is false for kinds that select no Pods (and
// for a Service without selector, which selects none).
func (c *Client) podSelector(ctx context.Context, r *release.Resource) (labels.Selector, bool, error) {
	g, k := r.GVK.Group, r.GVK.Kind
	var byMap bool
	switch {
	case (g == "apps" || g == "extensions") && (k == "Deployment" || k == "ReplicaSet" || k == "DaemonSet" || k == "StatefulSet"),
		g == "batch" && k == "Job":
	case g == "" && (k == "ReplicationController" || k == "Service"):
		byMap = true
	default:
		return nil, false, nil
	}
	live, err := c.live(ctx, r)
	if err != nil || live == nil {
		return nil, false, err
	}
	if byMap {
		m, _, err := unstructured.NestedStringMap(live.Object, "spec", "selector")
		if err != nil || len(m) == 0 {
			return nil, false, err
		}
		return labels.SelectorFromSet(m), true, nil
	}
	raw, found, err := unstructured.NestedMap(live.Object, "spec", "selector")
	if err != nil || !found {
		return nil, false, err
	}
	var ls metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &ls); err != nil {
		return nil, false, fmt.Errorf("reading spec.selector: %w", err)
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil {
		return nil, false, fmt.Errorf("reading spec.selector: %w", err)
	}
	if sel.Empty() {
		// An empty selector selects everything: no controller has one.
		return nil, false, nil
	}
	return sel, true, nil
}
