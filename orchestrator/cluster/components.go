package cluster

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"

	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"pkg.dev/pkg/orchestrator/apiserver"
	"pkg.dev/pkg/orchestrator/controllers"
	"pkg.dev/pkg/orchestrator/image"
	"pkg.dev/pkg/orchestrator/node"
	"pkg.dev/pkg/orchestrator/proxy"
	"pkg.dev/pkg/orchestrator/runtime"
	"pkg.dev/pkg/orchestrator/scheduler"
	"pkg.dev/pkg/orchestrator/storage"
)

// components are what runs beside the API server in the orchestrator
// process, each a client of the API like any other: the workload
// controllers, the scheduler, the node lifecycle controller and one agent
// per virtual node.
type components struct {
	wg sync.WaitGroup
	// network is the cluster network, removed once everything stopped.
	network *node.Network
}

// clusterNetwork makes the one cluster network for every node on this
// host, when we may make one (root); nil otherwise.
func clusterNetwork(ctx context.Context, dir string, log *slog.Logger) *node.Network {
	if os.Geteuid() != 0 {
		return nil
	}
	// One namespace per data dir, so that two clusters (or tests) on
	// this machine never share a network.
	sum := sha256.Sum256([]byte(dir))
	network := &node.Network{NS: "pkg-net-" + hex.EncodeToString(sum[:4])}
	if err := network.Ensure(ctx); err != nil {
		log.Warn("no cluster network: Pods will have no address and Services no proxy", "err", err)
		return nil
	}
	return network
}

// startComponents starts the components against the server at url, with
// the cluster's own credentials, until ctx ends, with one agent for each
// of nodes (checked by ResolveNodes), which runs its containers with the
// runtime its config names (see runtime.NewDriver). rt is the runtime
// asked for the nodes, checked even when there are none. netOpts is the
// cluster network and how its services run.
//
// With api, the API server's handler in this process, the components'
// requests go to it directly (apiserver.InProcessTransport), without TLS,
// HTTP/2 or a socket; with nil, over HTTPS to url.
func startComponents(ctx context.Context, dir, url string, creds Credentials, api http.Handler, nodes []NodeConfig, rt string, netOpts netOptions, log *slog.Logger) (*components, error) {
	network := netOpts.network
	cfg := &rest.Config{
		Host:            url,
		BearerToken:     creds.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: creds.CAPEM},
		QPS:             -1,
		UserAgent:       "pkg-orchestrator",
	}
	if api != nil {
		cfg.TLSClientConfig = rest.TLSClientConfig{}
		cfg.Transport = apiserver.InProcessTransport(api)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the components' client: %w", err)
	}
	if err := runtime.CheckName(rt); err != nil {
		return nil, err
	}
	c := &components{}
	run := func(name string, f func(context.Context) error) {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			if err := f(ctx); err != nil && ctx.Err() == nil {
				log.Error("component stopped", "component", name, "err", err)
			}
		}()
	}
	run("scheduler", scheduler.New(cs, scheduler.Options{Log: log.With("component", "scheduler")}).Run)
	run("controllers", func(ctx context.Context) error {
		return controllers.Run(ctx, cfg, controllers.Options{Logger: log.With("component", "controllers"), RootCA: creds.CAPEM})
	})
	run("node-lifecycle", (&node.Lifecycle{Client: cs, Log: log.With("component", "node-lifecycle")}).Run)
	// Persistent volumes: the default StorageClass, and the controller
	// that binds claims and provisions a directory per volume.
	if err := storage.EnsureDefaultClass(ctx, cs); err != nil {
		log.Warn("default StorageClass", "err", err)
	}
	run("persistentvolume-controller", (&storage.Controller{Client: cs, Dir: filepath.Join(dir, "volumes"), Log: log.With("component", "persistentvolume-controller")}).Run)
	hostCPU, hostMem := nodeCapacity(len(nodes))
	images, err := image.Open(filepath.Join(dir, "images"))
	if err != nil {
		return nil, fmt.Errorf("opening the image store: %w", err)
	}
	// The cluster network (nil when it could not be made) has the
	// Service proxy and the cluster DNS in it; it is removed once
	// everything stopped.
	c.network = network
	dnsIP := startServices(ctx, cs, netOpts, log, run)
	podImages := &storeImages{store: images, log: log.With("component", "images")}
	for _, n := range nodes {
		name := n.Name
		cfg, err := n.agentConfig(hostCPU, hostMem)
		if err != nil {
			return nil, err
		}
		nlog := log.With("component", "node-agent", "node", name)
		nodeDir := filepath.Join(dir, "nodes", name)
		drv, why, err := runtime.NewDriver(n.Runtime, nodeDir, nlog)
		if err == nil {
			cfg.Runtime = drv.Name()
		}
		mem := cfg.Memory
		a := &node.Agent{Config: cfg, Client: cs, Log: nlog}
		run(name, a.Run)
		if err != nil {
			nlog.Warn("no container runtime: Pods bound to this node will not run", "err", err)
			// Nothing runs there to stop: deleted Pods go at once.
			run(name+"-pods", (&node.Finisher{Node: name, Client: cs, Log: nlog}).Run)
			continue
		}
		nlog.Info("container runtime", "driver", drv.Name(), "reason", why)
		r := &node.PodRunner{Node: name, Client: cs, Runtime: drv, Images: podImages, Network: network, Dir: nodeDir, DNS: dnsIP, Log: nlog, Eviction: &node.Eviction{NodeMemory: mem.Value()}}
		run(name+"-pods", r.Run)
		run(name+"-usage", (&node.UsageMeter{Node: name, Client: cs, Dir: nodeDir, Log: nlog}).Run)
	}
	return c, nil
}

