package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// fakeUsage is a NodeMetricsFunc over figures the test sets.
type fakeUsage struct {
	mu    sync.Mutex
	nodes map[string]*NodeUsage
}

func (f *fakeUsage) get(_ context.Context, node string) (*NodeUsage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.nodes[node]
	if !ok {
		return nil, fmt.Errorf("node %s: %w", node, ErrNoMetrics)
	}
	return u, nil
}

func (f *fakeUsage) set(node string, u *NodeUsage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.nodes == nil {
		f.nodes = map[string]*NodeUsage{}
	}
	f.nodes[node] = u
}

// metricsServer serves two nodes (n1 measured, n2 not) and three Pods:
// web-1 on n1, measured; web-2 on n2, whose node has no figures; db on n1
// but not (yet) measured.
func metricsServer(t *testing.T) (*testServer, *fakeUsage) {
	t.Helper()
	src := &fakeUsage{}
	ts := newTestServerWith(t, func(c *Config) { c.Metrics = src.get })
	ctx := context.Background()
	for _, n := range []string{"n1", "n2"} {
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n, Labels: map[string]string{"zone": n}}}
		node, err := ts.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		node.Status.Capacity = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi")}
		node.Status.Allocatable = node.Status.Capacity
		if _, err := ts.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	uids := map[string]types.UID{}
	for _, p := range []struct{ name, node, app string }{{"web-1", "n1", "web"}, {"web-2", "n2", "web"}, {"db", "n1", "db"}} {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: p.name, Labels: map[string]string{"app": p.app}},
			Spec:       corev1.PodSpec{NodeName: p.node, Containers: []corev1.Container{{Name: "main", Image: "x"}, {Name: "side", Image: "x"}}},
		}
		created, err := ts.client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		uids[p.name] = created.UID
	}
	src.set("n1", &NodeUsage{
		Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Window: 15 * time.Second,
		CPU: resource.MustParse("250m"), Memory: resource.MustParse("96Mi"),
		Pods: map[types.UID]PodUsage{uids["web-1"]: {Window: 15 * time.Second, Containers: []ContainerUsage{
			{Name: "main", CPU: *resource.NewScaledQuantity(200_000_000, resource.Nano), Memory: *resource.NewQuantity(64<<20, resource.BinarySI)},
			{Name: "side", CPU: *resource.NewScaledQuantity(50_000_000, resource.Nano), Memory: *resource.NewQuantity(32<<20, resource.BinarySI)},
		}}},
	})
	return ts, src
}

// TestMetricsAPI serves PodMetrics and NodeMetrics of what was measured,
// selected as Pods and nodes are, read-only, and listed in discovery.
func TestMetricsAPI(t *testing.T) {
	t.Parallel()
	ts, _ := metricsServer(t)
	ctx := context.Background()
	rc := ts.client.CoreV1().RESTClient()
	get := func(path string, v any) error {
		b, err := rc.Get().AbsPath(path).DoRaw(ctx)
		if err != nil {
			return err
		}
		return json.Unmarshal(b, v)
	}
	var list podMetricsListWire
	if err := get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods", &list); err != nil {
		t.Fatal(err)
	}
	if list.Kind != "PodMetricsList" || len(list.Items) != 1 || list.Items[0].Name != "web-1" {
		t.Fatalf("pods: %+v", list)
	}
	pm := list.Items[0]
	if pm.APIVersion != "metrics.k8s.io/v1beta1" || pm.Kind != "PodMetrics" || pm.Namespace != "default" || pm.Labels["app"] != "web" ||
		pm.Window.Duration != 15*time.Second || !pm.Timestamp.Time.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("pod metrics metadata: %+v", pm)
	}
	if len(pm.Containers) != 2 || pm.Containers[0].Name != "main" || pm.Containers[0].Usage.Cpu().String() != "200m" || pm.Containers[0].Usage.Memory().String() != "64Mi" {
		t.Errorf("containers: %+v", pm.Containers)
	}
	// All namespaces, a label selector, and one by name.
	if err := get("/apis/metrics.k8s.io/v1beta1/pods", &list); err != nil || len(list.Items) != 1 {
		t.Errorf("all namespaces: %+v %v", list, err)
	}
	b, err := rc.Get().AbsPath("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods").Param("labelSelector", "app=db").DoRaw(ctx)
	if err != nil || !strings.Contains(string(b), `"items":[]`) {
		t.Errorf("app=db selects no measured Pod: %s %v", b, err)
	}
	var one podMetricsWire
	if err := get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web-1", &one); err != nil || one.Name != "web-1" {
		t.Errorf("get web-1: %+v %v", one, err)
	}
	var code int
	res := rc.Get().AbsPath("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web-2").Do(ctx).StatusCode(&code)
	b, _ = res.Raw()
	if code != 404 || !strings.Contains(string(b), `podmetrics.metrics.k8s.io \"default/web-2\" not found`) {
		t.Errorf("unmeasured web-2: %d %s", code, b)
	}
	var nodes nodeMetricsListWire
	if err := get("/apis/metrics.k8s.io/v1beta1/nodes", &nodes); err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != 1 || nodes.Items[0].Name != "n1" || nodes.Items[0].Usage.Cpu().String() != "250m" || nodes.Items[0].Labels["zone"] != "n1" {
		t.Errorf("nodes: %+v", nodes)
	}
	// Read-only.
	_, err = rc.Delete().AbsPath("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web-1").DoRaw(ctx)
	if !apierrors.IsMethodNotSupported(err) {
		t.Errorf("delete: %v", err)
	}
	// Discovery.
	rl, err := ts.client.Discovery().ServerResourcesForGroupVersion("metrics.k8s.io/v1beta1")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rl.APIResources {
		names = append(names, r.Name+":"+r.Kind+":"+strings.Join(r.Verbs, ","))
	}
	if got := strings.Join(names, " "); got != "pods:PodMetrics:get,list nodes:NodeMetrics:get,list" {
		t.Errorf("discovery: %s", got)
	}
}

