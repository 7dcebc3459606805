package apiserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"pkg.dev/pkg/orchestrator/store"
)

// Store is what the API server needs from the object store; *store.Store
// implements it.
type Store interface {
	// Get returns the object under key.
	Get(ctx context.Context, key string) (store.KV, error)
	// Create stores a new object under key.
	Create(ctx context.Context, key string, value []byte) (store.KV, error)
	// Update replaces the object under key if its revision is expected.
	Update(ctx context.Context, key string, value []byte, expectedModRev int64) (store.KV, error)
	// Delete removes the object under key if its revision is expected.
	Delete(ctx context.Context, key string, expectedModRev int64) (store.KV, error)
	// List returns a page of the objects under prefix.
	List(ctx context.Context, prefix string, opts store.ListOptions) (store.ListResult, error)
	// Watch streams the changes under prefix after fromRev.
	Watch(ctx context.Context, prefix string, fromRev int64) (*store.Watcher, error)
	// Revision returns the current revision.
	Revision() int64
}

var _ Store = (*store.Store)(nil)

// Defaults for the zero fields of Config.
const (
	// DefaultMaxBodyBytes is the largest request body accepted: 1.5 MiB.
	DefaultMaxBodyBytes = 3 << 19
	// DefaultWatchTimeout ends watches that gave no timeoutSeconds.
	DefaultWatchTimeout = 30 * time.Minute
	// DefaultBookmarkInterval is how often watches that allow bookmarks
	// get one.
	DefaultBookmarkInterval = time.Minute
	// DefaultGitVersion is the version /version reports.
	DefaultGitVersion = "v1.37.0"
)

// SystemNamespaces are created by New when missing.
func SystemNamespaces() []string {
	return []string{"default", "kube-system", "kube-public", "kube-node-lease"}
}

// Config configures New.
type Config struct {
	// Store holds the objects. Required.
	Store Store
	// Logger receives request errors; slog.Default() style discarding
	// logger when nil.
	Logger *slog.Logger
	// Clock gives creation timestamps; time.Now when nil.
	Clock func() time.Time
	// GitVersion is the Kubernetes version reported by /version;
	// DefaultGitVersion when empty.
	GitVersion string
	// MaxBodyBytes limits request bodies; DefaultMaxBodyBytes when 0.
	MaxBodyBytes int64
	// WatchTimeout is the default watch duration; DefaultWatchTimeout
	// when 0.
	WatchTimeout time.Duration
	// BookmarkInterval is the period of watch bookmarks;
	// DefaultBookmarkInterval when 0.
	BookmarkInterval time.Duration
	// Middleware wraps the API handler, outermost first: the seam for
	// audit and request logging.
	Middleware []func(http.Handler) http.Handler
	// Authentication, when set, requires credentials of every request
	// (401 without) and authorizes every user but the admin by RBAC
	// (403), with kube-apiserver's default roles bootstrapped; it also
	// enables the serviceaccounts/token subresource. Without it every
	// request is the admin's.
	Authentication *Authentication
	// ServiceAccounts turns on the ServiceAccount admission of Pods, as
	// kube-apiserver's plugin: a Pod runs as "default" unless it names
	// another, the ServiceAccount must exist, and, unless
	// automountServiceAccountToken says no, every container gets the
	// kube-api-access volume (a token, the cluster's CA and the
	// namespace) at /var/run/secrets/kubernetes.io/serviceaccount. It
	// needs the controller that makes each namespace's default account.
	ServiceAccounts bool
	// ServiceCIDR is the IPv4 range Service cluster IPs are allocated
	// from; DefaultServiceCIDR when empty. Its first address is the
	// kubernetes Service's.
	ServiceCIDR string
	// AdvertiseAddress and AdvertisePort are where clients reach this
	// server: the kubernetes Service's target port and, when both are
	// set, its Endpoints. The target port is 6443 when AdvertisePort is 0.
	AdvertiseAddress string
	AdvertisePort    int
	// GCResyncPeriod is how often the garbage collector re-reads the
	// whole store as a safety net; DefaultGCResyncPeriod when 0.
	GCResyncPeriod time.Duration
	// Metrics serves metrics.k8s.io (kubectl top, the
	// HorizontalPodAutoscaler) from the usage the node agents measure;
	// nil serves no such group, as a cluster without metrics-server.
	Metrics NodeMetricsFunc
	// PodLogs serves the pods/log subresource (kubectl logs) from where
	// the node agents keep container logs; nil answers 404.
	PodLogs PodLogsFunc
	// PodPortForward serves the pods/portforward subresource (kubectl
	// port-forward) by connecting to a port inside the Pod's network;
	// nil answers 404.
	PodPortForward PodDialFunc
	// PodExec serves the pods/exec subresource (kubectl exec) by running
	// the command in the container; nil answers 404.
	PodExec PodExecFunc
}

