package node

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testcluster"
	"pkg.dev/pkg/orchestrator/apiserver"
	"pkg.dev/pkg/orchestrator/controllers"
	"pkg.dev/pkg/orchestrator/runtime"
)

// usageSource serves the figures the meter of the node in dir keeps, as
// the orchestrator's API server does (orchestrator/cluster).
func usageSource(dir string) apiserver.NodeMetricsFunc {
	return func(_ context.Context, name string) (*apiserver.NodeUsage, error) {
		u, err := ReadUsage(dir, time.Now())
		if err != nil || name != "n1" {
			return nil, fmt.Errorf("node %s: %w", name, apiserver.ErrNoMetrics)
		}
		out := &apiserver.NodeUsage{Timestamp: u.Timestamp, Window: u.Window,
			CPU: *resource.NewScaledQuantity(u.CPUNanoCores, resource.Nano), Memory: *resource.NewQuantity(u.MemoryBytes, resource.BinarySI),
			Pods: map[types.UID]apiserver.PodUsage{}}
		for _, p := range u.Pods {
			pu := apiserver.PodUsage{Window: p.Window}
			for _, c := range p.Containers {
				pu.Containers = append(pu.Containers, apiserver.ContainerUsage{Name: c.Name,
					CPU: *resource.NewScaledQuantity(c.CPUNanoCores, resource.Nano), Memory: *resource.NewQuantity(c.MemoryBytes, resource.BinarySI)})
			}
			out.Pods[p.UID] = pu
		}
		return out, nil
	}
}

