package cluster

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"

	"path/filepath"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"pkg.dev/pkg/orchestrator/controllers"
	"pkg.dev/pkg/orchestrator/image"
	"pkg.dev/pkg/orchestrator/node"
	"pkg.dev/pkg/orchestrator/runtime"
	"pkg.dev/pkg/orchestrator/scheduler"
)

// components are what runs beside the API server in the orchestrator
// process, each a client of the API like any other: the workload
// controllers, the scheduler, the node lifecycle controller and one agent
// per virtual node.
type components struct {
	wg sync.WaitGroup
}

// startComponents starts the components against the server at url, with
// the cluster's own credentials, until ctx ends.
func startComponents(ctx context.Context, dir, url string, creds Credentials, nodes int, log *slog.Logger) (*components, error) {
	cfg := &rest.Config{
		Host:            url,
		BearerToken:     creds.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: creds.CAPEM},
		QPS:             -1,
		UserAgent:       "pkg-orchestrator",
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the components' client: %w", err)
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
		return controllers.Run(ctx, cfg, controllers.Options{Logger: log.With("component", "controllers")})
	})
	run("node-lifecycle", (&node.Lifecycle{Client: cs, Log: log.With("component", "node-lifecycle")}).Run)
	cpu, mem := nodeCapacity(nodes)
	images, err := image.Open(filepath.Join(dir, "images"))
	if err != nil {
		return nil, fmt.Errorf("opening the image store: %w", err)
	}
	// One Pod network for every node on this host, when we may make one.
	var network *node.Network
	if os.Geteuid() == 0 {
		network = &node.Network{}
	}
	for i := 1; i <= nodes; i++ {
		name := fmt.Sprintf("pkg-node-%d", i)
		nlog := log.With("component", "node-agent", "node", name)
		a := &node.Agent{
			Config: node.Config{Name: name, CPU: cpu, Memory: mem, Pods: 110},
			Client: cs,
			Log:    nlog,
		}
		run(name, a.Run)
		nodeDir := filepath.Join(dir, "nodes", name)
		drv, err := runtime.NewRuncDriver(filepath.Join(nodeDir, "runc"), "", nlog)
		if err != nil {
			nlog.Warn("no container runtime: Pods bound to this node will not run", "err", err)
			continue
		}
		nlog.Info("container runtime", "driver", drv.Name())
		r := &node.PodRunner{Node: name, Client: cs, Runtime: drv, Images: storeImages{images}, Network: network, Dir: nodeDir, Log: nlog}
		run(name+"-pods", r.Run)
	}
	return c, nil
}

// wait waits for every component to stop.
func (c *components) wait() { c.wg.Wait() }

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
