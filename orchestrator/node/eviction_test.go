package node

import (
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestRankForEviction: Pods over their requests first (BestEffort ones
// using memory among them), by priority, then by how far over; Pods
// within their requests (Guaranteed ones) last.
func TestRankForEviction(t *testing.T) {
	t.Parallel()
	mk := func(name string, usage, request int64, prio int32) podMemory {
		return podMemory{w: &podWorker{pod: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}}}, usage: usage, request: request, priority: prio}
	}
	pods := []podMemory{
		mk("guaranteed", 80, 100, 0),
		mk("burstable-within", 45, 50, 0),
		mk("burstable-over", 80, 50, 0),
		mk("besteffort", 60, 0, 0),
		mk("besteffort-important", 500, 0, 1000),
	}
	rankForEviction(pods)
	var got []string
	for _, p := range pods {
		got = append(got, p.w.pod.Name)
	}
	want := "besteffort burstable-over besteffort-important burstable-within guaranteed"
	if strings.Join(got, " ") != want {
		t.Errorf("eviction order %v, want %s", got, want)
	}
}

// TestMemoryPressureEviction: three Pods eat memory (measured from their
// cgroups); once the threshold says the node is short of it, the node
// gets MemoryPressure and its taint, the BestEffort Pod is evicted, then
// the Burstable one over its request, and the Guaranteed one keeps
// running; the evicted Pods are Failed with reason Evicted, a
// DisruptionTarget condition and an Evicted Event. When memory is back
// the condition and taint go.
func TestMemoryPressureEviction(t *testing.T) {
	const mib = 1 << 20
	ev := &Eviction{NodeMemory: 1 << 30, Period: 200 * time.Millisecond, Transition: time.Second}
	e, ctx := newRunnerEnvWith(t, func(r *PodRunner) { r.Eviction = ev })
	go func() {
		_ = (&Agent{Config: Config{Name: "n1", CPU: resource.MustParse("2"), Memory: resource.MustParse("1Gi"), Pods: 110}, Client: e.cs, RenewEvery: time.Second}).Run(ctx)
	}()
	mem := func(req, lim string) corev1.ResourceRequirements {
		r := corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(req)}}
		if lim != "" {
			r.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(lim)}
		}
		return r
	}
	for _, p := range []struct {
		name string
		mib  string
		res  corev1.ResourceRequirements
	}{
		{"besteffort", "120", corev1.ResourceRequirements{}},
		{"burstable", "100", mem("50Mi", "400Mi")},
		{"guaranteed", "100", corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("200Mi"), corev1.ResourceCPU: resource.MustParse("100m")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("200Mi"), corev1.ResourceCPU: resource.MustParse("100m")},
		}},
	} {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: p.name, Namespace: "default"},
			Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{
				Name: "c", Image: "testapp:1", Args: []string{"-eat-mib", p.mib, "-sleep", "1h"}, Resources: p.res,
			}}},
		}
		if _, err := e.cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"besteffort", "burstable", "guaranteed"} {
		p := waitPod(t, ctx, e, name, name+" Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
		for {
			b, _ := os.ReadFile(LogPath(e.dir, p.UID, "c", 0))
			if strings.Contains(string(b), "holding ") {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("%s never held its memory: %s", name, b)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if want := corev1.PodQOSBestEffort; e.pod(t, ctx, "besteffort").Status.QOSClass != want {
		t.Fatalf("besteffort's QoS class %s", e.pod(t, ctx, "besteffort").Status.QOSClass)
	}
	// 320 MiB used of 1 GiB: short of memory once 130 MiB used are too
	// many.
	ev.SetMemoryAvailable(1<<30 - 130*mib)

	evicted := map[string]int{}
	sawPressure := false
	for step := 0; len(evicted) < 2; step++ {
		for _, name := range []string{"besteffort", "burstable", "guaranteed"} {
			p := e.pod(t, ctx, name)
			if _, done := evicted[name]; !done && p.Status.Phase == corev1.PodFailed && p.Status.Reason == "Evicted" {
				evicted[name] = step
				if !strings.Contains(p.Status.Message, "The node was low on resource: memory.") {
					t.Errorf("%s: eviction message %q", name, p.Status.Message)
				}
				dt := false
				for _, c := range p.Status.Conditions {
					dt = dt || (c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue && c.Reason == "TerminationByKubelet")
				}
				if !dt {
					t.Errorf("%s: no DisruptionTarget condition: %+v", name, p.Status.Conditions)
				}
			}
		}
		if n, err := e.cs.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{}); err == nil && !sawPressure {
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeMemoryPressure && c.Status == corev1.ConditionTrue && hasTaint(n.Spec.Taints, corev1.Taint{Key: TaintMemoryPressure, Effect: corev1.TaintEffectNoSchedule}) {
					sawPressure = true
				}
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("evicted so far: %v", evicted)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, ok := evicted["guaranteed"]; ok || evicted["besteffort"] > evicted["burstable"] {
		t.Errorf("eviction steps %v: want besteffort, then burstable, and guaranteed kept", evicted)
	}
	if !sawPressure {
		t.Error("the node never showed MemoryPressure with its taint")
	}
	if p := e.pod(t, ctx, "guaranteed"); p.Status.Phase != corev1.PodRunning {
		t.Errorf("guaranteed: %s", p.Status.Phase)
	}
	if evs := podEvents(t, ctx, e, "besteffort", "Evicted"); len(evs) != 1 || evs[0].Type != corev1.EventTypeWarning {
		t.Errorf("besteffort's Evicted events: %+v", evs)
	}
	// 100 MiB used: the pressure ends after the transition period.
	for {
		n, err := e.cs.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
		if err == nil && !hasTaint(n.Spec.Taints, corev1.Taint{Key: TaintMemoryPressure, Effect: corev1.TaintEffectNoSchedule}) {
			ok := false
			for _, c := range n.Status.Conditions {
				ok = ok || (c.Type == corev1.NodeMemoryPressure && c.Status == corev1.ConditionFalse)
			}
			if ok {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("the memory pressure never ended: %+v", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if p := e.pod(t, ctx, "guaranteed"); p.Status.Phase != corev1.PodRunning {
		t.Errorf("guaranteed after the pressure: %s", p.Status.Phase)
	}
}
