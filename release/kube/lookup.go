package kube

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"pkg.dev/pkg/release"
	"pkg.dev/pkg/render"
)

var _ release.Looker = (*Client)(nil)

// Lookup returns the templates' lookup function reading this cluster, as
// Helm's does when it installs: an object by name, or the list of a kind
// (in a namespace, or everywhere for ""), with an empty map for what does
// not exist.
func (c *Client) Lookup(ctx context.Context) render.LookupFunc {
	return func(apiVersion, kind, namespace, name string) (map[string]any, error) {
		gv, err := schema.ParseGroupVersion(apiVersion)
		if err != nil {
			return map[string]any{}, err
		}
		m, err := c.mapping(ctx, gv.WithKind(kind))
		if err != nil {
			return map[string]any{}, err
		}
		var ri dynamic.ResourceInterface = c.dynamic.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace && namespace != "" {
			ri = c.dynamic.Resource(m.Resource).Namespace(namespace)
		}
		if name != "" {
			obj, err := ri.Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return map[string]any{}, nil
			}
			if err != nil {
				return map[string]any{}, err
			}
			return obj.UnstructuredContent(), nil
		}
		list, err := ri.List(ctx, metav1.ListOptions{})
		if apierrors.IsNotFound(err) {
			return map[string]any{}, nil
		}
		if err != nil {
			return map[string]any{}, err
		}
		return list.UnstructuredContent(), nil
	}
}