// TestHPAScalesRealLoad is the proof for the autoscaler: a
// Deployment of the test program really burning cpu under runc is
// measured from its cgroups, shown by the real kubectl top, scaled up by
// the HorizontalPodAutoscaler, and scaled back down once the load stops
// and the (shortened) scale-down window has passed.
func TestHPAScalesRealLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs containers with runc for about a minute")
	}
	dir := t.TempDir()
	drv, err := runtime.NewRuncDriver(filepath.Join(dir, "runc"), "", nil)
	if err != nil {
		if os.Getenv("PKG_REQUIRE_RUNC") == "1" {
			t.Fatalf("runc is required here: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	tc := testcluster.StartWith(t, func(c *apiserver.Config) { c.Metrics = usageSource(dir) })
	cs, err := kubernetes.NewForConfig(tc.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	rctx, stop := context.WithCancel(ctx)
	var done []chan struct{}
	goRun := func(f func(context.Context) error) {
		ch := make(chan struct{})
		done = append(done, ch)
		go func() { _ = f(rctx); close(ch) }()
	}
	t.Cleanup(func() {
		stop()
		for _, ch := range done {
			<-ch
		}
		_ = exec.Command("ip", "netns", "del", testNetwork.ns()).Run()
		testNetwork.mu.Lock()
		testNetwork.ready = false
		testNetwork.mu.Unlock()
	})
	r := &PodRunner{Node: "n1", Client: cs, Runtime: drv, Images: testappImages{}, Dir: dir, Network: testNetwork, BackoffBase: 200 * time.Millisecond}
	goRun(r.Run)
	goRun((&UsageMeter{Node: "n1", Client: cs, Dir: dir, Interval: 500 * time.Millisecond, Window: 2 * time.Second}).Run)
	goRun(func(ctx context.Context) error {
		return controllers.Run(ctx, tc.Config, controllers.Options{
			Controllers: []string{controllers.DeploymentController, controllers.ReplicaSetController, controllers.HPAController},
			HPA:         controllers.HPAOptions{SyncPeriod: time.Second},
		})
	})
	// Stand in for the scheduler: every new Pod goes to n1.
	goRun(func(ctx context.Context) error {
		for ctx.Err() == nil {
			pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName="})
			if err == nil {
				for _, p := range pods.Items {
					_ = cs.CoreV1().Pods("default").Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: p.Name}, Target: corev1.ObjectReference{Kind: "Node", Name: "n1"}}, metav1.CreateOptions{})
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
		return nil
	})

	// Each Pod burns 0.25 cpu for its first 25 s against a request of
	// 0.1: 250% of it, five times the target of 50%.
	replicas := int32(1)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "burn", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "burn"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "burn"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "burn", Image: "testapp:1", Args: []string{"-burn-millicores", "250", "-burn-for", "25s"},
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}},
				}}},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	minR, util, window := int32(1), int32(50), int32(5)
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "burn", Namespace: "default"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "burn"},
			MinReplicas:    &minR, MaxReplicas: 3,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &util}}}},
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &window}},
		},
	}
	if _, err := cs.AutoscalingV2().HorizontalPodAutoscalers("default").Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	// kubectl top shows the burning Pod.
	if _, err := os.Stat("/usr/bin/kubectl"); err == nil {
		var out string
		for {
			c := exec.CommandContext(ctx, "/usr/bin/kubectl", "--kubeconfig", tc.Kubeconfig, "top", "pods", "-l", "app=burn")
			c.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
			var b bytes.Buffer
			c.Stdout, c.Stderr = &b, &b
			if c.Run() == nil && strings.Contains(b.String(), "burn-") {
				out = b.String()
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("kubectl top pods never showed the Pod: %s", b.String())
			}
			time.Sleep(500 * time.Millisecond)
		}
		t.Logf("kubectl top pods:\n%s", out)
		var name, cpu string
		for _, l := range strings.Split(out, "\n")[1:] {
			if f := strings.Fields(l); len(f) >= 3 {
				name, cpu = f[0], f[1]
			}
		}
		// 250m asked for, but the machine is shared and the first window
		// may include the start: only tell busy from idle (0m).
		if q, err := resource.ParseQuantity(cpu); err != nil || q.MilliValue() < 30 {
			t.Errorf("kubectl top pods: %s uses %s, want about 250m", name, cpu)
		}
	} else if os.Getenv("PKG_REQUIRE_KUBECTL") == "1" {
		t.Fatalf("kubectl is required here: %v", err)
	}
	getHPA := func() *autoscalingv2.HorizontalPodAutoscaler {
		h, err := cs.AutoscalingV2().HorizontalPodAutoscalers("default").Get(ctx, "burn", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	waitFor := func(what string, ok func(*appsv1.Deployment, *autoscalingv2.HorizontalPodAutoscaler) bool) {
		t.Helper()
		for {
			d, err := cs.AppsV1().Deployments("default").Get(ctx, "burn", metav1.GetOptions{})
			h := getHPA()
			if err == nil && ok(d, h) {
				t.Logf("%5.1fs: %s (replicas %d, metrics %s)", time.Since(began).Seconds(), what, *d.Spec.Replicas, describeMetrics(h))
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s: %+v", what, h.Status)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	waitFor("scaled up to the maximum", func(d *appsv1.Deployment, h *autoscalingv2.HorizontalPodAutoscaler) bool {
		return *d.Spec.Replicas == 3 && h.Status.LastScaleTime != nil
	})
	up := time.Now()
	waitFor("scaled back down once the load stopped", func(d *appsv1.Deployment, h *autoscalingv2.HorizontalPodAutoscaler) bool {
		return *d.Spec.Replicas == 1
	})
	if time.Since(up) < time.Duration(window)*time.Second {
		t.Errorf("scaled down %v after scaling up, within the %ds window", time.Since(up), window)
	}
	// Events are written after the scale they tell of: wait for them.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		events, err := cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=burn,involvedObject.kind=HorizontalPodAutoscaler"})
		if err != nil {
			t.Fatal(err)
		}
		var msgs []string
		for _, e := range events.Items {
			msgs = append(msgs, e.Reason+": "+e.Message)
		}
		all := strings.Join(msgs, "\n")
		if strings.Contains(all, "reason: cpu resource utilization (percentage of request) above target") && strings.Contains(all, "New size: 1; reason: All metrics below target") {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("events:\n%s", all)
			break
		}
	}
}

func describeMetrics(h *autoscalingv2.HorizontalPodAutoscaler) string {
	var parts []string
	for _, m := range h.Status.CurrentMetrics {
		if m.Resource != nil && m.Resource.Current.AverageUtilization != nil {
			parts = append(parts, fmt.Sprintf("%s %d%%", m.Resource.Name, *m.Resource.Current.AverageUtilization))
		}
	}
	return strings.Join(parts, ", ")
}
