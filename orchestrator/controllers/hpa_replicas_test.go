package controllers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// fakeMetrics is a resourceMetrics over fixed figures, by Pod name.
type fakeMetrics struct {
	usage map[string]int64 // milli-units
	at    time.Time
	err   error
}

func (f fakeMetrics) podUsage(context.Context, string, labels.Selector, corev1.ResourceName, string) (map[string]podMetric, error) {
	if f.err != nil {
		return nil, f.err
	}
	out := map[string]podMetric{}
	for n, v := range f.usage {
		out[n] = podMetric{milli: v, timestamp: f.at, window: 15 * time.Second}
	}
	return out, nil
}

var hpaNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testPod is a running Pod requesting 1 cpu and 256Mi, ready since long
// ago unless changed.
func testPod(name string, mut ...func(*corev1.Pod)) *corev1.Pod {
	start := metav1.NewTime(hpaNow.Add(-time.Hour))
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("256Mi")}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &start, Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(hpaNow.Add(-59 * time.Minute))}}},
	}
	for _, m := range mut {
		m(p)
	}
	return p
}

// startingUnready is a Pod that started a minute ago and is not ready.
func startingUnready(p *corev1.Pod) {
	start := metav1.NewTime(hpaNow.Add(-time.Minute))
	p.Status.StartTime = &start
	p.Status.Conditions[0].Status = corev1.ConditionFalse
	p.Status.Conditions[0].LastTransitionTime = start
}

// TestResourceReplicas runs Kubernetes' replica calculation on a fake
// metrics source: ratio times the Pods measured, the 10% tolerance,
// missing samples counted against the direction of the change, unready
// Pods counted as idle on a scale up, deleted and failed Pods ignored.
func TestResourceReplicas(t *testing.T) {
	t.Parallel()
	three := []*corev1.Pod{testPod("a"), testPod("b"), testPod("c")}
	for _, tc := range []struct {
		name    string
		pods    []*corev1.Pod
		usage   map[string]int64
		res     corev1.ResourceName
		util    int32
		avg     int64
		want    int32
		wantU   int32
		wantErr string
	}{
		{name: "90% of requests against 50%: up to ceil(1.8*3)", pods: three, usage: map[string]int64{"a": 900, "b": 900, "c": 900}, util: 50, want: 6, wantU: 90},
		{name: "53% is within the tolerance of 50%", pods: three, usage: map[string]int64{"a": 530, "b": 530, "c": 530}, util: 50, want: 3, wantU: 53},
		{name: "10% against 50%: down to 1", pods: three, usage: map[string]int64{"a": 100, "b": 100, "c": 100}, util: 50, want: 1, wantU: 10},
		{name: "a missing sample counts as its whole request on a scale down", pods: three, usage: map[string]int64{"a": 0, "b": 0}, util: 50, want: 2, wantU: 0},
		{name: "a missing sample counts as nothing on a scale up", pods: three, usage: map[string]int64{"a": 1000, "b": 1000}, util: 50, want: 4, wantU: 100},
		{name: "a starting unready Pod counts as idle on a scale up", pods: []*corev1.Pod{testPod("a"), testPod("b"), testPod("c", startingUnready)},
			usage: map[string]int64{"a": 900, "b": 900, "c": 900}, util: 50, want: 4, wantU: 90},
		{name: "an unready Pod is left out of a scale down", pods: []*corev1.Pod{testPod("a"), testPod("b"), testPod("c", startingUnready)},
			usage: map[string]int64{"a": 100, "b": 100, "c": 900}, util: 50, want: 1, wantU: 10},
		{name: "pending, failed and deleted Pods are not measured", pods: []*corev1.Pod{testPod("a"), testPod("b"),
			testPod("p", func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending }),
			testPod("f", func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }),
			testPod("d", func(p *corev1.Pod) { now := metav1.NewTime(hpaNow); p.DeletionTimestamp = &now })},
			usage: map[string]int64{"a": 200, "b": 200, "f": 5000, "d": 5000}, util: 50, want: 1, wantU: 20},
		{name: "a sample from before the Pod turned ready is doubted", pods: []*corev1.Pod{testPod("a"), testPod("b", func(p *corev1.Pod) {
			start := metav1.NewTime(hpaNow.Add(-time.Minute))
			p.Status.StartTime = &start
			p.Status.Conditions[0].LastTransitionTime = metav1.NewTime(hpaNow.Add(-5 * time.Second))
		})}, usage: map[string]int64{"a": 1000, "b": 1000}, util: 50, want: 2, wantU: 100}, // trusted, it would be 4
		{name: "memory counts unready Pods", res: corev1.ResourceMemory, pods: []*corev1.Pod{testPod("a"), testPod("b", startingUnready)},
			usage: map[string]int64{"a": 256 << 20 * 1000, "b": 256 << 20 * 1000}, util: 50, want: 4, wantU: 100},
		{name: "an average value of memory", res: corev1.ResourceMemory, pods: three,
			usage: map[string]int64{"a": 300 << 20 * 1000, "b": 300 << 20 * 1000, "c": 300 << 20 * 1000}, avg: 100 << 20 * 1000, want: 9},
		{name: "no request, no utilization", pods: []*corev1.Pod{testPod("a", func(p *corev1.Pod) { p.Spec.Containers[0].Resources.Requests = nil })},
			usage: map[string]int64{"a": 1}, util: 50, wantErr: "missing request for cpu in container app of Pod a"},
		{name: "no samples", pods: three, usage: map[string]int64{}, util: 50, wantErr: "unable to get metrics for resource cpu: no metrics returned from resource metrics API"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.res
			if res == "" {
				res = corev1.ResourceCPU
			}
			rc := &replicaCalc{metrics: fakeMetrics{usage: tc.usage, at: hpaNow}, tolerance: DefaultHPATolerance,
				cpuInit: DefaultHPACPUInitializationPeriod, readiness: DefaultHPAInitialReadinessDelay, now: func() time.Time { return hpaNow }}
			current := int32(len(tc.pods))
			got, err := rc.resourceReplicas(context.Background(), current, "ns", labels.Everything(), tc.pods, res, "", tc.util, tc.avg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %+v, %v; want error %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.replicas != tc.want || (tc.util > 0 && got.utilization != tc.wantU) {
				t.Errorf("got %d replicas at %d%%, want %d at %d%%", got.replicas, got.utilization, tc.want, tc.wantU)
			}
		})
	}
}

