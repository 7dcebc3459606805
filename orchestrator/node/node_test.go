package node

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"pkg.dev/pkg/internal/testcluster"
)

// apiForNodeTest starts an API server for a parallel test (skipped with
// -short) and returns a client and a context that ends after 30 s or
// with the test.
func apiForNodeTest(t *testing.T) (kubernetes.Interface, context.Context) {
	t.Helper()
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
	t.Cleanup(cancel)
	return cs, ctx
}

func waitFor(t *testing.T, ctx context.Context, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		if ctx.Err() != nil {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNodeHeartbeatAndLifecycle: an agent registers a Ready node and
// renews its Lease; when it stops, the lifecycle controller marks the node
// Unknown and unreachable and evicts a Pod whose toleration ran out while
// keeping one that tolerates it forever; when the agent comes back, the
// node is Ready and untainted again.
func TestNodeHeartbeatAndLifecycle(t *testing.T) {
	cs, ctx := apiForNodeTest(t)
	cfg := Config{Name: "node-1", CPU: resource.MustParse("2"), Memory: resource.MustParse("4Gi"), Pods: 110, Labels: map[string]string{"topology.kubernetes.io/zone": "a"}}
	agentCtx, stopAgent := context.WithCancel(ctx)
	go func() { _ = (&Agent{Config: cfg, Client: cs, RenewEvery: 50 * time.Millisecond}).Run(agentCtx) }()
	lc := &Lifecycle{Client: cs, Grace: 400 * time.Millisecond, Period: 50 * time.Millisecond, DefaultToleration: 300 * time.Millisecond}
	go func() { _ = lc.Run(ctx) }()

	ready := func() (corev1.ConditionStatus, []corev1.Taint) {
		n, err := cs.CoreV1().Nodes().Get(ctx, "node-1", metav1.GetOptions{})
		if err != nil {
			return "", nil
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status, n.Spec.Taints
			}
		}
		return "", n.Spec.Taints
	}
	waitFor(t, ctx, "node Ready", func() bool { s, _ := ready(); return s == corev1.ConditionTrue })
	n, err := cs.CoreV1().Nodes().Get(ctx, "node-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n.Labels["kubernetes.io/hostname"] != "node-1" || n.Labels["topology.kubernetes.io/zone"] != "a" {
		t.Errorf("labels %v", n.Labels)
	}
	if q := n.Status.Allocatable[corev1.ResourceCPU]; q.String() != "2" {
		t.Errorf("allocatable cpu %s", q.String())
	}
	waitFor(t, ctx, "the heartbeat Lease", func() bool {
		_, err := cs.CoordinationV1().Leases(LeaseNamespace).Get(ctx, "node-1", metav1.GetOptions{})
		return err == nil
	})

	forever := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "stays", Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "c", Image: "x"}},
			Tolerations: []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}}},
	}
	plain := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "goes", Namespace: "default"},
		Spec:       corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "c", Image: "x"}}},
	}
	for _, p := range []*corev1.Pod{forever, plain} {
		if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	stopAgent()
	waitFor(t, ctx, "node Unknown and tainted", func() bool {
		s, taints := ready()
		return s == corev1.ConditionUnknown && hasTaint(taints, corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}) &&
			hasTaint(taints, corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule})
	})
	// Evicted: deleted gracefully, so Terminating until its node's agent
	// (gone here) completes the deletion, as in Kubernetes.
	waitFor(t, ctx, "the intolerant pod evicted", func() bool {
		p, err := cs.CoreV1().Pods("default").Get(ctx, "goes", metav1.GetOptions{})
		return err != nil || p.DeletionTimestamp != nil
	})
	if p, err := cs.CoreV1().Pods("default").Get(ctx, "stays", metav1.GetOptions{}); err != nil || p.DeletionTimestamp != nil {
		t.Errorf("the tolerant pod was evicted: %v", err)
	}
	go func() { _ = (&Agent{Config: cfg, Client: cs, RenewEvery: 50 * time.Millisecond}).Run(ctx) }()
	waitFor(t, ctx, "node Ready and untainted again", func() bool {
		s, taints := ready()
		return s == corev1.ConditionTrue && len(taints) == 0
	})
}

