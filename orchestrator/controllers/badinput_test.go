package controllers

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// A ReplicaSet whose Pods the API refuses keeps failing with an Event and
// a ReplicaFailure condition, while a good one next to it is served, even
// with a single worker.
func TestBadReplicaSetDoesNotStallOthers(t *testing.T) {
	t.Parallel()
	client, ns := start(t, Options{Controllers: []string{ReplicaSetController, DeploymentController}, Workers: 1})
	ctx := context.Background()
	// The API takes the ReplicaSet but refuses its Pods: their
	// PriorityClass does not exist (the Priority admission plugin).
	bad := newReplicaSet("bad", 2)
	bad.Spec.Template.Spec.PriorityClassName = "no-such-class"
	if _, err := client.AppsV1().ReplicaSets(ns).Create(ctx, bad, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, newDeployment("good", 2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the good deployment's pods", func() (bool, error) {
		return len(listPods(t, client, ns, "app=good")) == 2, nil
	})
	eventually(t, 5*time.Second, "the bad replicaset's failure", func() (bool, error) {
		rs := getRS(t, client, ns, "bad")
		c := replicaSetFailure(rs.Status.Conditions)
		ev := strings.Join(eventsFor(t, client, ns, "bad"), "\n")
		return c != nil && c.Reason == "FailedCreate" && strings.Contains(ev, "FailedCreate: Error creating: ") &&
			strings.Contains(ev, "no PriorityClass with name no-such-class was found"), nil
	})
	if n := len(listPods(t, client, ns, "app=bad")); n != 0 {
		t.Errorf("%d pods of the bad replicaset", n)
	}
}

// The proof of the issue: a 3-replica Deployment behind a Service loses a
// Pod and gets it back, and the Service's ready endpoints never drop to
// zero meanwhile.
func TestServiceKeepsReadyEndpointsWhilePodReplaced(t *testing.T) {
	t.Parallel()
	client, ns := start(t, Options{})
	ctx := context.Background()
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, newDeployment("web", 3), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{
		Selector: map[string]string{"app": "web"},
		Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}},
	}}
	if _, err := client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	k := newKubelet(client, ns)
	k.auto(t, 50*time.Millisecond)
	readyAddrs := func() int {
		ep, err := client.CoreV1().Endpoints(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return -1
		}
		n := 0
		for _, s := range ep.Subsets {
			n += len(s.Addresses)
		}
		return n
	}
	eventually(t, 10*time.Second, "3 ready endpoints", func() (bool, error) { return readyAddrs() == 3, nil })
	victim := listPods(t, client, ns, "app=web")[0].Name
	if err := client.CoreV1().Pods(ns).Delete(ctx, victim, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	lowest := 3
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := readyAddrs()
		if n >= 0 && n < lowest {
			lowest = n
		}
		d, err := client.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err == nil && n == 3 && d.Status.AvailableReplicas == 3 && lowest < 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery to 3 ready endpoints (now %d, lowest %d)", n, lowest)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if lowest == 0 {
		t.Error("the service's ready endpoints dropped to zero")
	}
	for _, a := range listRS(t, client, ns) {
		if *a.Spec.Replicas != 3 {
			t.Errorf("replicaset %s at %d replicas", a.Name, *a.Spec.Replicas)
		}
	}
}
