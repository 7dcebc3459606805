package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pkg.dev/pkg/orchestrator/apiserver"
	"pkg.dev/pkg/orchestrator/node"
)

// TestNodeMetrics serves what a node's meter wrote in its directory as
// metrics.k8s.io quantities, and nothing for a node without figures or
// with stale ones.
func TestNodeMetrics(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	u := node.Usage{Node: "pkg-node-1", Timestamp: at, Interval: 10 * time.Second, Window: 15 * time.Second,
		CPUNanoCores: 250_000_000, MemoryBytes: 96 << 20,
		Pods: []node.PodUsage{{Namespace: "default", Name: "web", UID: "u1", Window: 14 * time.Second,
			Containers: []node.ContainerUsage{{Name: "app", CPUNanoCores: 250_000_000, MemoryBytes: 96 << 20}}}}}
	data, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	nd := filepath.Join(dir, "nodes", "pkg-node-1")
	if err := os.MkdirAll(nd, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(nd, node.UsageFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	now := at.Add(5 * time.Second)
	get := nodeMetrics(dir, func() time.Time { return now })
	got, err := get(context.Background(), "pkg-node-1")
	if err != nil {
		t.Fatal(err)
	}
	pu, ok := got.Pods["u1"]
	if !ok || got.CPU.String() != "250m" || got.Memory.String() != "96Mi" || got.Window != 15*time.Second ||
		pu.Window != 14*time.Second || len(pu.Containers) != 1 || pu.Containers[0].CPU.String() != "250m" || pu.Containers[0].Memory.String() != "96Mi" {
		t.Errorf("got %+v", got)
	}
	if _, err := get(context.Background(), "pkg-node-2"); !errors.Is(err, apiserver.ErrNoMetrics) {
		t.Errorf("a node without figures: %v", err)
	}
	now = at.Add(time.Minute)
	if _, err := get(context.Background(), "pkg-node-1"); !errors.Is(err, apiserver.ErrNoMetrics) {
		t.Errorf("stale figures: %v", err)
	}
}