// PodLogsFunc streams a container's log for GET pods/NAME/log. pod is the
// Pod object as stored; the result is closed when the response ends.
type PodLogsFunc func(ctx context.Context, pod *corev1.Pod, opts corev1.PodLogOptions) (io.ReadCloser, error)

// Server serves the Kubernetes API over a Store. It is an http.Handler.
type Server struct {
	cfg       Config
	log       *slog.Logger
	now       func() time.Time
	resources []Resource
	// scheme holds the Go types of the built-in kinds.
	scheme *runtime.Scheme
	// byGV indexes the resources by "GROUP/VERSION" then plural name.
	byGV map[string]map[string]*Resource
	// crds holds the resources of the CustomResourceDefinitions (crd.go).
	crds    crdRegistry
	handler http.Handler
	// alloc holds Service cluster IPs and node ports (services.go).
	alloc *serviceAllocator
	// gc is the garbage collector and namespace controller (gc.go).
	gc *collector
	// fields keeps managedFields and merges server-side apply patches
	// (fieldmanager.go).
	fields *fieldManagers
	// models builds the OpenAPI schemas (openapi_models.go); openapiDocs
	// caches the documents built, by group version.
	models      *openAPIModels
	openapiMu   sync.Mutex
	openapiDocs map[schema.GroupVersion]openAPICached
}

// New builds a Server and creates the system namespaces that are missing.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("apiserver: config has no store")
	}
	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Clock, resources: Resources(), scheme: newScheme()}
	if cfg.Metrics != nil {
		s.resources = append(s.resources, metricsResources()...)
	}
	s.fields = &fieldManagers{scheme: s.scheme, convert: s.convertVersion}
	s.models = &openAPIModels{}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.cfg.GitVersion == "" {
		s.cfg.GitVersion = DefaultGitVersion
	}
	if s.cfg.MaxBodyBytes <= 0 {
		s.cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if s.cfg.WatchTimeout <= 0 {
		s.cfg.WatchTimeout = DefaultWatchTimeout
	}
	if s.cfg.BookmarkInterval <= 0 {
		s.cfg.BookmarkInterval = DefaultBookmarkInterval
	}
	s.byGV = map[string]map[string]*Resource{}
	for i := range s.resources {
		r := &s.resources[i]
		gv := r.APIVersion()
		if s.byGV[gv] == nil {
			s.byGV[gv] = map[string]*Resource{}
		}
		s.byGV[gv][r.Resource] = r
	}
	if err := s.prepareControllers(ctx); err != nil {
		return nil, err
	}
	if err := s.bootstrap(ctx); err != nil {
		return nil, err
	}
	if cfg.Authentication != nil {
		if err := s.bootstrapRBAC(ctx); err != nil {
			return nil, err
		}
	}
	if err := s.loadCRDs(ctx); err != nil {
		return nil, err
	}
	if err := s.startControllers(ctx); err != nil {
		return nil, err
	}
	var h http.Handler = http.HandlerFunc(s.route)
	for i := len(cfg.Middleware) - 1; i >= 0; i-- {
		h = cfg.Middleware[i](h)
	}
	s.handler = h
	return s, nil
}

// ServeHTTP serves one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		// A panic in a handler (a library's, or a bug of ours) answers
		// as kube-apiserver does, with a 500 InternalError Status, and
		// the server keeps serving. http.ErrAbortHandler keeps its
		// meaning: abort the response silently.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			if s.log != nil {
				s.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", v)
			}
			writeError(w, fmt.Errorf("handler panic: %v", v))
		}
	}()
	u := s.authenticate(r)
	if u == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(unauthorizedBody))
		return
	}
	u, err := s.impersonate(r, u)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.handler.ServeHTTP(w, r.WithContext(WithUser(r.Context(), u)))
}

// Resources returns the resources the server serves: the built-in ones,
// then those of the CustomResourceDefinitions stored now.
func (s *Server) Resources() []Resource { return slices.Clone(s.allResources()) }

// bootstrap creates the system namespaces that do not exist yet.
func (s *Server) bootstrap(ctx context.Context) error {
	ns := s.byGV["v1"]["namespaces"]
	for _, name := range SystemNamespaces() {
		o := object{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name}}
		if _, err := s.create(ctx, ns, "", o, false); err != nil {
			if statusOf(err).Reason == "AlreadyExists" {
				continue
			}
			return fmt.Errorf("creating namespace %s: %w", name, err)
		}
	}
	return s.bootstrapPriorityClasses(ctx)
}
