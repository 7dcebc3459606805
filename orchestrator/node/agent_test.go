package node

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testcluster"
)

// TestRegisterFollowsConfig: registering a node again (a restart) with
// another Config gives it the new labels and capacity, drops the taints
// the old Config gave it, takes the new ones (a changed value included),
// and keeps a taint someone else added.
func TestRegisterFollowsConfig(t *testing.T) {
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
	first := Config{Name: "n", CPU: resource.MustParse("2"), Memory: resource.MustParse("4Gi"), Pods: 110,
		Labels: map[string]string{"disktype": "ssd"},
		Taints: []corev1.Taint{
			{Key: "gone", Effect: corev1.TaintEffectNoSchedule},
			{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule},
		}}
	if err := (&Agent{Config: first, Client: cs}).Register(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := cs.CoreV1().Nodes().Get(ctx, "n", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "example.com/maintenance", Effect: corev1.TaintEffectNoExecute})
	if _, err := cs.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	second := Config{Name: "n", CPU: resource.MustParse("1"), Memory: resource.MustParse("1Gi"), Pods: 20,
		Labels: map[string]string{"topology.kubernetes.io/zone": "b"},
		Taints: []corev1.Taint{
			{Key: "dedicated", Value: "web", Effect: corev1.TaintEffectNoSchedule},
			{Key: "new", Effect: corev1.TaintEffectPreferNoSchedule},
		}}
	if err := (&Agent{Config: second, Client: cs}).Register(ctx); err != nil {
		t.Fatal(err)
	}
	n, err = cs.CoreV1().Nodes().Get(ctx, "n", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, t := range n.Spec.Taints {
		got = append(got, t.ToString())
	}
	slices.Sort(got)
	want := []string{"dedicated=web:NoSchedule", "example.com/maintenance:NoExecute", "new:PreferNoSchedule"}
	if !slices.Equal(got, want) {
		t.Errorf("taints %v, want %v", got, want)
	}
	if _, ok := n.Labels["disktype"]; ok || n.Labels["topology.kubernetes.io/zone"] != "b" || n.Labels["kubernetes.io/hostname"] != "n" {
		t.Errorf("labels %v", n.Labels)
	}
	if q := n.Status.Allocatable[corev1.ResourceMemory]; q.String() != "1Gi" {
		t.Errorf("allocatable memory %s, want 1Gi", q.String())
	}
	if q := n.Status.Capacity[corev1.ResourcePods]; q.String() != "20" {
		t.Errorf("pod capacity %s, want 20", q.String())
	}

	// A Config without taints takes its old ones away, and its record.
	if err := (&Agent{Config: Config{Name: "n", CPU: second.CPU, Memory: second.Memory, Pods: 20}, Client: cs}).Register(ctx); err != nil {
		t.Fatal(err)
	}
	n, err = cs.CoreV1().Nodes().Get(ctx, "n", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Spec.Taints) != 1 || n.Spec.Taints[0].Key != "example.com/maintenance" {
		t.Errorf("taints %v, want only the one added by hand", n.Spec.Taints)
	}
	if _, ok := n.Annotations[ConfigTaintsAnnotation]; ok {
		t.Errorf("annotation %s left: %v", ConfigTaintsAnnotation, n.Annotations)
	}
}
