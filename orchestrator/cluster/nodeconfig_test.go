package cluster

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"pkg.dev/pkg/orchestrator/node"
	"pkg.dev/pkg/orchestrator/runtime"
)

// TestMain lets this test binary be a container's init for the built-in
// launcher, so that nodes configured with runtime builtin have it.
func TestMain(m *testing.M) {
	if code, isInit := runtime.RunLauncherInit(); isInit {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// syncBuffer is a log both the server and the test use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serveConfig runs Run on dir with the nodes of the config file text
// until the returned stop is called (or the test ends).
func serveConfig(t *testing.T, dir, text string) (State, *syncBuffer, func()) {
	t.Helper()
	cfg, err := LoadConfig(writeConfig(t, text))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan State, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{DataDir: dir, Port: freePort(t), NodeConfigs: cfg.Nodes,
			Logger: slog.New(slog.NewTextHandler(logs, nil)), Ready: func(s State) { ready <- s }})
	}()
	var st State
	select {
	case st = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("Run: %v\n%s", err, logs)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatalf("Run did not get ready\n%s", logs)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return st, logs, stop
}

// TestRunNodeConfigs: a cluster run with a config of two nodes registers
// them with their names, labels (zone and region included), capacity and
// allocatable (the host's share where not given), taints and runtime,
// and each node logs its runtime and why. Run again on the same data dir
// with another config, the node still listed follows it (labels, taints
// and capacity replaced; a taint added by hand kept) and the node no
// longer listed is left as it was, as when --nodes shrinks.
func TestRunNodeConfigs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	dir := filepath.Join(t.TempDir(), "data")
	st, logs, stop := serveConfig(t, dir, `apiVersion: pkg.dev/v1alpha1
kind: Cluster
runtime: auto
nodes:
- name: db
  zone: zone-a
  region: eu
  labels: {disktype: ssd}
  capacity: {cpu: 2, memory: 4Gi, pods: 50}
  taints: [{key: dedicated, value: db, effect: NoSchedule}]
  runtime: builtin
- zone: zone-b
  labels: {example.com/tier: web}
  capacity: {cpu: 500m}
`)
	if st.Nodes != 2 {
		t.Errorf("state says %d nodes, want 2", st.Nodes)
	}
	creds, err := LoadCredentials(dir)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: st.URL, BearerToken: creds.Token, TLSClientConfig: rest.TLSClientConfig{CAData: creds.CAPEM}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nodes := func(names ...string) map[string]*corev1.Node {
		t.Helper()
		got := map[string]*corev1.Node{}
		for {
			list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
			if err == nil {
				for i := range list.Items {
					got[list.Items[i].Name] = &list.Items[i]
				}
				if len(got) == len(names) {
					return got
				}
			}
			if ctx.Err() != nil {
				t.Fatalf("waiting for nodes %v: have %v (%v)\n%s", names, got, err, logs)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	by := nodes("db", "pkg-node-2")
	db, web := by["db"], by["pkg-node-2"]
	if db == nil || web == nil {
		t.Fatalf("nodes %v, want db and pkg-node-2", by)
	}
	checkLabels(t, db, map[string]string{"kubernetes.io/hostname": "db", "topology.kubernetes.io/zone": "zone-a", "topology.kubernetes.io/region": "eu", "disktype": "ssd"})
	checkLabels(t, web, map[string]string{"kubernetes.io/hostname": "pkg-node-2", "topology.kubernetes.io/zone": "zone-b", "example.com/tier": "web"})
	if _, ok := web.Labels["topology.kubernetes.io/region"]; ok {
		t.Errorf("pkg-node-2 has a region: %v", web.Labels)
	}
	_, hostMem := nodeCapacity(2)
	checkResources(t, db, "2", "4Gi", "50")
	checkResources(t, web, "500m", hostMem.String(), "110")
	checkTaints(t, db, "dedicated=db:NoSchedule")
	checkTaints(t, web)

	// Each node says which runtime it took and why; db took the one it
	// names, pkg-node-2 the file's (auto).
	if got := db.Status.NodeInfo.ContainerRuntimeVersion; got != "builtin" {
		t.Errorf("db runs %q, want builtin\n%s", got, logs)
	}
	text := logs.String()
	if !strings.Contains(text, `msg="container runtime" component=node-agent node=db driver=builtin reason="configured (runtime: builtin)`) {
		t.Errorf("db does not log its runtime and why:\n%s", text)
	}
	webRuntime := web.Status.NodeInfo.ContainerRuntimeVersion
	if !strings.Contains(text, fmt.Sprintf(`msg="container runtime" component=node-agent node=pkg-node-2 driver=%s reason=`, webRuntime)) ||
		strings.Contains(text, `node=pkg-node-2 driver=`+webRuntime+` reason="configured`) {
		t.Errorf("pkg-node-2 (%s) does not log its runtime as auto chose it:\n%s", webRuntime, text)
	}

	// A taint added by hand stays across the restart.
	web.Spec.Taints = append(web.Spec.Taints, corev1.Taint{Key: "example.com/maintenance", Effect: corev1.TaintEffectNoSchedule})
	if _, err := cs.CoreV1().Nodes().Update(ctx, web, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	stop()

	st, logs, _ = serveConfig(t, dir, `apiVersion: pkg.dev/v1alpha1
kind: Cluster
nodes:
- name: pkg-node-2
  zone: zone-c
  capacity: {cpu: 1, memory: 1Gi}
  taints: [{key: dedicated, value: web, effect: PreferNoSchedule}]
  runtime: builtin
`)
	cs, err = kubernetes.NewForConfig(&rest.Config{Host: st.URL, BearerToken: creds.Token, TLSClientConfig: rest.TLSClientConfig{CAData: creds.CAPEM}})
	if err != nil {
		t.Fatal(err)
	}
	for {
		// The agent updates the Node (labels, taints) and then its
		// status (capacity, runtime): both are waited for.
		n, err := cs.CoreV1().Nodes().Get(ctx, "pkg-node-2", metav1.GetOptions{})
		if err == nil && n.Labels["topology.kubernetes.io/zone"] == "zone-c" && n.Status.NodeInfo.ContainerRuntimeVersion == "builtin" {
			web = n
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("pkg-node-2 did not follow the new config: %v %v\n%s", n, err, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, ok := web.Labels["example.com/tier"]; ok {
		t.Errorf("pkg-node-2 kept a label the config no longer gives: %v", web.Labels)
	}
	checkResources(t, web, "1", "1Gi", "110")
	checkTaints(t, web, "dedicated=web:PreferNoSchedule", "example.com/maintenance:NoSchedule")
	if got := web.Status.NodeInfo.ContainerRuntimeVersion; got != "builtin" {
		t.Errorf("pkg-node-2 runs %q after the restart, want builtin", got)
	}
	// db, no longer listed, is still there: its lease lapses and the
	// lifecycle controller marks it NotReady, as for --nodes shrinking.
	if db, err := cs.CoreV1().Nodes().Get(ctx, "db", metav1.GetOptions{}); err != nil {
		t.Errorf("db: %v", err)
	} else {
		checkLabels(t, db, map[string]string{"disktype": "ssd"})
	}
	if strings.Contains(logs.String(), "node=db") {
		t.Errorf("an agent ran for db, no longer listed:\n%s", logs)
	}
}

func checkLabels(t *testing.T, n *corev1.Node, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got, ok := n.Labels[k]; !ok || got != v {
			t.Errorf("node %s: label %s=%q, want %q (labels %v)", n.Name, k, got, v, n.Labels)
		}
	}
}

func checkResources(t *testing.T, n *corev1.Node, cpu, memory, pods string) {
	t.Helper()
	for what, list := range map[string]corev1.ResourceList{"capacity": n.Status.Capacity, "allocatable": n.Status.Allocatable} {
		for name, want := range map[corev1.ResourceName]string{corev1.ResourceCPU: cpu, corev1.ResourceMemory: memory, corev1.ResourcePods: pods} {
			got := list[name]
			if got.Cmp(resource.MustParse(want)) != 0 {
				t.Errorf("node %s: %s %s is %s, want %s", n.Name, what, name, got.String(), want)
			}
		}
	}
}

func checkTaints(t *testing.T, n *corev1.Node, want ...string) {
	t.Helper()
	var got []string
	for _, x := range n.Spec.Taints {
		if x.Key == corev1.TaintNodeNotReady || x.Key == corev1.TaintNodeUnreachable {
			continue
		}
		got = append(got, x.ToString())
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("node %s: taints %v, want %v", n.Name, got, want)
	}
	if len(want) > 0 && n.Annotations[node.ConfigTaintsAnnotation] == "" {
		t.Errorf("node %s: no %s annotation: %v", n.Name, node.ConfigTaintsAnnotation, n.Annotations)
	}
}