// TestMetricsAPIAbsent: without a metrics source the group is not served,
// as on a cluster without metrics-server.
func TestMetricsAPIAbsent(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	groups, err := ts.client.Discovery().ServerGroups()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups.Groups {
		if g.Name == MetricsGroup {
			t.Fatalf("%s served without a source", MetricsGroup)
		}
	}
}

// TestKubectlTop runs the real kubectl top against the metrics API.
func TestKubectlTop(t *testing.T) {
	t.Parallel()
	ts, _ := metricsServer(t)
	dir := kubectlDir(t, ts)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"top", "pods"}, []string{"NAME", "CPU(cores)", "MEMORY(bytes)", "web-1", "250m", "96Mi"}},
		{[]string{"top", "pods", "--containers"}, []string{"web-1", "main", "200m", "64Mi", "side", "50m", "32Mi"}},
		{[]string{"top", "pod", "web-1"}, []string{"web-1", "250m"}},
		{[]string{"top", "nodes"}, []string{"NAME", "CPU(cores)", "CPU(%)", "n1", "250m", "12%", "96Mi", "2%", "n2", "<unknown>"}},
		{[]string{"get", "podmetrics"}, []string{"NAME", "CPU", "MEMORY", "WINDOW", "web-1", "250m", "96Mi", "15s"}},
		{[]string{"get", "nodemetrics.metrics.k8s.io", "n1"}, []string{"n1", "250m", "96Mi", "15s"}},
	} {
		out, err := ts.kubectl(t, dir, tc.args...)
		if err != nil {
			t.Errorf("kubectl %s: %v\n%s", strings.Join(tc.args, " "), err, out)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("kubectl %s: no %q in\n%s", strings.Join(tc.args, " "), w, out)
			}
		}
	}
	out, err := ts.kubectl(t, dir, "top", "pod", "db")
	if err == nil || !strings.Contains(out, "db") {
		t.Errorf("kubectl top pod db (not measured) should fail naming it:\n%s", out)
	}
}

// The wire forms, as a client decodes them.
type podMetricsWire struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Timestamp         metav1.Time     `json:"timestamp"`
	Window            metav1.Duration `json:"window"`
	Containers        []struct {
		Name  string              `json:"name"`
		Usage corev1.ResourceList `json:"usage"`
	} `json:"containers"`
}

type podMetricsListWire struct {
	metav1.TypeMeta `json:",inline"`
	Items           []podMetricsWire `json:"items"`
}

type nodeMetricsListWire struct {
	metav1.TypeMeta `json:",inline"`
	Items           []struct {
		metav1.ObjectMeta `json:"metadata"`
		Usage             corev1.ResourceList `json:"usage"`
	} `json:"items"`
}
