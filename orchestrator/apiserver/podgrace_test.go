package apiserver

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPodGracefulDeletion: a Pod bound to a node is only marked by a
// delete (deletionTimestamp now plus the grace period,
// deletionGracePeriodSeconds), survives its agent's status updates, has
// its grace period shortened (never lengthened) by later deletes, and goes
// with a delete of grace period 0; Pods not scheduled or already finished
// go at once; finalizers still hold a Pod after its grace period.
func TestPodGracefulDeletion(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	pods := ts.client.CoreV1().Pods("default")
	mk := func(name, node string, phase corev1.PodPhase, grace *int64, finalizers ...string) {
		t.Helper()
		p, err := pods.Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Finalizers: finalizers},
			Spec:       corev1.PodSpec{NodeName: node, TerminationGracePeriodSeconds: grace, Containers: []corev1.Container{{Name: "c", Image: "x"}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if phase != "" {
			p.Status.Phase = phase
			if _, err := pods.UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	gone := func(name string) bool {
		_, err := pods.Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}
	secs := func(n int64) *int64 { return &n }
	del := func(name string, grace *int64) {
		t.Helper()
		if err := pods.Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: grace}); err != nil {
			t.Fatalf("delete %s: %v", name, err)
		}
	}

	mk("pending", "", "", nil)
	mk("done", "n1", corev1.PodSucceeded, nil)
	mk("running", "n1", corev1.PodRunning, secs(60))
	mk("held", "n1", corev1.PodRunning, nil, "example.com/hold")
	del("pending", nil)
	del("done", nil)
	if !gone("pending") || !gone("done") {
		t.Errorf("an unscheduled or finished Pod was kept: pending gone %v, done gone %v", gone("pending"), gone("done"))
	}

	before := time.Now()
	del("running", nil)
	p, err := pods.Get(ctx, "running", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("a running Pod went at once: %v", err)
	}
	if p.DeletionGracePeriodSeconds == nil || *p.DeletionGracePeriodSeconds != 60 || p.DeletionTimestamp == nil ||
		p.DeletionTimestamp.Time.Before(before.Add(58*time.Second)) || p.DeletionTimestamp.Time.After(before.Add(62*time.Second)) {
		t.Fatalf("deletionTimestamp %v, grace %v; want now+60s and 60", p.DeletionTimestamp, p.DeletionGracePeriodSeconds)
	}
	// The agent's status updates keep it.
	p.Status.Phase = corev1.PodRunning
	if _, err := pods.UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil || gone("running") {
		t.Fatalf("a status update of a terminating Pod: %v, gone %v", err, gone("running"))
	}
	// Longer: unchanged; shorter: shortened.
	del("running", secs(120))
	if p, _ = pods.Get(ctx, "running", metav1.GetOptions{}); *p.DeletionGracePeriodSeconds != 60 {
		t.Errorf("a longer grace period replaced the shorter one: %d", *p.DeletionGracePeriodSeconds)
	}
	del("running", secs(5))
	if p, _ = pods.Get(ctx, "running", metav1.GetOptions{}); *p.DeletionGracePeriodSeconds != 5 || p.DeletionTimestamp.Time.After(time.Now().Add(6*time.Second)) {
		t.Errorf("shortening: grace %d, deletionTimestamp %v", *p.DeletionGracePeriodSeconds, p.DeletionTimestamp)
	}
	del("running", secs(0))
	if !gone("running") {
		t.Error("a delete with grace period 0 left the Pod")
	}

	// Finalizers hold a Pod past its grace period, until removed.
	del("held", nil)
	del("held", secs(0))
	p, err = pods.Get(ctx, "held", metav1.GetOptions{})
	if err != nil || p.DeletionGracePeriodSeconds == nil || *p.DeletionGracePeriodSeconds != 0 {
		t.Fatalf("a Pod with a finalizer after a delete of grace 0: %v %+v", err, p)
	}
	p.Finalizers = nil
	if _, err := pods.Update(ctx, p, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	if !gone("held") {
		t.Error("removing the last finalizer of a Pod whose grace period ended did not remove it")
	}
}