// agentConfig is the node agent's config of n: its capacity, else
// this host's share (cpu, mem) and DefaultNodePods Pods; its labels,
// with zone and region; its taints. The runtime is left to the caller.
func (n NodeConfig) agentConfig(cpu, mem resource.Quantity) (node.Config, error) {
	c := node.Config{Name: n.Name, CPU: cpu, Memory: mem, Pods: DefaultNodePods, Labels: n.labels(), Taints: n.taints()}
	for _, q := range []struct {
		value Quantity
		to    *resource.Quantity
		field string
	}{{n.Capacity.CPU, &c.CPU, "capacity.cpu"}, {n.Capacity.Memory, &c.Memory, "capacity.memory"}} {
		if q.value == "" {
			continue
		}
		v, err := resource.ParseQuantity(string(q.value))
		if err != nil {
			return node.Config{}, fmt.Errorf("node %s: %s: %w", n.Name, q.field, err)
		}
		*q.to = v
	}
	if n.Capacity.Pods != nil {
		c.Pods = *n.Capacity.Pods
	}
	return c, nil
}

// DNSAddress is the kube-dns Service's cluster IP, where the cluster DNS
// answers (the tenth address of the default service range, as kubeadm
// chooses it).
const DNSAddress = "10.96.0.10"

// ensureDNSService creates kube-system/kube-dns at DNSAddress if missing.
func ensureDNSService(ctx context.Context, cs kubernetes.Interface) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: proxy.DNSService, Namespace: proxy.DNSNamespace, Labels: map[string]string{"k8s-app": "kube-dns"}},
		Spec: corev1.ServiceSpec{
			ClusterIP: DNSAddress,
			Ports: []corev1.ServicePort{
				{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
				{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP},
			},
		},
	}
	if cur, err := cs.CoreV1().Services(proxy.DNSNamespace).Get(ctx, proxy.DNSService, metav1.GetOptions{}); err == nil {
		if cur.Spec.ClusterIP != DNSAddress {
			return fmt.Errorf("Service %s/%s exists with cluster IP %s, not %s: Pods' DNS would not reach it", proxy.DNSNamespace, proxy.DNSService, cur.Spec.ClusterIP, DNSAddress)
		}
		return nil
	}
	_, err := cs.CoreV1().Services(proxy.DNSNamespace).Create(ctx, svc, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// wait waits for every component to stop, then removes the cluster
// network: a stopped orchestrator leaves nothing in the host's network
// configuration.
func (c *components) wait() {
	c.wg.Wait()
	if c.network != nil {
		_ = c.network.Remove(context.Background())
	}
}

// nodeCapacity shares this host's CPUs and memory between n virtual
// nodes, as their capacity.
func nodeCapacity(n int) (resource.Quantity, resource.Quantity) {
	if n < 1 {
		n = 1
	}
	milli := int64(goruntime.NumCPU()) * 1000 / int64(n)
	mem := hostMemory() / int64(n)
	return *resource.NewMilliQuantity(milli, resource.DecimalSI), *resource.NewQuantity(mem, resource.BinarySI)
}

// hostMemory reads MemTotal from /proc/meminfo (4 GiB if unreadable).
func hostMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 4 << 30
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			if kib, err := strconv.ParseInt(fields[1], 10, 64); err == nil {
				return kib * 1024
			}
		}
	}
	return 4 << 30
}
