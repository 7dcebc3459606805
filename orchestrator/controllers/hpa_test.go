package controllers

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testcluster"
	"pkg.dev/pkg/orchestrator/apiserver"
)

// loadSource serves metrics.k8s.io from a load the test sets: a total of
// millicores shared evenly by the running Pods, as behind a Service.
type loadSource struct {
	client kubernetes.Interface
	mu     sync.Mutex
	milli  int64
}

func (l *loadSource) set(milli int64) {
	l.mu.Lock()
	l.milli = milli
	l.mu.Unlock()
}

func (l *loadSource) usage(ctx context.Context, node string) (*apiserver.NodeUsage, error) {
	pods, err := l.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node + ",status.phase=Running"})
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	total := l.milli
	l.mu.Unlock()
	u := &apiserver.NodeUsage{Timestamp: time.Now(), Window: time.Millisecond, Pods: map[types.UID]apiserver.PodUsage{}}
	for _, p := range pods.Items {
		each := total / int64(len(pods.Items))
		u.Pods[p.UID] = apiserver.PodUsage{Window: time.Millisecond, Containers: []apiserver.ContainerUsage{{
			Name: p.Spec.Containers[0].Name, CPU: *resource.NewMilliQuantity(each, resource.DecimalSI), Memory: resource.MustParse("10Mi"),
		}}}
	}
	return u, nil
}

// startWithMetrics is start with a metrics.k8s.io source and a loop
// binding new Pods to node n1, where the source measures them.
func startWithMetrics(t *testing.T, opts Options) (kubernetes.Interface, string, *loadSource) {
	t.Helper()
	load := &loadSource{}
	tc := testcluster.StartWith(t, func(c *apiserver.Config) { c.Metrics = load.usage })
	client := kubernetes.NewForConfigOrDie(tc.Config)
	load.client = client
	ctx, cancel := context.WithCancel(context.Background())
	if opts.Logger == nil && os.Getenv("PKG_TEST_LOG") != "" {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, tc.Config, opts) }()
	bound := make(chan struct{})
	go func() {
		defer close(bound)
		for ctx.Err() == nil {
			pods, err := client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName="})
			if err == nil {
				for _, p := range pods.Items {
					_ = client.CoreV1().Pods(p.Namespace).Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: p.Name}, Target: corev1.ObjectReference{Kind: "Node", Name: "n1"}}, metav1.CreateOptions{})
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-bound
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return after its context ended")
		}
	})
	ns := "test"
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	return client, ns, load
}

var hpaTestControllers = Options{
	Controllers: []string{DeploymentController, ReplicaSetController, HPAController},
	HPA:         HPAOptions{SyncPeriod: 200 * time.Millisecond, CPUInitializationPeriod: time.Millisecond},
}

func cpuHPA(name string, minR, maxR, util int32, downWindow int32) *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name},
			MinReplicas:    &minR,
			MaxReplicas:    maxR,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &util}}}},
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &downWindow}},
		},
	}
}

func cpuDeployment(name string, replicas int32, request string) *appsv1.Deployment {
	d := newDeployment(name, replicas)
	d.Spec.Template.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(request)}
	return d
}

func hpaCondition(h *autoscalingv2.HorizontalPodAutoscaler, t autoscalingv2.HorizontalPodAutoscalerConditionType) string {
	for _, c := range h.Status.Conditions {
		if c.Type == t {
			return string(c.Status) + "/" + c.Reason
		}
	}
	return ""
}

