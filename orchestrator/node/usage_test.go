package node

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func writeCgroupFiles(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReadCgroupStats reads cpu time and the working set from both cgroup
// layouts, as the kernel writes them.
func TestReadCgroupStats(t *testing.T) {
	t.Parallel()
	v1 := t.TempDir()
	writeCgroupFiles(t, v1, map[string]string{
		"cpuacct/pkg/abc-web/cpuacct.usage":        "2500000000\n",
		"memory/pkg/abc-web/memory.usage_in_bytes": "10485760\n",
		"memory/pkg/abc-web/memory.stat":           "cache 4096\ntotal_inactive_file 2097152\ntotal_rss 1000\n",
	})
	v2 := t.TempDir()
	writeCgroupFiles(t, v2, map[string]string{
		"cgroup.controllers":         "cpu memory pids\n",
		"pkg/abc-web/cpu.stat":       "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n",
		"pkg/abc-web/memory.current": "8388608\n",
		"pkg/abc-web/memory.stat":    "anon 100\ninactive_file 9000000\n",
	})
	for _, tc := range []struct {
		name      string
		root      string
		cpu       uint64
		workingSt int64
	}{
		{"v1", v1, 2_500_000_000, 10485760 - 2097152},
		{"v2 inactive above usage", v2, 1_500_000_000, 0},
	} {
		st, err := readCgroupStats(tc.root, "/pkg/abc-web")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if st.cpuNanos != tc.cpu || st.workingSet != tc.workingSt {
			t.Errorf("%s: got cpu %d working set %d, want %d and %d", tc.name, st.cpuNanos, st.workingSet, tc.cpu, tc.workingSt)
		}
	}
	if _, err := readCgroupStats(v1, "/pkg/gone"); err == nil {
		t.Error("a missing cgroup read without error")
	}
}

// TestUsageRate: the rate is the growth over the window, none from a
// single reading, and starts again when the counter goes back.
func TestUsageRate(t *testing.T) {
	t.Parallel()
	m := &UsageMeter{Window: 2 * time.Second, samples: map[string][]cpuSample{}}
	t0 := time.Unix(1000, 0)
	if _, _, ok := m.rate("k", cpuSample{at: t0, nanos: 0}); ok {
		t.Fatal("a rate from one reading")
	}
	// 0.5 cpu for a second.
	got, win, ok := m.rate("k", cpuSample{at: t0.Add(time.Second), nanos: 500_000_000})
	if !ok || got != 500_000_000 || win != time.Second {
		t.Fatalf("got %d over %v (%v), want 500000000 over 1s", got, win, ok)
	}
	// Then 1.5 cpu for a second: over the 2 s window, 1 cpu.
	got, win, _ = m.rate("k", cpuSample{at: t0.Add(2 * time.Second), nanos: 2_000_000_000})
	if got != 1_000_000_000 || win != 2*time.Second {
		t.Fatalf("got %d over %v, want 1e9 over 2s", got, win)
	}
	// The window slides: the base is now the reading at 1 s.
	got, _, _ = m.rate("k", cpuSample{at: t0.Add(3 * time.Second), nanos: 2_100_000_000})
	if got != 800_000_000 {
		t.Fatalf("got %d, want 8e8 (1.6 s of cpu over 2 s)", got)
	}
	if _, _, ok := m.rate("k", cpuSample{at: t0.Add(4 * time.Second), nanos: 10}); ok {
		t.Fatal("a rate across a counter reset")
	}
}

// TestContainerIDIsTheRunners: the meter finds the cgroups the runner
// makes.
func TestContainerIDIsTheRunners(t *testing.T) {
	t.Parallel()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", UID: "0f1e2d3c-4b5a-6978-8a9b-abcdefabcdef"},
		Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "init"}}, Containers: []corev1.Container{{Name: "web"}, {Name: "side"}}}}
	w := newPodWorker(&PodRunner{}, p)
	for _, c := range w.ctrs {
		if got := ContainerID(p.UID, c.spec.Name); got != c.id {
			t.Errorf("ContainerID(%s) = %q, the runner uses %q", c.spec.Name, got, c.id)
		}
	}
}

// TestReadUsageStale: figures older than three intervals are not served.
func TestReadUsageStale(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := ReadUsage(dir, time.Now()); err != ErrNoUsage {
		t.Fatalf("no file: got %v, want ErrNoUsage", err)
	}
	at := time.Unix(5000, 0).UTC()
	if err := writeUsage(dir, Usage{Node: "n1", Timestamp: at, Interval: time.Second, Pods: []PodUsage{{Name: "p"}}}); err != nil {
		t.Fatal(err)
	}
	u, err := ReadUsage(dir, at.Add(2*time.Second))
	if err != nil || u.Node != "n1" || len(u.Pods) != 1 {
		t.Fatalf("got %+v, %v", u, err)
	}
	if _, err := ReadUsage(dir, at.Add(10*time.Second)); err != ErrNoUsage {
		t.Fatalf("stale: got %v, want ErrNoUsage", err)
	}
}

// TestUsageMeterMeasuresRunningContainers runs a container that keeps 0.4
// of a cpu busy and holds 40 MiB under runc, and reads its figures back as
// the API server does.
func TestUsageMeterMeasuresRunningContainers(t *testing.T) {
	e, ctx := newRunnerEnv(t)
	m := &UsageMeter{Node: "n1", Client: e.cs, Dir: e.dir, Interval: 250 * time.Millisecond, Window: 2 * time.Second}
	mctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(mctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if _, err := os.Stat(filepath.Join(e.dir, UsageFile)); !os.IsNotExist(err) {
			t.Errorf("the stopped meter left its figures: %v", err)
		}
	}()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "burner", Namespace: "default"},
		Spec: corev1.PodSpec{
			NodeName:   "n1",
			Containers: []corev1.Container{{Name: "burn", Image: "testapp:1", Args: []string{"-burn-millicores", "400", "-eat-mib", "40"}}},
		},
	}
	if _, err := e.cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p := waitPod(t, ctx, e, "burner", "burner Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	var last *Usage
	for {
		u, err := ReadUsage(e.dir, time.Now())
		if err == nil && len(u.Pods) == 1 && u.Pods[0].Window >= 2*time.Second {
			last = u
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no usage for the Pod: %+v, %v", u, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	pu := last.Pods[0]
	if pu.UID != p.UID || pu.Name != "burner" || len(pu.Containers) != 1 || pu.Containers[0].Name != "burn" {
		t.Fatalf("usage of the wrong Pod: %+v", pu)
	}
	c := pu.Containers[0]
	t.Logf("cpu %dm, memory %d MiB over %v", c.CPUNanoCores/1e6, c.MemoryBytes>>20, pu.Window)
	// Loose bounds: the machine is shared (a busy one gives the container
	// less than it asks), but 0.4 cpu is neither idle nor two cores.
	if c.CPUNanoCores < 50e6 || c.CPUNanoCores > 900e6 {
		t.Errorf("cpu %dm, want about 400m", c.CPUNanoCores/1e6)
	}
	if c.MemoryBytes < 40<<20 || c.MemoryBytes > 200<<20 {
		t.Errorf("memory %d MiB, want a little over 40", c.MemoryBytes>>20)
	}
	if last.CPUNanoCores != c.CPUNanoCores || last.MemoryBytes != c.MemoryBytes {
		t.Errorf("node totals %d/%d are not the one Pod's", last.CPUNanoCores, last.MemoryBytes)
	}
}
