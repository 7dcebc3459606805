package node

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"pkg.dev/pkg/orchestrator/runtime"
)

// heldStart is a runtime whose first Start waits until the test lets it
// go, so that a Pod can be deleted while its container is being started.
type heldStart struct {
	runtime.Driver
	entered chan struct{}
	release chan struct{}
	first   chan struct{}
}

func (h *heldStart) Start(ctx context.Context, id string, spec runtime.ContainerSpec) error {
	select {
	case <-h.first:
		close(h.entered)
		<-h.release
	default:
	}
	return h.Driver.Start(ctx, id, spec)
}

// TestDeleteWhileContainerStarts: a Pod deleted while its container is
// being started (termination found nothing running yet) still stops that
// container once it runs and finishes its deletion, instead of waiting
// for it for ever. CI once saw `kubectl delete` time out on this race,
// with a liveness restart under way.
func TestDeleteWhileContainerStarts(t *testing.T) {
	h := &heldStart{entered: make(chan struct{}), release: make(chan struct{}), first: make(chan struct{}, 1)}
	h.first <- struct{}{}
	e, ctx := newRunnerEnvWith(t, func(r *PodRunner) {
		h.Driver = r.Runtime
		r.Runtime = h
	})
	grace := int64(3)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "slow", Namespace: "default"},
		Spec: corev1.PodSpec{
			NodeName:                      "n1",
			TerminationGracePeriodSeconds: &grace,
			Containers:                    []corev1.Container{{Name: "main", Image: "testapp:1", Args: []string{"-sleep", "1h"}}},
		},
	}
	if _, err := e.cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.entered:
	case <-ctx.Done():
		t.Fatal("the container was never started")
	}
	if err := e.cs.CoreV1().Pods("default").Delete(ctx, "slow", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The agent sees the deletion and begins terminating the Pod, with
	// its container still being started.
	waitPod(t, ctx, e, "slow", "the deletion is seen", func(p *corev1.Pod) bool { return p.DeletionTimestamp != nil })
	time.Sleep(500 * time.Millisecond)
	close(h.release)
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := e.cs.CoreV1().Pods("default").Get(ctx, "slow", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Pod was not gone 20 s after its container started (grace period 3 s): %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	infos, err := h.Driver.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range infos {
		t.Errorf("container %s left behind", i.ID)
	}
}
