package scheduler

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testcluster"
)

// TestSchedulerBindsThroughTheAPI runs the scheduler against a real API
// server: Pods are bound to nodes with room, an unschedulable Pod is told
// why (condition and Event), and is placed once a node joins.
func TestSchedulerBindsThroughTheAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an API server")
	}
	t.Parallel()
	tc := testcluster.Start(t)
	cs, err := kubernetes.NewForConfig(tc.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, n := range []*corev1.Node{node("n1", "1", "1Gi", nil), node("n2", "1", "1Gi", nil)} {
		if _, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	go func() { _ = New(cs, Options{}).Run(ctx) }()

	for _, p := range []*corev1.Pod{pod("a", "600m", "", nil), pod("b", "600m", "", nil), pod("big", "900m", "", nil)} {
		p.Spec.Containers[0].Image = "busybox"
		if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(what string, ok func() bool) {
		t.Helper()
		for !ok() {
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	nodeOf := func(name string) string {
		p, err := cs.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Spec.NodeName
	}
	wait("a and b bound", func() bool { return nodeOf("a") != "" && nodeOf("b") != "" })
	if nodeOf("a") == nodeOf("b") {
		t.Errorf("a and b (600m each) share node %s of 1 cpu", nodeOf("a"))
	}
	wait("big reported unschedulable", func() bool {
		p, _ := cs.CoreV1().Pods("default").Get(ctx, "big", metav1.GetOptions{})
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == "Unschedulable" {
				return c.Message == "0/2 nodes are available: 2 Insufficient cpu."
			}
		}
		return false
	})
	// The Event follows the condition: wait for both kinds of Event.
	wait("the Scheduled and FailedScheduling Events", func() bool {
		evs, err := cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		var reasons []string
		for _, e := range evs.Items {
			reasons = append(reasons, e.Reason+":"+e.InvolvedObject.Name)
		}
		joined := strings.Join(reasons, " ")
		return strings.Contains(joined, "FailedScheduling:big") && strings.Contains(joined, "Scheduled:a")
	})
	if _, err := cs.CoreV1().Nodes().Create(ctx, node("n3", "2", "1Gi", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	wait("big bound once n3 joined", func() bool { return nodeOf("big") == "n3" })
}