// TestHPAScalesADeployment: under a load of twice the target the
// autoscaler scales the Deployment up through its scale subresource to
// where utilization meets the target, holds it there, and once the load
// is gone scales it down only after the scale-down window, writing
// status, conditions and Events as kube-controller-manager does.
func TestHPAScalesADeployment(t *testing.T) {
	t.Parallel()
	client, ns, load := startWithMetrics(t, hpaTestControllers)
	k := newKubelet(client, ns)
	k.auto(t, 0)
	ctx := context.Background()
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, cpuDeployment("web", 1, "100m"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	load.set(200) // 200% of one Pod's request: four Pods at 50%
	if _, err := client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, cpuHPA("web", 1, 6, 50, 2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	getHPA := func() *autoscalingv2.HorizontalPodAutoscaler {
		h, err := client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	eventually(t, 20*time.Second, "scaled up to 4 and measured at 50%", func() (bool, error) {
		h := getHPA()
		d := getDeploy(t, client, ns, "web")
		cur := h.Status.CurrentMetrics
		return *d.Spec.Replicas == 4 && h.Status.CurrentReplicas == 4 && len(cur) == 1 && cur[0].Resource != nil &&
			cur[0].Resource.Current.AverageUtilization != nil && *cur[0].Resource.Current.AverageUtilization == 50 &&
			hpaCondition(h, autoscalingv2.AbleToScale) == "True/ReadyForNewScale", fmt.Errorf("status %+v", h.Status)
	})
	h := getHPA()
	if h.Status.DesiredReplicas != 4 || h.Status.LastScaleTime == nil || h.Status.ObservedGeneration == nil {
		t.Errorf("status: %+v", h.Status)
	}
	if got := hpaCondition(h, autoscalingv2.ScalingActive); got != "True/ValidMetricFound" {
		t.Errorf("ScalingActive %s", got)
	}
	if got := hpaCondition(h, autoscalingv2.AbleToScale); got != "True/ReadyForNewScale" {
		t.Errorf("AbleToScale %s: %+v", got, h.Status)
	}
	if got := hpaCondition(h, autoscalingv2.ScalingLimited); got != "False/DesiredWithinRange" {
		t.Errorf("ScalingLimited %s", got)
	}
	events := strings.Join(eventsFor(t, client, ns, "web"), "\n")
	if !strings.Contains(events, "SuccessfulRescale: New size: 4; reason: cpu resource utilization (percentage of request) above target") {
		t.Errorf("events:\n%s", events)
	}
	// The load goes: the recommendation drops to the minimum at once, the
	// scale waits out the two-second window.
	load.set(0)
	dropped := time.Now()
	eventually(t, 5*time.Second, "the scale-down held by the window", func() (bool, error) {
		return hpaCondition(getHPA(), autoscalingv2.AbleToScale) == "True/ScaleDownStabilized", nil
	})
	if d := getDeploy(t, client, ns, "web"); *d.Spec.Replicas != 4 {
		t.Fatalf("scaled down to %d within the window", *d.Spec.Replicas)
	}
	eventually(t, 20*time.Second, "scaled down to 1", func() (bool, error) {
		return *getDeploy(t, client, ns, "web").Spec.Replicas == 1, nil
	})
	// The window counts from the last recommendation of 4, made at most
	// one sync period (200 ms) before the load went.
	if waited := time.Since(dropped); waited < 2*time.Second-200*time.Millisecond {
		t.Errorf("scaled down %v after the load went, within the 2 s window", waited)
	}
	eventually(t, 5*time.Second, "the scale-down Event", func() (bool, error) {
		return strings.Contains(strings.Join(eventsFor(t, client, ns, "web"), "\n"), "SuccessfulRescale: New size: 1; reason: All metrics below target"), nil
	})
	// Above the maximum by hand: back to it, with the reason.
	eventually(t, 5*time.Second, "scaled to 9 by hand", func() (bool, error) {
		scale, err := client.AppsV1().Deployments(ns).GetScale(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		scale.Spec.Replicas = 9
		_, err = client.AppsV1().Deployments(ns).UpdateScale(ctx, "web", scale, metav1.UpdateOptions{})
		return err == nil, err
	})
	eventually(t, 10*time.Second, "back to the maximum", func() (bool, error) {
		return *getDeploy(t, client, ns, "web").Spec.Replicas == 6 &&
			strings.Contains(strings.Join(eventsFor(t, client, ns, "web"), "\n"), "New size: 6; reason: Current number of replicas above Spec.MaxReplicas"), nil
	})
}

// TestHPAReportsProblems: a target that does not exist, a target without
// requests and a metric type no API serves are reported in conditions and
// Events, and one bad autoscaler does not stall another.
func TestHPAReportsProblems(t *testing.T) {
	t.Parallel()
	client, ns, load := startWithMetrics(t, hpaTestControllers)
	k := newKubelet(client, ns)
	k.auto(t, 0)
	ctx := context.Background()
	load.set(100)
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, newDeployment("norequests", 1), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	external := cpuHPA("external", 1, 3, 50, 0)
	external.Spec.ScaleTargetRef.Name = "norequests"
	external.Spec.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: "queue"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: resource.NewQuantity(1, resource.DecimalSI)}}}}
	swing := cpuHPA("swing", 3, 2, 50, 0)
	swing.Spec.ScaleTargetRef.Name = "norequests"
	for _, h := range []*autoscalingv2.HorizontalPodAutoscaler{cpuHPA("missing", 1, 3, 50, 0), cpuHPA("norequests", 1, 3, 50, 0), external} {
		if _, err := client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, h, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Bounds that cannot hold are refused by the API server, as by
	// kube-apiserver; the controller's own check (ValidateHPA) is for
	// autoscalers stored before it validated them.
	if _, err := client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, swing, metav1.CreateOptions{}); !apierrors.IsInvalid(err) ||
		!strings.Contains(err.Error(), "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`") {
		t.Errorf("creating swing: %v, want the API's refusal", err)
	}
	for _, tc := range []struct{ hpa, cond, event string }{
		{"missing", "AbleToScale=False/FailedGetScale", `FailedGetScale: deployments.apps "missing" not found`},
		{"norequests", "ScalingActive=False/FailedGetResourceMetric", "FailedGetResourceMetric: failed to get cpu utilization: missing request for cpu in container app of Pod norequests-"},
		{"external", "ScalingActive=False/FailedGetExternalMetric", "FailedComputeMetricsReplicas: invalid metrics (1 invalid out of 1), first error is: unable to get external metric"},
	} {
		eventually(t, 10*time.Second, tc.hpa+" reported", func() (bool, error) {
			h, err := client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, tc.hpa, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			typ, want, _ := strings.Cut(tc.cond, "=")
			got := hpaCondition(h, autoscalingv2.HorizontalPodAutoscalerConditionType(typ))
			events := strings.Join(eventsFor(t, client, ns, tc.hpa), "\n")
			return got == want && strings.Contains(events, tc.event), fmt.Errorf("condition %s, events:\n%s", got, events)
		})
	}
	if d := getDeploy(t, client, ns, "norequests"); *d.Spec.Replicas != 1 {
		t.Errorf("the invalid autoscaler scaled its target to %d", *d.Spec.Replicas)
	}
}

