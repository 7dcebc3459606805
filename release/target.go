package release

import (
	"context"
	"fmt"
	"io"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"pkg.dev/pkg/render"
)

// Resource is one object of a release's manifest, resolved against the
// cluster's API: its kind mapped to a resource, its namespace defaulted.
type Resource struct {
	// Object is the object as the manifest declares it (after the release
	// layer added its ownership metadata).
	Object *unstructured.Unstructured
	// GVK is the object's group, version and kind.
	GVK schema.GroupVersionKind
	// GVR is the API resource that serves the kind.
	GVR schema.GroupVersionResource
	// Namespaced tells whether the kind lives in a namespace; Namespace is
	// then the object's namespace (the manifest's, else the release's).
	Namespaced bool
	// Namespace is the object's namespace, "" for cluster-scoped kinds.
	Namespace string
	// Name is the object's metadata.name.
	Name string
	// Source is the template that rendered the object, from the
	// manifest's "# Source:" comment; "" when the manifest has none.
	Source string
}

// String names the resource as users see it in messages:
// `Deployment "web" in namespace "default"`.
func (r *Resource) String() string {
	if r.Namespaced {
		return r.GVK.Kind + " \"" + r.Name + "\" in namespace \"" + r.Namespace + "\""
	}
	return r.GVK.Kind + " \"" + r.Name + "\""
}

// ResourceList is an ordered list of resources.
type ResourceList []*Resource

// UpdateOptions tune Target.Update.
type UpdateOptions struct {
	// Force replaces objects (delete and re-create) when a patch fails.
	Force bool
	// Keep says which resources of the original list must survive even if
	// the target list drops them (helm.sh/resource-policy: keep).
	Keep func(*Resource) bool
	// Live, when not nil, holds the live objects of the target list read
	// ahead (same index; nil for one that did not exist), as Get returns
	// them, so that Update patches without reading each object first. A
	// missing object is created; if it has appeared since, it is read and
	// patched.
	Live []*unstructured.Unstructured
}

// ApplyResult says what an apply did to each resource.
type ApplyResult struct {
	Created ResourceList
	Updated ResourceList
	Deleted ResourceList
}

// WaitOptions tune Target.Wait.
type WaitOptions struct {
	// Timeout bounds the wait.
	Timeout time.Duration
	// Jobs waits for Jobs to complete too.
	Jobs bool
	// Progress, if set, is called while waiting with the resources that are
	// not ready yet and why.
	Progress func(pending []Pending)
}

// Pending is a resource a wait is still waiting for.
type Pending struct {
	Resource *Resource
	// Reason says what is missing ("0 of 3 replicas available").
	Reason string
}

// DeleteOptions tune Target.Delete.
type DeleteOptions struct {
	// Propagation is the deletion propagation policy ("Background",
	// "Foreground", "Orphan"); "" means Background.
	Propagation string
}

// Target is the cluster a release is applied to, seen only through the
// Kubernetes API. The production implementation (package release/kube)
// talks to any API server through client-go; the bundled orchestrator and
// a real cluster are driven the same way.
type Target interface {
	// Capabilities reports the server's version and API versions, which
	// templates see as .Capabilities.
	Capabilities(ctx context.Context) (*render.Capabilities, error)
	// Build parses a manifest stream (YAML documents) into resources,
	// mapping kinds through discovery. Objects without a namespace get
	// namespace when their kind is namespaced.
	Build(ctx context.Context, manifest, namespace string) (ResourceList, error)
	// Get reads the live objects; a missing one is nil in the result
	// (same index as in list), not an error.
	Get(ctx context.Context, list ResourceList) ([]*unstructured.Unstructured, error)
	// Create creates every resource, in order, stopping at the first error,
	// which names the resource and carries the API's message.
	Create(ctx context.Context, list ResourceList) (*ApplyResult, error)
	// Update moves the cluster from original (the previous revision's
	// resources) to target: resources only in target are created, those in
	// both are patched with a three-way merge of original, live and target
	// (strategic merge patch for built-in kinds, JSON merge patch for the
	// others), and those only in original are deleted unless opts.Keep
	// keeps them.
	Update(ctx context.Context, original, target ResourceList, opts UpdateOptions) (*ApplyResult, error)
	// Delete deletes every resource, in reverse order; a missing one is
	// skipped. It returns what it deleted and every error met.
	Delete(ctx context.Context, list ResourceList, opts DeleteOptions) (*ApplyResult, []error)
	// Wait waits until every resource is ready as Helm judges readiness.
	Wait(ctx context.Context, list ResourceList, opts WaitOptions) error
	// WaitForDelete waits until every resource is gone.
	WaitForDelete(ctx context.Context, list ResourceList, timeout time.Duration) error
	// WatchUntilReady waits for hook resources: Jobs until complete (an
	// error if failed), Pods until succeeded (an error if failed); other
	// kinds are ready once created.
	WatchUntilReady(ctx context.Context, list ResourceList, timeout time.Duration) error
	// EnsureNamespace creates the namespace if it does not exist.
	EnsureNamespace(ctx context.Context, name string) error
}

// ResourceState is the readiness of one live resource.
type ResourceState struct {
	// Exists is false when the resource is not in the cluster.
	Exists bool
	// Ready is readiness as Wait judges it.
	Ready bool
	// Reason says what is missing, or what the resource reports.
	Reason string
}

// ReadinessReporter is implemented by targets that can report, once and
// without waiting, how ready each resource is (`status --show-resources`).
type ReadinessReporter interface {
	Ready(ctx context.Context, list ResourceList) ([]ResourceState, error)
}

// Looker is implemented by targets that serve the templates' lookup
// function from the cluster.
type Looker interface {
	Lookup(ctx context.Context) render.LookupFunc
}

// ServedBuilder is implemented by targets that can build the manifest
// of a revision already applied whose objects' API versions the cluster
// may no longer serve: an object whose kind is served in another version
// (the API moved: apps/v1beta2 to apps/v1, extensions/v1beta1 Ingress to
// networking.k8s.io/v1) is read as that version, and one whose kind is
// not served at all is left out; each is reported in unserved.
type ServedBuilder interface {
	BuildServed(ctx context.Context, manifest, namespace string) (list ResourceList, unserved []Unserved, err error)
}

// Unserved is an object of a manifest whose API version the cluster
// does not serve.
type Unserved struct {
	Name, Namespace, APIVersion, Kind string
	// ServedAs is the API version the object was read as, when its kind
	// is served in another; "" when it was left out.
	ServedAs string
}

func (u Unserved) String() string {
	if u.ServedAs != "" {
		return fmt.Sprintf("%s %q of %s is read as %s, the version the cluster serves", u.Kind, u.Name, u.APIVersion, u.ServedAs)
	}
	return fmt.Sprintf("%s %q of %s is left out: the cluster does not serve that kind, so nothing of it can be there", u.Kind, u.Name, u.APIVersion)
}

// PodRecreator is implemented by targets that can restart the Pods of
// workloads by deleting them (`pkg rollback --recreate-pods`).
type PodRecreator interface {
	RecreatePods(ctx context.Context, list ResourceList) error
}

// PodLogReader is implemented by targets that can stream a Pod's log
// (`pkg test --logs`).
type PodLogReader interface {
	PodLogs(ctx context.Context, namespace, pod string, w io.Writer) error
}

// Prefetcher is implemented by targets that can start reading what
// Build needs (the API's discovery) in the background, so that it
// overlaps the requests a command makes before its first Build.
type Prefetcher interface {
	Prefetch(ctx context.Context)
}
