package kube

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"pkg.dev/pkg/release"
)

// DefaultPollInterval is how often Wait and WaitForDelete look at the
// cluster when Options.PollInterval is zero: Helm's two seconds.
const DefaultPollInterval = 2 * time.Second

// DefaultFieldManager is the field manager written on the objects this
// package creates and patches when Options.FieldManager is empty.
const DefaultFieldManager = "pkg"

// Options tune a Client.
type Options struct {
	// Logger receives debug messages about what the client does; nil
	// discards them.
	Logger *slog.Logger
	// PollInterval is how often waits look at the cluster; zero means
	// DefaultPollInterval.
	PollInterval time.Duration
	// FieldManager names this client in the objects' managed fields; empty
	// means DefaultFieldManager.
	FieldManager string
}

// Client is a release.Target over a Kubernetes API server. It is safe for
// concurrent use.
type Client struct {
	dynamic   dynamic.Interface
	typed     kubernetes.Interface
	discovery discovery.CachedDiscoveryInterfaceWithContext
	mapper    *restmapper.DeferredDiscoveryRESTMapper
	log       *slog.Logger
	interval  time.Duration
	manager   string
}

var _ release.Target = (*Client)(nil)

// New returns a Client for the API server cfg points at. It does not
// contact the server: discovery happens on first use.
func New(cfg *rest.Config, opts Options) (*Client, error) {
	if cfg == nil {
		return nil, fmt.Errorf("creating a Kubernetes client: no configuration given")
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the dynamic Kubernetes client for %s: %w", cfg.Host, err)
	}
	typed, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the Kubernetes client for %s: %w", cfg.Host, err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the Kubernetes discovery client for %s: %w", cfg.Host, err)
	}
	cached := memory.NewMemCacheClientWithContext(dc)
	c := &Client{
		dynamic:   dyn,
		typed:     typed,
		discovery: cached,
		mapper:    restmapper.NewDeferredDiscoveryRESTMapperWithContext(cached),
		log:       opts.Logger,
		interval:  opts.PollInterval,
		manager:   opts.FieldManager,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.interval <= 0 {
		c.interval = DefaultPollInterval
	}
	if c.manager == "" {
		c.manager = DefaultFieldManager
	}
	return c, nil
}

// parallelRequests is how many requests of one step (reading the live
// objects, creating or patching one kind) are in flight at once: enough
// for a typical chart's step to go in one round trip.
const parallelRequests = 16

// Prefetch starts discovery in the background, so that the first
// mapping of a kind does not wait for it after the requests that come
// before it (taking the release lock, reading the history). Mappings
// asked meanwhile wait for the same discovery rather than start another.
func (c *Client) Prefetch(ctx context.Context) {
	go func() {
		_, _ = c.mapper.RESTMappingWithContext(ctx, schema.GroupKind{Kind: "ConfigMap"}, "v1")
	}()
}

// mapping maps a kind to its API resource. When discovery does not know
// the kind, the cache is dropped and discovery asked once more, since the
// kind's CRD may have been created since the cache was filled.
func (c *Client) mapping(ctx context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	m, err := c.mapper.RESTMappingWithContext(ctx, gvk.GroupKind(), gvk.Version)
	if err != nil && meta.IsNoMatchError(err) {
		c.mapper.ResetWithContext(ctx)
		m, err = c.mapper.RESTMappingWithContext(ctx, gvk.GroupKind(), gvk.Version)
	}
	return m, err
}

// resourceClient returns the dynamic client of r's API resource.
func (c *Client) resourceClient(r *release.Resource) dynamic.ResourceInterface {
	if r.Namespaced {
		return c.dynamic.Resource(r.GVR).Namespace(r.Namespace)
	}
	return c.dynamic.Resource(r.GVR)
}

// live reads r's object from the cluster; it returns nil, nil when the
// object does not exist.
func (c *Client) live(ctx context.Context, r *release.Resource) (*unstructured.Unstructured, error) {
	obj, err := c.resourceClient(r).Get(ctx, r.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", r, err)
	}
	return obj, nil
}

// Get reads the live objects of list; a missing one is nil at its index.
func (c *Client) Get(ctx context.Context, list release.ResourceList) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, len(list))
	errs := make([]error, len(list))
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallelRequests)
	for i, r := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = c.live(ctx, r)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// EnsureNamespace creates the namespace name, labelled name=<name> as Helm
// labels the namespaces it creates, unless it exists.
func (c *Client) EnsureNamespace(ctx context.Context, name string) error {
	nsc := c.typed.CoreV1().Namespaces()
	if _, err := nsc.Get(ctx, name, metav1.GetOptions{}); err == nil {
		return nil
	} else if !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading namespace %q: %w", name, err)
	}
	ns := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Namespace",
		"metadata": map[string]any{
			"name":   name,
			"labels": map[string]any{"name": name},
		},
	}}
	_, err := c.dynamic.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).
		Create(ctx, ns, metav1.CreateOptions{FieldManager: c.manager})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %q: %w", name, err)
	}
	return nil
}
