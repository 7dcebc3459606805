package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"pkg.dev/pkg/orchestrator/cluster"
	"pkg.dev/pkg/release"
	"pkg.dev/pkg/release/kube"
)

// connection is a client for the cluster the release commands act on,
// resolved once per command.
type connection struct {
	config    *rest.Config
	namespace string
	// bundled is set when the cluster is pkg's own orchestrator, chosen
	// because no kubeconfig exists.
	bundled bool
}

// restConfig resolves the cluster as Helm and kubectl do: --kubeconfig,
// else $KUBECONFIG, else ~/.kube/config, with --kube-context and the other
// --kube-* flags applied over it. When none of those files exists and no
// --kube-apiserver is given, it is the bundled orchestrator, started on
// first use, so that `pkg install` works on a machine with nothing else.
func (g *globalOptions) connect(ctx context.Context, env Env) (*connection, error) {
	paths := kubeconfigPaths(env, g.kubeconfig)
	exists := false
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			exists = true
		}
	}
	if g.kubeconfig != "" && !exists {
		return nil, fmt.Errorf("kubeconfig %s: no such file; remove --kubeconfig to use the bundled cluster", g.kubeconfig)
	}
	bundled := false
	if !exists && g.kubeAPIServer == "" {
		path, err := ensureBundledCluster(ctx, env)
		if err != nil {
			return nil, err
		}
		paths, bundled = []string{path}, true
	}
	rules := &clientcmd.ClientConfigLoadingRules{Precedence: paths}
	if g.kubeconfig != "" {
		rules = &clientcmd.ClientConfigLoadingRules{ExplicitPath: g.kubeconfig}
	}
	over := &clientcmd.ConfigOverrides{}
	over.CurrentContext = g.kubeContext
	if over.CurrentContext == "" {
		over.CurrentContext = env.getenv("HELM_KUBECONTEXT")
	}
	if g.kubeAPIServer != "" {
		over.ClusterInfo.Server = g.kubeAPIServer
	}
	if g.kubeCAFile != "" {
		over.ClusterInfo.CertificateAuthority = g.kubeCAFile
	}
	if g.kubeTLSServer != "" {
		over.ClusterInfo.TLSServerName = g.kubeTLSServer
	}
	if g.kubeInsecure {
		over.ClusterInfo.InsecureSkipTLSVerify = true
	}
	if g.kubeToken != "" {
		over.AuthInfo.Token = g.kubeToken
	}
	if g.kubeAsUser != "" {
		over.AuthInfo.Impersonate = g.kubeAsUser
	}
	if len(g.kubeAsGroups) > 0 {
		over.AuthInfo.ImpersonateGroups = g.kubeAsGroups
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, over)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubernetes cluster unreachable: %w", err)
	}
	cfg.Burst = g.burstLimit
	cfg.QPS = g.qps
	if cfg.QPS == 0 {
		cfg.QPS = -1 // no client-side throttling, as Helm 3.22 by default
	}
	cfg.UserAgent = "pkg/" + version + " " + rest.DefaultKubernetesUserAgent()
	// The API server's warnings (unknown fields, deprecated versions) go
	// to standard error as kubectl shows them, naming the release's
	// resource and template they are about.
	cfg.WarningHandlerWithContext = kube.NewWarningPrinter(env.Streams.Err)
	ns := g.namespace
	if ns == "" {
		ns = env.getenv("HELM_NAMESPACE")
	}
	if ns == "" {
		if n, _, err := cc.Namespace(); err == nil {
			ns = n
		}
	}
	if ns == "" {
		ns = "default"
	}
	return &connection{config: cfg, namespace: ns, bundled: bundled}, nil
}