// TestAPIMetricsPodUsage reads Pods' usage through the real
// metrics.k8s.io API: summed over containers, or one container's for a
// ContainerResource metric, by label selector.
func TestAPIMetricsPodUsage(t *testing.T) {
	t.Parallel()
	var cs kubernetes.Interface
	tc := testcluster.StartWith(t, func(c *apiserver.Config) {
		c.Metrics = func(ctx context.Context, node string) (*apiserver.NodeUsage, error) {
			pods, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, err
			}
			u := &apiserver.NodeUsage{Timestamp: time.Now(), Window: 15 * time.Second, Pods: map[types.UID]apiserver.PodUsage{}}
			for _, p := range pods.Items {
				u.Pods[p.UID] = apiserver.PodUsage{Window: 15 * time.Second, Containers: []apiserver.ContainerUsage{
					{Name: "app", CPU: resource.MustParse("300m"), Memory: resource.MustParse("64Mi")},
					{Name: "side", CPU: resource.MustParse("20m"), Memory: resource.MustParse("16Mi")},
				}}
			}
			return u, nil
		}
	})
	cs = kubernetes.NewForConfigOrDie(tc.Config)
	ctx := context.Background()
	for _, p := range []struct{ name, app string }{{"a", "web"}, {"b", "web"}, {"c", "db"}} {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: p.name, Labels: map[string]string{"app": p.app}},
			Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "app", Image: "x"}, {Name: "side", Image: "x"}}}}
		if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	m := &apiMetrics{rest: cs.CoreV1().RESTClient()}
	sel, _ := labels.Parse("app=web")
	for _, tc := range []struct {
		res       corev1.ResourceName
		container string
		want      int64
	}{
		{corev1.ResourceCPU, "", 320},
		{corev1.ResourceCPU, "app", 300},
		{corev1.ResourceMemory, "side", 16 << 20 * 1000},
	} {
		got, err := m.podUsage(ctx, "default", sel, tc.res, tc.container)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got["a"].milli != tc.want || got["b"].milli != tc.want || got["a"].window != 15*time.Second {
			t.Errorf("%s of %q: %+v, want a and b at %d", tc.res, tc.container, got, tc.want)
		}
	}
}
