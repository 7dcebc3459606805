package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"

	"pkg.dev/pkg/orchestrator/apiserver"
	"pkg.dev/pkg/orchestrator/node"
	"pkg.dev/pkg/orchestrator/store"
)

// Defaults of Options.
const (
	// DefaultAddress is where the server listens: loopback only.
	DefaultAddress = "127.0.0.1"
	// DefaultPort is the port of the Kubernetes API, as kube-apiserver's.
	DefaultPort = 6443
	// DefaultShutdownGrace is how long requests in flight get to finish
	// once the server is asked to stop.
	DefaultShutdownGrace = 3 * time.Second
)

// SecretsPrefix is the store prefix of Secrets, sealed at rest.
const SecretsPrefix = "/registry/secrets/"

// Options configure Run.
type Options struct {
	// DataDir holds the store, the credentials and the state. Required.
	DataDir string
	// Address is the IP address or host name to listen on; DefaultAddress
	// when empty.
	Address string
	// Port is the TCP port; DefaultPort when 0.
	Port int
	// Nodes is the number of virtual nodes, each a node agent in this
	// process registering a Node "pkg-node-N"; 0 runs none. NodeConfigs,
	// when set, replaces it.
	Nodes int
	// NodeConfigs, when not nil, are the virtual nodes, each with its own
	// name, labels, capacity, taints and runtime (see LoadConfig for the
	// file that gives them); Nodes is ignored. Run checks them with
	// ResolveNodes.
	NodeConfigs []NodeConfig
	// Runtime names the nodes' container runtime: "runc", "builtin", or
	// "auto" (also when empty), which takes runc when it can run here and
	// the built-in launcher otherwise; a NodeConfig naming its own runtime
	// overrides it. Each node logs the choice and why.
	Runtime string
	// DNSUpstream are the servers (IP:port, see DNSUpstreams) the
	// cluster DNS forwards names outside the cluster domain to; with
	// none they get NXDOMAIN.
	DNSUpstream []string
	// UserspaceRelay makes the Service proxy relay forwarded connections
	// in user space even where the kernel could join them.
	UserspaceRelay bool
	// Logger receives the server's messages; discarded when nil.
	Logger *slog.Logger
	// Clock gives the time; time.Now when nil.
	Clock func() time.Time
	// Ready, when not nil, is called with the state once the server
	// accepts connections.
	Ready func(State)
	// TrimStartupMemory, when set, gives back the memory only start-up
	// needed a few seconds after the components start (see
	// trimStartupMemory). pkg cluster serve sets it; tests that run the
	// server in their own process leave it off.
	TrimStartupMemory bool
}

// trimDelay is how long after start the server trims: long enough for
// the components' first list and sync, after which it is idle.
const trimDelay = 3 * time.Second