// TestResourceReplicasMetricsError: the metrics API failing is an error
// naming the resource.
func TestResourceReplicasMetricsError(t *testing.T) {
	t.Parallel()
	rc := &replicaCalc{metrics: fakeMetrics{err: errors.New("the server could not find the requested resource")}, tolerance: 0.1, now: time.Now}
	_, err := rc.resourceReplicas(context.Background(), 1, "ns", labels.Everything(), []*corev1.Pod{testPod("a")}, corev1.ResourceCPU, "", 50, 0)
	if err == nil || err.Error() != "unable to get metrics for resource cpu: the server could not find the requested resource" {
		t.Fatalf("got %v", err)
	}
}

// TestPodRequestsOfOneContainer: a ContainerResource metric weighs usage
// against that container's request only.
func TestPodRequestsOfOneContainer(t *testing.T) {
	t.Parallel()
	p := testPod("a", func(p *corev1.Pod) {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "side", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}}})
	})
	for _, tc := range []struct {
		container string
		want      int64
	}{{"", 1250}, {"app", 1000}, {"side", 250}} {
		got, err := podRequests([]*corev1.Pod{p}, corev1.ResourceCPU, tc.container)
		if err != nil || got["a"] != tc.want {
			t.Errorf("requests of %q: %v %v, want %d", tc.container, got, err, tc.want)
		}
	}
	if _, err := podRequests([]*corev1.Pod{p}, corev1.ResourceMemory, ""); err == nil || err.Error() != "missing request for memory in container side of Pod a" {
		t.Errorf("side has no memory request: %v", err)
	}
}