// ensureBundledCluster returns the bundled orchestrator's kubeconfig,
// starting the orchestrator first if it is not running.
func ensureBundledCluster(ctx context.Context, env Env) (string, error) {
	dir, err := filepath.Abs(clusterDataDir(env))
	if err != nil {
		return "", err
	}
	st, running, err := cluster.Check(dir)
	if err != nil {
		return "", fmt.Errorf("checking the bundled cluster in %s: %w", dir, err)
	}
	if !running {
		exe, err := os.Executable()
		if err != nil {
			return "", fmt.Errorf("finding the pkg executable: %w", err)
		}
		fmt.Fprintf(env.Streams.Err, "No kubeconfig found: starting pkg's bundled cluster (data in %s).\n", dir)
		st, err = cluster.Start(ctx, cluster.StartOptions{
			DataDir: dir,
			Command: []string{exe, "cluster", "serve", "--data-dir", dir, "--address", cluster.DefaultAddress,
				"--port", strconv.Itoa(bundledPort())},
			Progress: env.Streams.Err,
		})
		if err != nil {
			var re *cluster.RunningError
			if !errors.As(err, &re) {
				return "", fmt.Errorf("starting the bundled cluster: %w", err)
			}
			st, _, err = cluster.Check(dir)
			if err != nil {
				return "", err
			}
		}
	}
	return writeClusterKubeconfig(env, dir, st.URL)
}

// loggingTransport logs every API request with --debug: method, path,
// status and how long it took.
type loggingTransport struct {
	rt  http.RoundTripper
	log *slog.Logger
}

func (l *loggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := l.rt.RoundTrip(req)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	l.log.Debug("api request", "method", req.Method, "path", req.URL.RequestURI(), "status", status, "took", time.Since(start).Round(10*time.Microsecond), "err", err)
	return resp, err
}

// bundledPort is the port a bundled cluster started on first use listens
// on: the default one, or any free one when something else holds it.
func bundledPort() int {
	addr := net.JoinHostPort(cluster.DefaultAddress, strconv.Itoa(cluster.DefaultPort))
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		return cluster.DefaultPort
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cluster.DefaultAddress, "0"))
	if err != nil {
		return cluster.DefaultPort
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// releaseDriver picks the storage driver as Helm does, from $HELM_DRIVER:
// "secret" (the default), "configmap" or "memory".
func releaseDriver(env Env, cs kubernetes.Interface, namespace string, log *slog.Logger) (release.Driver, error) {
	switch d := strings.ToLower(env.getenv("HELM_DRIVER")); d {
	case "", "secret", "secrets":
		return release.NewSecretsDriver(cs.CoreV1(), namespace, time.Now, log), nil
	case "configmap", "configmaps":
		return release.NewConfigMapsDriver(cs.CoreV1(), namespace, time.Now, log), nil
	case "memory":
		return release.NewMemoryDriver(namespace), nil
	default:
		return nil, fmt.Errorf("unknown driver %q: HELM_DRIVER must be secret, configmap or memory", d)
	}
}

// releaseEnv builds what the release actions need for the namespace ns
// ("" for every namespace, for listing).
func (g *globalOptions) releaseEnv(ctx context.Context, env Env, allNamespaces bool) (*release.Env, *connection, error) {
	conn, err := g.connect(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if g.debug {
		log = slog.New(slog.NewTextHandler(env.Streams.Err, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if g.debug {
		conn.config.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &loggingTransport{rt: rt, log: log} })
	}
	cs, err := kubernetes.NewForConfig(conn.config)
	if err != nil {
		return nil, nil, fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	ns := conn.namespace
	if allNamespaces {
		ns = ""
	}
	drv, err := releaseDriver(env, cs, ns, log)
	if err != nil {
		return nil, nil, err
	}
	target, err := kube.New(conn.config, kube.Options{Logger: log})
	if err != nil {
		return nil, nil, err
	}
	e := &release.Env{
		Storage: release.NewStorage(drv),
		Target:  target,
		Locker:  &release.LeaseLocker{Leases: cs.CoordinationV1(), Identity: release.NewIdentity()},
		Clock:   time.Now,
		Log:     log,
		Progress: func(msg string) {
			fmt.Fprintln(env.Streams.Err, msg)
		},
	}
	return e, conn, nil
}
