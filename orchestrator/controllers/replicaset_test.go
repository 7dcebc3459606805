package controllers

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

func newReplicaSet(name string, replicas int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: podTemplate(name, "web:1"),
		},
	}
}

func getRS(t *testing.T, client kubernetes.Interface, ns, name string) *appsv1.ReplicaSet {
	t.Helper()
	rs, err := client.AppsV1().ReplicaSets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("getting replicaset: %v", err)
	}
	return rs
}

func ownedBy(p *corev1.Pod, uid types.UID) bool {
	ref := metav1.GetControllerOf(p)
	return ref != nil && ref.UID == uid
}

func TestReplicaSetKeepsCountAndStatus(t *testing.T) {
	t.Parallel()
	client, ns := start(t, Options{Controllers: []string{ReplicaSetController}})
	ctx := context.Background()
	rs, err := client.AppsV1().ReplicaSets(ns).Create(ctx, newReplicaSet("web", 3), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "3 pods and status", func() (bool, error) {
		cur := getRS(t, client, ns, "web")
		return len(listPods(t, client, ns, "app=web")) == 3 && cur.Status.Replicas == 3 &&
			cur.Status.FullyLabeledReplicas == 3 && cur.Status.ObservedGeneration == cur.Generation, nil
	})
	pods := listPods(t, client, ns, "app=web")
	for _, p := range pods {
		if !ownedBy(&p, rs.UID) || !strings.HasPrefix(p.Name, "web-") || p.Spec.Containers[0].Image != "web:1" {
			t.Errorf("pod %s: owner %v, image %s", p.Name, p.OwnerReferences, p.Spec.Containers[0].Image)
		}
	}
	k := newKubelet(client, ns)
	k.ready(t, pods[0].Name, true)
	k.ready(t, pods[1].Name, true)
	k.ready(t, pods[2].Name, false)
	eventually(t, 5*time.Second, "2 ready", func() (bool, error) {
		s := getRS(t, client, ns, "web").Status
		return s.ReadyReplicas == 2 && s.AvailableReplicas == 2, nil
	})

	// A deleted Pod is replaced.
	if err := client.CoreV1().Pods(ns).Delete(ctx, pods[0].Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "a replacement", func() (bool, error) {
		now := listPods(t, client, ns, "app=web")
		return len(now) == 3 && !slices.ContainsFunc(now, func(p corev1.Pod) bool { return p.Name == pods[0].Name }), nil
	})
	eventually(t, 5*time.Second, "events", func() (bool, error) {
		ev := strings.Join(eventsFor(t, client, ns, "web"), "\n")
		return strings.Contains(ev, "SuccessfulCreate: Created pod: web-"), nil
	})

	// Scaling down removes the least useful Pods: the pending one and the
	// one not ready go first.
	eventually(t, 5*time.Second, "scaling to 1", func() (bool, error) {
		cur := getRS(t, client, ns, "web")
		cur.Spec.Replicas = ptr(int32(1))
		_, err := client.AppsV1().ReplicaSets(ns).Update(ctx, cur, metav1.UpdateOptions{})
		return err == nil, err
	})
	eventually(t, 5*time.Second, "scale down to the ready pod", func() (bool, error) {
		now := listPods(t, client, ns, "app=web")
		return len(now) == 1 && now[0].Name == pods[1].Name, nil
	})
	eventually(t, 5*time.Second, "status after scale down", func() (bool, error) {
		c := getRS(t, client, ns, "web")
		return c.Status.Replicas == 1 && c.Status.ReadyReplicas == 1 && c.Status.ObservedGeneration == c.Generation, nil
	})
}

