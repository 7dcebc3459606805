package node

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testcluster"
)

// TestFinisherCompletesDeletions: on a node that runs no containers, a
// deleted Pod does not stay Terminating; Pods of other nodes are left to
// their agents.
func TestFinisherCompletesDeletions(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an API server")
	}
	t.Parallel()
	tc := testcluster.Start(t)
	cs := kubernetes.NewForConfigOrDie(tc.Config)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() { _ = (&Finisher{Node: "idle", Client: cs}).Run(ctx) }()
	for _, n := range []string{"idle", "busy"} {
		if _, err := cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "on-" + n},
			Spec:       corev1.PodSpec{NodeName: n, Containers: []corev1.Container{{Name: "c", Image: "x"}}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := cs.CoreV1().Pods("default").Delete(ctx, "on-"+n, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, ctx, "the idle node's Pod gone", func() bool {
		_, err := cs.CoreV1().Pods("default").Get(ctx, "on-idle", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	if p, err := cs.CoreV1().Pods("default").Get(ctx, "on-busy", metav1.GetOptions{}); err != nil || p.DeletionTimestamp == nil {
		t.Errorf("another node's terminating Pod: %v %+v", err, p)
	}
}