// URL returns the HTTPS URL a client uses for host and port.
func URL(host string, port int) string {
	if host == "" || host == "0.0.0.0" {
		host = DefaultAddress
	} else if host == "::" {
		host = "::1"
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// advertiseIP returns the IP address clients reach a server listening on
// host at: host itself when it is an IP, loopback for the unspecified
// addresses (as URL does), the first address a host name resolves to,
// or "" when it resolves to none.
// PodAPIPort is the port the API server listens on in the cluster
// network, on the bridge's address (kube-apiserver's usual port).
const PodAPIPort = 6443

// listenForPods opens the API server's listener in the cluster network,
// on the bridge's address, and returns it with the names the serving
// certificate needs for Pods: that address, the kubernetes Service's
// cluster IP and its DNS names.
func listenForPods(network *node.Network) (net.Listener, []string, error) {
	gw, err := network.Gateway()
	if err != nil {
		return nil, nil, err
	}
	svcIP, err := apiserver.KubernetesServiceIP("")
	if err != nil {
		return nil, nil, err
	}
	var ln net.Listener
	err = network.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", net.JoinHostPort(gw.String(), strconv.Itoa(PodAPIPort)))
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("listening in the cluster network: %w", err)
	}
	names := []string{gw.String(), svcIP, "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	return ln, names, nil
}

func advertiseIP(ctx context.Context, host string) string {
	if ip := net.ParseIP(host); ip != nil {
		switch {
		case ip.IsUnspecified() && ip.To4() != nil:
			return DefaultAddress
		case ip.IsUnspecified():
			return "::1"
		}
		return ip.String()
	}
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(addrs) == 0 {
		return ""
	}
	return addrs[0].IP.String()
}

// Run serves the cluster's API in the foreground until ctx is done, then
// shuts down gracefully: it stops accepting connections, gives requests in
// flight DefaultShutdownGrace to finish, ends watches and closes the store.
// The first start in DataDir creates the directory (mode 0700), the CA and
// the token; an existing directory keeps its mode. When another server
// holds DataDir, Run fails with a *RunningError wrapping the store's
// *store.LockedError.
func Run(ctx context.Context, opts Options) (err error) {
	if opts.DataDir == "" {
		return errors.New("cluster: no data dir")
	}
	if opts.Address == "" {
		opts.Address = DefaultAddress
	}
	if opts.Port == 0 {
		opts.Port = DefaultPort
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	now := opts.Clock
	if now == nil {
		now = time.Now
	}
	nodes := opts.NodeConfigs
	if nodes == nil {
		nodes = DefaultNodes(opts.Nodes, "")
	}
	nodes, err = ResolveNodes(nodes, opts.Runtime)
	if err != nil {
		return err
	}
	dir := opts.DataDir
	// A directory that exists is the user's choice: it is not chmod-ed
	// (it could be $HOME), only warned about.
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the data dir is readable by others; it holds the cluster's keys", "dir", dir, "mode", fi.Mode().Perm().String())
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating data dir: %w", err)
	}

	st, err := store.Open(ctx, dir, store.Options{SealedPrefixes: []string{SecretsPrefix}})
	if err != nil {
		var locked *store.LockedError
		if errors.As(err, &locked) {
			prev, _ := ReadState(dir)
			return &RunningError{Dir: dir, PID: locked.PID, URL: prev.URL, Err: err}
		}
		return fmt.Errorf("opening the store in %s: %w", dir, err)
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing the store: %w", cerr)
		}
	}()

	token, err := ensureToken(dir)
	if err != nil {
		return err
	}
	ca, err := ensureCA(dir, now())
	if err != nil {
		return err
	}
	saKey, err := ensureServiceAccountKey(dir)
	if err != nil {
		return err
	}
	tokens, err := apiserver.NewTokenSigner(saKey)
	if err != nil {
		return err
	}

	// Listen first: the port, when 0 asks for any, is what the
	// kubernetes Service's endpoints advertise when Pods share the
	// host's network.
	addr := net.JoinHostPort(opts.Address, strconv.Itoa(opts.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	advertise, advertisePort := advertiseIP(ctx, opts.Address), port

	// The cluster network, when one may be made, is where Pods live: the
	// API server listens there too, on the bridge's address, which the
	// kubernetes Service's endpoints then name, so that Pods reach the
	// API at https://kubernetes.default.svc as in any cluster.
	network := clusterNetwork(ctx, dir, log)
	handedOver := false
	defer func() {
		if network != nil && !handedOver {
			_ = network.Remove(context.Background())
		}
	}()
	var podLn net.Listener
	var podNames []string
	if network != nil {
		podLn, podNames, err = listenForPods(network)
		if err != nil {
			log.Warn("the API is not served to Pods", "err", err)
		} else {
			a := podLn.Addr().(*net.TCPAddr)
			advertise, advertisePort = a.IP.String(), a.Port
		}
	}
	cert, err := ca.issueServing(dir, opts.Address, now(), podNames...)
	if err != nil {
		_ = ln.Close()
		return err
	}

	api, err := apiserver.New(ctx, apiserver.Config{
		Store:            st,
		Logger:           log,
		Clock:            now,
		Authentication:   &apiserver.Authentication{AdminToken: token, Tokens: tokens, CA: ca.pem},
		ServiceAccounts:  true,
		AdvertiseAddress: advertise,
		AdvertisePort:    advertisePort,
		Metrics:          nodeMetrics(dir, now),
		PodLogs: func(ctx context.Context, pod *corev1.Pod, o corev1.PodLogOptions) (io.ReadCloser, error) {
			return node.OpenLogs(ctx, filepath.Join(dir, "nodes", pod.Spec.NodeName), pod, o)
		},
		PodPortForward: node.DialPod,
		PodExec: func(ctx context.Context, pod *corev1.Pod, container string, command []string, s apiserver.ExecIO) (int, error) {
			return node.ExecInPod(ctx, filepath.Join(dir, "nodes", pod.Spec.NodeName), pod, container, execOptions(command, s))
		},
	})
	if err != nil {
		_ = ln.Close()
		if podLn != nil {
			_ = podLn.Close()
		}
		return fmt.Errorf("starting the API server: %w", err)
	}

	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	srv := &http.Server{
		Handler:           api,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	state := State{
		PID:       os.Getpid(),
		URL:       URL(opts.Address, port),
		Address:   opts.Address,
		Port:      port,
		Nodes:     len(nodes),
		StartedAt: now().UTC().Truncate(time.Second),
	}
	if err := writeState(dir, state); err != nil {
		_ = ln.Close()
		if podLn != nil {
			_ = podLn.Close()
		}
		return fmt.Errorf("writing state: %w", err)
	}

	served := make(chan error, 2)
	serving := 1
	go func() { served <- srv.ServeTLS(ln, "", "") }()
	if podLn != nil {
		serving++
		go func() { served <- srv.ServeTLS(podLn, "", "") }()
		log.Info("serving Pods", "address", podLn.Addr().String())
	}
	log.Info("serving", "url", state.URL, "dataDir", dir, "pid", state.PID, "nodes", len(nodes))
	compCtx, stopComponents := context.WithCancel(base)
	comps, err := startComponents(compCtx, dir, state.URL, Credentials{CAPEM: ca.pem, Token: token}, api, nodes, opts.Runtime, netOptions{network: network, dnsUpstream: opts.DNSUpstream, userspaceRelay: opts.UserspaceRelay}, log)
	if err != nil {
		stopComponents()
		_ = srv.Close()
		return err
	}
	handedOver = true
	defer func() {
		stopComponents()
		comps.wait()
	}()
	if opts.Ready != nil {
		opts.Ready(state)
	}
	if opts.TrimStartupMemory {
		go func() {
			select {
			case <-time.After(trimDelay):
			case <-compCtx.Done():
				return
			}
			before := residentKiB()
			n, err := trimStartupMemory()
			if err != nil {
				log.Warn("trimming start-up memory", "err", err)
				return
			}
			log.Info("trimmed start-up memory", "mappedBytes", n, "rssKiBBefore", before, "rssKiBAfter", residentKiB())
		}()
	}

	select {
	case err := <-served:
		_ = srv.Close()
		for serving--; serving > 0; serving-- {
			<-served
		}
		return fmt.Errorf("serving on %s: %w", addr, err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	stopComponents()
	comps.wait()
	sctx, cancel := context.WithTimeout(context.Background(), DefaultShutdownGrace)
	defer cancel()
	// Watches last until their client leaves: end them with the base
	// context while the other requests drain.
	go func() {
		select {
		case <-time.After(DefaultShutdownGrace / 3):
			cancelBase()
		case <-sctx.Done():
		}
	}()
	if err := srv.Shutdown(sctx); err != nil {
		cancelBase()
		_ = srv.Close()
	}
	for ; serving > 0; serving-- {
		<-served
	}
	log.Info("stopped")
	return nil
}