func TestReplicaSetAdoptsAndReleases(t *testing.T) {
	t.Parallel()
	client, ns := start(t, Options{Controllers: []string{ReplicaSetController}})
	ctx := context.Background()
	orphan := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "orphan", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "other"}}}}
	if _, err := client.CoreV1().Pods(ns).Create(ctx, orphan, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rs, err := client.AppsV1().ReplicaSets(ns).Create(ctx, newReplicaSet("web", 2), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "adoption", func() (bool, error) {
		pods := listPods(t, client, ns, "app=web")
		owned := 0
		for _, p := range pods {
			if ownedBy(&p, rs.UID) {
				owned++
			}
		}
		return len(pods) == 2 && owned == 2 && slices.ContainsFunc(pods, func(p corev1.Pod) bool { return p.Name == "orphan" }), nil
	})
	eventually(t, 5*time.Second, "fullyLabeledReplicas", func() (bool, error) {
		s := getRS(t, client, ns, "web").Status
		return s.Replicas == 2 && s.FullyLabeledReplicas == 2, nil
	})

	// Relabelling a Pod out of the selector releases it; a new one takes
	// its place.
	p, err := client.CoreV1().Pods(ns).Get(ctx, "orphan", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Labels = map[string]string{"app": "debug"}
	if _, err := client.CoreV1().Pods(ns).Update(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "release and replace", func() (bool, error) {
		p, err := client.CoreV1().Pods(ns).Get(ctx, "orphan", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return metav1.GetControllerOf(p) == nil && len(listPods(t, client, ns, "app=web")) == 2, nil
	})
}

func TestPodsToDeleteRanking(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := func(name, node string, phase corev1.PodPhase, ready bool, created, readySince time.Duration, restarts int32) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(t0.Add(created))},
			Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: phase,
				ContainerStatuses: []corev1.ContainerStatus{{RestartCount: restarts}}}}
		if phase == corev1.PodRunning {
			st := corev1.ConditionFalse
			if ready {
				st = corev1.ConditionTrue
			}
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st, LastTransitionTime: metav1.NewTime(t0.Add(readySince))}}
		}
		return p
	}
	tests := []struct {
		name string
		pods []*corev1.Pod
		want []string
	}{
		{"unscheduled first", []*corev1.Pod{pod("a", "n1", corev1.PodPending, false, 0, 0, 0), pod("b", "", corev1.PodPending, false, -time.Hour, 0, 0)}, []string{"b", "a"}},
		{"pending before running", []*corev1.Pod{pod("a", "n1", corev1.PodRunning, false, time.Hour, 0, 0), pod("b", "n2", corev1.PodPending, false, 0, 0, 0)}, []string{"b", "a"}},
		{"not ready before ready", []*corev1.Pod{pod("a", "n1", corev1.PodRunning, true, time.Hour, 0, 0), pod("b", "n2", corev1.PodRunning, false, 0, 0, 0)}, []string{"b", "a"}},
		{"doubled up first", []*corev1.Pod{pod("a", "n1", corev1.PodRunning, true, time.Hour, time.Hour, 0), pod("b", "n2", corev1.PodRunning, true, 0, 0, 0), pod("c", "n2", corev1.PodRunning, true, 0, 0, 0)}, []string{"c", "b", "a"}},
		{"ready more recently first", []*corev1.Pod{pod("a", "n1", corev1.PodRunning, true, 0, time.Minute, 0), pod("b", "n2", corev1.PodRunning, true, 0, time.Hour, 0)}, []string{"b", "a"}},
		{"more restarts first", []*corev1.Pod{pod("a", "n1", corev1.PodRunning, true, 0, 0, 1), pod("b", "n2", corev1.PodRunning, true, 0, 0, 3)}, []string{"b", "a"}},
		{"newest first", []*corev1.Pod{pod("a", "", corev1.PodPending, false, 0, 0, 0), pod("b", "", corev1.PodPending, false, time.Second, 0, 0)}, []string{"b", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, p := range podsToDelete(tt.pods, len(tt.pods)) {
				got = append(got, p.Name)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("order %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReplicaSetMinReadySeconds(t *testing.T) {
	t.Parallel()
	client, ns := start(t, Options{Controllers: []string{ReplicaSetController}})
	ctx := context.Background()
	rs := newReplicaSet("slow", 1)
	rs.Spec.MinReadySeconds = 1
	if _, err := client.AppsV1().ReplicaSets(ns).Create(ctx, rs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "a pod", func() (bool, error) { return len(listPods(t, client, ns, "app=slow")) == 1, nil })
	k := newKubelet(client, ns)
	name := listPods(t, client, ns, "app=slow")[0].Name
	k.ready(t, name, true)
	p, err := client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The transition time has whole seconds, as in Kubernetes: the Pod
	// is available one second after it as stored.
	availableAt := podReadyCondition(p).LastTransitionTime.Add(time.Second)
	eventually(t, 5*time.Second, "ready", func() (bool, error) { return getRS(t, client, ns, "slow").Status.ReadyReplicas == 1, nil })
	eventually(t, 5*time.Second, "available after minReadySeconds", func() (bool, error) {
		s := getRS(t, client, ns, "slow").Status
		if s.AvailableReplicas == 1 && time.Now().Before(availableAt.Add(-50*time.Millisecond)) {
			t.Fatalf("available at %v, before %v", time.Now(), availableAt)
		}
		return s.AvailableReplicas == 1, nil
	})
}
