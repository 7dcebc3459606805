package apiserver

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKubectlDrain drives the real kubectl drain, which evicts through
// pods/eviction once discovery lists it: a budget with no disruption
// left keeps the Pod on the node, one with an allowance lets drain evict
// it, and the node is cordoned.
func TestKubectlDrain(t *testing.T) {
	ts := newTestServer(t)
	dir := kubectlDir(t, ts)
	cs := ts.client
	ctx := context.Background()
	const ns = "default"
	if _, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The Pod is a ReplicaSet's, so that drain needs no --force; no
	// controller runs here to replace it.
	one := int32(1)
	rs, err := cs.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	zero := int64(0)
	yes := true
	p, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-1", Labels: map[string]string{"app": "web"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: rs.UID, Controller: &yes}},
		},
		Spec: corev1.PodSpec{NodeName: "n1", TerminationGracePeriodSeconds: &zero, Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	if _, err := cs.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	evictionPDB(t, cs, ns, "web", "web", 0, 1, 1)

	drain := []string{"drain", "n1", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=5s"}
	out, err := ts.kubectl(t, dir, drain...)
	t.Logf("kubectl drain under a spent budget:\n%s", out)
	if err == nil {
		t.Fatalf("kubectl drain under a spent budget succeeded:\n%s", out)
	}
	if !strings.Contains(out, "Cannot evict pod as it would violate the pod's disruption budget") {
		t.Errorf("kubectl drain does not report the refusal:\n%s", out)
	}
	if podGone(t, cs, ns, "web-1") {
		t.Fatal("a refused eviction deleted the pod")
	}
	node, err := cs.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !node.Spec.Unschedulable {
		t.Error("kubectl drain did not cordon the node")
	}

	// With an allowance drain evicts the Pod.
	pdb, err := cs.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pdb.Status.DisruptionsAllowed = 1
	if _, err := cs.PolicyV1().PodDisruptionBudgets(ns).UpdateStatus(ctx, pdb, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	out, err = ts.kubectl(t, dir, drain...)
	t.Logf("kubectl drain with an allowance:\n%s", out)
	if err != nil {
		t.Fatalf("kubectl drain: %v\n%s", err, out)
	}
	for _, want := range []string{`pod/web-1 evicted`, `node/n1 drained`} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl drain output lacks %q:\n%s", want, out)
		}
	}
	if !podGone(t, cs, ns, "web-1") {
		t.Error("drained pod still there")
	}
	pdb, err = cs.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := pdb.Status.DisruptedPods["web-1"]; pdb.Status.DisruptionsAllowed != 0 || !ok {
		t.Errorf("budget after the drain: %+v", pdb.Status)
	}
	node, err = cs.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !node.Spec.Unschedulable {
		t.Error("drained node not cordoned")
	}
}
