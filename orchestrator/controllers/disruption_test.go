package controllers

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestDisruptionBudgetStatus(t *testing.T) {
	t.Parallel()
	client, ns := start(t, Options{Controllers: []string{ReplicaSetController, DeploymentController, DisruptionController}})
	ctx := context.Background()
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, newDeployment("web", 3), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	for _, b := range []*policyv1.PodDisruptionBudget{
		{ObjectMeta: metav1.ObjectMeta{Name: "min"}, Spec: policyv1.PodDisruptionBudgetSpec{Selector: sel, MinAvailable: ptr(intstr.FromInt32(2))}},
		{ObjectMeta: metav1.ObjectMeta{Name: "max"}, Spec: policyv1.PodDisruptionBudgetSpec{Selector: sel, MaxUnavailable: ptr(intstr.FromString("50%"))}},
	} {
		if _, err := client.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, b, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	k := newKubelet(client, ns)
	k.auto(t, 0)
	want := func(name string, healthy, desired, expected, allowed int32, reason string) {
		t.Helper()
		var last policyv1.PodDisruptionBudgetStatus
		eventually(t, 5*time.Second, name+" status", func() (bool, error) {
			b, err := client.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			last = b.Status
			var cond *metav1.Condition
			for i := range b.Status.Conditions {
				if b.Status.Conditions[i].Type == policyv1.DisruptionAllowedCondition {
					cond = &b.Status.Conditions[i]
				}
			}
			return last.CurrentHealthy == healthy && last.DesiredHealthy == desired && last.ExpectedPods == expected &&
				last.DisruptionsAllowed == allowed && cond != nil && cond.Reason == reason && last.ObservedGeneration == b.Generation, nil
		})
	}
	want("min", 3, 2, 3, 1, "SufficientPods")
	// 50% of 3 rounds up to 2 unavailable: one must stay healthy.
	want("max", 3, 1, 3, 2, "SufficientPods")

	pods := listPods(t, client, ns, "app=web")
	k.setHold(func(*corev1.Pod) bool { return true })
	k.ready(t, pods[0].Name, false)
	k.ready(t, pods[1].Name, false)
	want("min", 1, 2, 3, 0, "InsufficientPods")
	want("max", 1, 1, 3, 0, "InsufficientPods")
}
