package kube

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/release"
)

// Build parses manifest, a stream of YAML documents, into resources in
// stream order. Empty and comment-only documents are skipped, and List
// objects are flattened into their items. Each kind is mapped to its API
// resource through discovery; a namespaced object without a namespace gets
// namespace.
func (c *Client) Build(ctx context.Context, manifest, namespace string) (release.ResourceList, error) {
	list, _, err := c.build(ctx, manifest, namespace, false)
	return list, err
}

// BuildServed is Build for the manifest of a revision already applied
// (see release.ServedBuilder): an object whose API version the cluster
// does not serve is read in the version it serves for the kind (in the
// kind's later group, for the kinds that moved out of extensions), or
// left out when it serves the kind in none.
func (c *Client) BuildServed(ctx context.Context, manifest, namespace string) (release.ResourceList, []release.Unserved, error) {
	return c.build(ctx, manifest, namespace, true)
}

// movedKinds are the kinds whose API moved to another group: the group
// they live in now.
var movedKinds = map[schema.GroupKind]string{
	{Group: "extensions", Kind: "Deployment"}:    "apps",
	{Group: "extensions", Kind: "DaemonSet"}:     "apps",
	{Group: "extensions", Kind: "ReplicaSet"}:    "apps",
	{Group: "extensions", Kind: "Ingress"}:       "networking.k8s.io",
	{Group: "extensions", Kind: "NetworkPolicy"}: "networking.k8s.io",
}

// servedAs maps an object of an API version the cluster does not serve
// to the version it serves for the kind, if any, rewriting the object's
// apiVersion.
func (c *Client) servedAs(ctx context.Context, obj *unstructured.Unstructured) (string, bool) {
	gk := obj.GroupVersionKind().GroupKind()
	if g, ok := movedKinds[gk]; ok {
		gk.Group = g
	}
	m, err := c.mapper.RESTMappingWithContext(ctx, gk)
	if err != nil {
		return "", false
	}
	obj.SetAPIVersion(m.GroupVersionKind.GroupVersion().String())
	return obj.GetAPIVersion(), true
}

// build is Build; with lenient, an object of an API version the cluster
// does not serve is read as servedAs maps it, or left out, and reported
// in unserved instead of failing.
func (c *Client) build(ctx context.Context, manifest, namespace string, lenient bool) (list release.ResourceList, unserved []release.Unserved, err error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(manifest)))
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading manifest document %d: %w", n, err)
		}
		source := sourceOf(doc)
		objs, err := decodeDocument(doc)
		if err != nil {
			return nil, nil, fmt.Errorf("decoding %s: %w", docName(n, source), err)
		}
		for _, obj := range objs {
			r, err := c.resource(ctx, obj, namespace, source)
			var unknown *UnknownKindError
			if lenient && errors.As(err, &unknown) {
				u := release.Unserved{Name: obj.GetName(), Namespace: obj.GetNamespace(), APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind()}
				if v, ok := c.servedAs(ctx, obj); ok {
					if r, err = c.resource(ctx, obj, namespace, source); err == nil {
						u.ServedAs = v
						unserved = append(unserved, u)
						list = append(list, r)
						continue
					}
				}
				unserved = append(unserved, u)
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			list = append(list, r)
		}
	}
	return list, unserved, nil
}

// resource maps one decoded object to a release.Resource.
func (c *Client) resource(ctx context.Context, obj *unstructured.Unstructured, namespace, source string) (*release.Resource, error) {
	gvk := obj.GroupVersionKind()
	m, err := c.mapping(ctx, gvk)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return nil, &UnknownKindError{Name: obj.GetName(), APIVersion: obj.GetAPIVersion(), Kind: gvk.Kind, Source: source, Err: err}
		}
		return nil, fmt.Errorf("mapping kind %q in version %q of %s to an API resource: %w", gvk.Kind, obj.GetAPIVersion(), objName(obj, source), err)
	}
	r := &release.Resource{Object: obj, GVK: gvk, GVR: m.Resource, Name: obj.GetName(), Source: source}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		r.Namespaced = true
		if obj.GetNamespace() == "" {
			obj.SetNamespace(namespace)
		}
		r.Namespace = obj.GetNamespace()
	}
	return r, nil
}

// decodeDocument decodes one YAML document into objects: none for an
// empty document, the items of a List, else the one object.
func decodeDocument(doc []byte) ([]*unstructured.Unstructured, error) {
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, err
	}
	js = bytes.TrimSpace(js)
	if len(js) == 0 || string(js) == "null" {
		return nil, nil
	}
	if js[0] != '{' {
		return nil, fmt.Errorf("a Kubernetes object must be a YAML mapping")
	}
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(js, &head); err != nil {
		return nil, err
	}
	switch {
	case head.APIVersion == "" && head.Kind == "":
		return nil, fmt.Errorf("apiVersion and kind are not set")
	case head.APIVersion == "":
		return nil, fmt.Errorf("apiVersion is not set for kind %q", head.Kind)
	case head.Kind == "":
		return nil, fmt.Errorf("kind is not set for apiVersion %q", head.APIVersion)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(js); err != nil {
		return nil, err
	}
	if obj.GetName() == "" && !obj.IsList() {
		return nil, fmt.Errorf("%s has no metadata.name", obj.GetKind())
	}
	if !obj.IsList() {
		return []*unstructured.Unstructured{obj}, nil
	}
	var out []*unstructured.Unstructured
	err = obj.EachListItem(func(item runtime.Object) error {
		u, ok := item.(*unstructured.Unstructured)
		if !ok {
			return fmt.Errorf("list item is a %T", item)
		}
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			return fmt.Errorf("list item %q lacks apiVersion or kind", u.GetName())
		}
		if u.GetName() == "" {
			return fmt.Errorf("list item of kind %s has no metadata.name", u.GetKind())
		}
		out = append(out, u)
		return nil
	})
	return out, err
}

// sourceOf returns the template named by the document's "# Source:"
// comment, "" without one.
func sourceOf(doc []byte) string {
	for _, line := range strings.Split(string(doc), "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "# Source:"); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// docName names a document in messages.
func docName(n int, source string) string {
	if source != "" {
		return fmt.Sprintf("manifest document %d (%s)", n, source)
	}
	return fmt.Sprintf("manifest document %d", n)
}

// objName names a decoded object in messages.
func objName(obj *unstructured.Unstructured, source string) string {
	s := fmt.Sprintf("%s %q", obj.GetKind(), obj.GetName())
	if source != "" {
		s += " (" + source + ")"
	}
	return s
}
