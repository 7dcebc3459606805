package cluster

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"

	"pkg.dev/pkg/orchestrator/apiserver"
	"pkg.dev/pkg/orchestrator/node"
)

// nodeMetrics returns the metrics.k8s.io source of the cluster in dir: the
// figures each node's usage meter keeps in its directory, read when asked,
// as the API server reads container logs.
func nodeMetrics(dir string, now func() time.Time) apiserver.NodeMetricsFunc {
	return func(_ context.Context, name string) (*apiserver.NodeUsage, error) {
		u, err := node.ReadUsage(filepath.Join(dir, "nodes", name), now())
		if errors.Is(err, node.ErrNoUsage) {
			return nil, fmt.Errorf("node %s: %w", name, apiserver.ErrNoMetrics)
		}
		if err != nil {
			return nil, err
		}
		return convertUsage(u), nil
	}
}

// convertUsage gives a node's figures as the API server serves them: cpu
// in nanocores and memory in bytes, as metrics-server's quantities.
func convertUsage(u *node.Usage) *apiserver.NodeUsage {
	out := &apiserver.NodeUsage{
		Timestamp: u.Timestamp,
		Window:    u.Window,
		CPU:       *resource.NewScaledQuantity(u.CPUNanoCores, resource.Nano),
		Memory:    *resource.NewQuantity(u.MemoryBytes, resource.BinarySI),
		Pods:      make(map[types.UID]apiserver.PodUsage, len(u.Pods)),
	}
	for _, p := range u.Pods {
		pu := apiserver.PodUsage{Window: p.Window}
		for _, c := range p.Containers {
			pu.Containers = append(pu.Containers, apiserver.ContainerUsage{
				Name:   c.Name,
				CPU:    *resource.NewScaledQuantity(c.CPUNanoCores, resource.Nano),
				Memory: *resource.NewQuantity(c.MemoryBytes, resource.BinarySI),
			})
		}
		out.Pods[p.UID] = pu
	}
	return out
}
