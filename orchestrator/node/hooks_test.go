package node

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// hookPod is a Pod of one testapp container with a hostPath volume at
// /data (the test reads what the container and its hooks write there).
func hookPod(name, dir string, grace int64, c corev1.Container) *corev1.Pod {
	c.Name, c.Image = "c", "testapp:1"
	c.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{
			NodeName: "n1", TerminationGracePeriodSeconds: &grace,
			Containers: []corev1.Container{c},
			Volumes:    []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir}}}},
		},
	}
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Fields(strings.ReplaceAll(string(b), "GET /", "GET_/"))
}

func podEvents(t *testing.T, ctx context.Context, e *runnerEnv, pod, reason string) []corev1.Event {
	t.Helper()
	evs, err := e.cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + pod})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Event
	for _, ev := range evs.Items {
		if ev.Reason == reason {
			out = append(out, ev)
		}
	}
	return out
}

// TestLifecycleHooksAndGracefulDeletion: postStart runs right after the
// container starts; deleting the Pod (with the real kubectl) marks it
// Terminating with its grace period, runs the preStop hook (httpGet or
// exec) before SIGTERM, and the Pod is gone once its container stopped.
func TestLifecycleHooksAndGracefulDeletion(t *testing.T) {
	e, ctx := newRunnerEnv(t)
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not installed")
	}
	dir := t.TempDir()
	web := hookPod("web", dir, 10, corev1.Container{
		Args:  []string{"-listen", ":8080", "-append", "/data/web", "-note", "main"},
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		Lifecycle: &corev1.Lifecycle{
			PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"/testapp", "-append", "/data/web", "-note", "poststart"}}},
			PreStop:   &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/prestop", Port: intstr.FromString("http")}},
		},
	})
	worker := hookPod("worker", dir, 10, corev1.Container{
		Args: []string{"-append", "/data/worker", "-note", "main", "-sleep", "1h"},
		Lifecycle: &corev1.Lifecycle{
			PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"/testapp", "-append", "/data/worker", "-note", "prestop", "-sleep", "500ms"}}},
		},
	})
	for _, p := range []*corev1.Pod{web, worker} {
		if _, err := e.cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitPod(t, ctx, e, "web", "web Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	waitPod(t, ctx, e, "worker", "worker Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	for !slices.Contains(lines(t, filepath.Join(dir, "web")), "poststart") {
		if ctx.Err() != nil {
			t.Fatalf("the postStart hook did not run: %q", lines(t, filepath.Join(dir, "web")))
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The API marks the Pod and waits for the agent.
	if err := e.cs.CoreV1().Pods("default").Delete(ctx, "worker", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := e.cs.CoreV1().Pods("default").Get(ctx, "worker", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Pod was removed at once, not gracefully: %v", err)
	}
	if p.DeletionTimestamp == nil || p.DeletionGracePeriodSeconds == nil || *p.DeletionGracePeriodSeconds != 10 {
		t.Errorf("deleting pod: deletionTimestamp %v, grace %v; want a grace of 10", p.DeletionTimestamp, p.DeletionGracePeriodSeconds)
	}
	// kubectl delete waits until the agent completed the deletion.
	out, err := exec.CommandContext(ctx, "kubectl", "--kubeconfig", e.kubeconfig, "delete", "pod", "web").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `pod "web" deleted`) {
		t.Fatalf("kubectl delete pod web: %v\n%s", err, out)
	}
	if _, err := e.cs.CoreV1().Pods("default").Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("after kubectl delete returned, web: %v", err)
	}
	for {
		_, err := e.cs.CoreV1().Pods("default").Get(ctx, "worker", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("worker was never deleted")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for name, want := range map[string][]string{
		"web":    {"main", "poststart", "GET_/prestop", "terminated"},
		"worker": {"main", "prestop", "terminated"},
	} {
		got := lines(t, filepath.Join(dir, name))
		// main and postStart run concurrently, as in Kubernetes: compare
		// them as a set, and the rest in order.
		if len(got) != len(want) || !slices.Contains(got[:2], want[1]) || !slices.Equal(got[2:], want[2:]) {
			t.Errorf("%s wrote %q, want %q (preStop before SIGTERM); FailedPreStopHook events: %+v", name, got, want, podEvents(t, ctx, e, name, "FailedPreStopHook"))
		}
	}
}

// TestFailedPostStartHookAndGracePeriod: a failing postStart hook kills
// the container (FailedPostStartHook, then restarted); a container that
// ignores SIGTERM is killed once its grace period ran out, sooner when a
// second delete shortens it; a forced delete (grace period 0) removes the
// Pod at once.
func TestFailedPostStartHookAndGracePeriod(t *testing.T) {
	e, ctx := newRunnerEnv(t)
	dir := t.TempDir()
	bad := hookPod("badhook", dir, 1, corev1.Container{
		Args: []string{"-sleep", "1h"},
		Lifecycle: &corev1.Lifecycle{
			PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"/testapp", "-exit", "3"}}},
		},
	})
	stubborn := hookPod("stubborn", dir, 1, corev1.Container{Args: []string{"-ignore-term", "-append", "/data/stubborn", "-sleep", "1h"}})
	forced := hookPod("forced", dir, 30, corev1.Container{Args: []string{"-ignore-term", "-sleep", "1h"}})
	hurried := hookPod("hurried", dir, 300, corev1.Container{Args: []string{"-ignore-term", "-sleep", "1h"}})
	for _, p := range []*corev1.Pod{bad, stubborn, forced, hurried} {
		if _, err := e.cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	got := waitPod(t, ctx, e, "badhook", "badhook restarted after its hook failed", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount >= 1 &&
			p.Status.ContainerStatuses[0].LastTerminationState.Terminated != nil
	})
	if term := got.Status.ContainerStatuses[0].LastTerminationState.Terminated; !strings.Contains(term.Message, "FailedPostStartHook") || term.ExitCode != 137 {
		t.Errorf("last state after a failed postStart hook: %+v", term)
	}
	evs := podEvents(t, ctx, e, "badhook", "FailedPostStartHook")
	if len(evs) == 0 || !strings.Contains(evs[0].Message, "exited with 3") {
		t.Errorf("FailedPostStartHook events: %+v", evs)
	}

	waitPod(t, ctx, e, "stubborn", "stubborn Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	waitPod(t, ctx, e, "forced", "forced Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	zero := int64(0)
	if err := e.cs.CoreV1().Pods("default").Delete(ctx, "forced", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cs.CoreV1().Pods("default").Get(ctx, "forced", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a delete with grace period 0 left the Pod: %v", err)
	}
	start := time.Now()
	if err := e.cs.CoreV1().Pods("default").Delete(ctx, "stubborn", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := e.cs.CoreV1().Pods("default").Get(ctx, "stubborn", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("a container ignoring SIGTERM was never killed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("the Pod went after %s, before its grace period of 1s", d)
	}
	if l := lines(t, filepath.Join(dir, "stubborn")); slices.Contains(l, "terminated") {
		t.Errorf("SIGTERM was not ignored: %q", l)
	}

	// Five minutes of grace, then two seconds: gone in seconds.
	waitPod(t, ctx, e, "hurried", "hurried Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	if err := e.cs.CoreV1().Pods("default").Delete(ctx, "hurried", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if p := e.pod(t, ctx, "hurried"); p.DeletionGracePeriodSeconds == nil || *p.DeletionGracePeriodSeconds != 300 {
		t.Fatalf("hurried while terminating: %+v", p.ObjectMeta)
	}
	two := int64(2)
	if err := e.cs.CoreV1().Pods("default").Delete(ctx, "hurried", metav1.DeleteOptions{GracePeriodSeconds: &two}); err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); ; {
		_, err := e.cs.CoreV1().Pods("default").Get(ctx, "hurried", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatal("a shorter grace period given while terminating was not applied")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