// A node that has just registered, before its agent made its first
// Lease, is judged by its Ready heartbeat, not marked unreachable at
// once; one whose heartbeat is older than the grace is.
func TestLifecycleJudgesANewNodeByItsHeartbeat(t *testing.T) {
	cs, ctx := apiForNodeTest(t)
	now := time.Now()
	for name, beat := range map[string]time.Time{"new": now, "old": now.Add(-time.Minute)} {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			LastHeartbeatTime: metav1.NewTime(beat), LastTransitionTime: metav1.NewTime(beat)}}}}
		if _, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	lc := &Lifecycle{Client: cs, Grace: 10 * time.Second, Clock: func() time.Time { return now.Add(time.Second) }}
	if err := lc.check(ctx); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]corev1.ConditionStatus{"new": corev1.ConditionTrue, "old": corev1.ConditionUnknown} {
		n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := n.Status.Conditions[0].Status; got != want {
			t.Errorf("node %s without a Lease: Ready %s, want %s", name, got, want)
		}
	}
}

// An agent that finds its node marked Unknown while it is alive (its
// heartbeat came late) posts Ready again at its next renewal, not a
// status interval later.
func TestAgentRepairsANodeMarkedUnknown(t *testing.T) {
	cs, ctx := apiForNodeTest(t)
	cfg := Config{Name: "node-1", CPU: resource.MustParse("1"), Memory: resource.MustParse("1Gi"), Pods: 10}
	go func() { _ = (&Agent{Config: cfg, Client: cs, RenewEvery: 50 * time.Millisecond}).Run(ctx) }()
	status := func() corev1.ConditionStatus {
		n, err := cs.CoreV1().Nodes().Get(ctx, "node-1", metav1.GetOptions{})
		if err != nil {
			return ""
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status
			}
		}
		return ""
	}
	waitFor(t, ctx, "node Ready", func() bool { return status() == corev1.ConditionTrue })
	n, err := cs.CoreV1().Nodes().Get(ctx, "node-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n.Status.Conditions {
		n.Status.Conditions[i].Status = corev1.ConditionUnknown
	}
	if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// StatusInterval is a minute: without the repair this would time out.
	short, cancelShort := context.WithTimeout(ctx, 10*time.Second)
	defer cancelShort()
	waitFor(t, short, "node Ready again", func() bool { return status() == corev1.ConditionTrue })
}

// An agent coming back to a node that the lifecycle controller writes
// meanwhile (a conflict on the node's update or status) registers all the
// same, and one whose registration fails tries again instead of leaving
// its node unreachable for good.
func TestAgentRegistersThroughConflicts(t *testing.T) {
	old := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1", ResourceVersion: "1"},
		Spec:   corev1.NodeSpec{Taints: []corev1.Taint{{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}}},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown}}}}
	cs := fake.NewSimpleClientset(old)
	conflicts, failures := 0, 0
	cs.PrependReactor("update", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() == "status" && conflicts < 2 {
			conflicts++
			return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "nodes"}, "node-1", errors.New("the object has been modified"))
		}
		return false, nil, nil
	})
	cs.PrependReactor("create", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		if failures < 1 {
			failures++
			return true, nil, apierrors.NewServiceUnavailable("restarting")
		}
		return false, nil, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	agent := &Agent{Config: Config{Name: "node-1", CPU: resource.MustParse("1"), Memory: resource.MustParse("1Gi"), Pods: 10}, Client: cs, RenewEvery: 50 * time.Millisecond}
	go func() { _ = agent.Run(ctx) }()
	waitFor(t, ctx, "node Ready and untainted", func() bool {
		n, err := cs.CoreV1().Nodes().Get(ctx, "node-1", metav1.GetOptions{})
		if err != nil || len(n.Spec.Taints) != 0 {
			return false
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status == corev1.ConditionTrue
			}
		}
		return false
	})
	if conflicts != 2 || failures != 1 {
		t.Errorf("%d conflicts and %d failures met, want 2 and 1", conflicts, failures)
	}
}
