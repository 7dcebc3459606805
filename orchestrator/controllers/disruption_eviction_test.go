package controllers

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestEvictionHonoursBudget evicts through pods/eviction against the
// budget the disruption controller keeps: of two evictions at once only
// one passes, the controller counts the evicted Pod as disrupted, and
// the budget allows a disruption again once a replacement is Ready.
func TestEvictionHonoursBudget(t *testing.T) {
	t.Parallel()
	client, ns := start(t, Options{Controllers: []string{ReplicaSetController, DeploymentController, DisruptionController}})
	ctx := context.Background()
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, newDeployment("web", 3), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	if _, err := client.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       policyv1.PodDisruptionBudgetSpec{Selector: sel, MinAvailable: ptr(intstr.FromInt32(2))},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	k := newKubelet(client, ns)
	k.auto(t, 0)
	allowed := func(n int32) {
		t.Helper()
		eventually(t, 5*time.Second, "budget status", func() (bool, error) {
			b, err := client.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return b.Status.ObservedGeneration == b.Generation && b.Status.CurrentHealthy == 3-1+n && b.Status.DisruptionsAllowed == n, nil
		})
	}
	allowed(1)

	pods := listPods(t, client, ns, "app=web")
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = client.PolicyV1().Evictions(ns).Evict(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: pods[i].Name, Namespace: ns}})
		}()
	}
	wg.Wait()
	passed, refused := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			passed++
		case apierrors.IsTooManyRequests(err):
			refused++
		default:
			t.Fatalf("eviction: %v", err)
		}
	}
	if passed != 1 || refused != 1 {
		t.Fatalf("two evictions at once under a budget of one: %v", errs)
	}

	// The evicted Pod is terminating; its replacement becomes Ready and
	// the budget allows one disruption again.
	eventually(t, 10*time.Second, "a replacement Ready", func() (bool, error) {
		ps, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			return false, err
		}
		ready := 0
		for _, p := range ps.Items {
			if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
				ready++
			}
		}
		return ready == 3, nil
	})
	allowed(1)
	b, err := client.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Status.DisruptedPods) != 0 {
		t.Errorf("disruptedPods still lists the evicted Pod: %v", b.Status.DisruptedPods)
	}
}
