package node

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Bad input on a node: a command that is not in the image and a volume
// of a Secret that does not exist are reported on the Pod, in its
// containers' state and in Events, in words that name the problem, while
// a good Pod beside them runs.
func TestPodBadInputReported(t *testing.T) {
	e, ctx := newRunnerEnv(t)
	mk := func(p *corev1.Pod) {
		t.Helper()
		p.Namespace = "default"
		p.Spec.NodeName = "n1"
		if _, err := e.cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mk(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "nocmd"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "c", Image: "testapp:1", Command: []string{"/no/such/program"},
	}}}})
	mk(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "nosecret"}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "c", Image: "testapp:1", Args: []string{"-sleep", "1h"},
			VolumeMounts: []corev1.VolumeMount{{Name: "creds", MountPath: "/creds"}}}},
		Volumes: []corev1.Volume{{Name: "creds", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "nothere"}}}},
	}})
	mk(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "good"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "c", Image: "testapp:1", Args: []string{"-sleep", "1h"},
	}}}})

	// As the kubelet with runc: the start fails, the container counts as
	// terminated with 128 and StartError in runc's words, and restarts
	// with back-off.
	waitPod(t, ctx, e, "nocmd", "nocmd terminated with StartError, then backing off", func(p *corev1.Pod) bool {
		if len(p.Status.ContainerStatuses) != 1 {
			return false
		}
		s := p.Status.ContainerStatuses[0]
		last := s.LastTerminationState.Terminated
		return last != nil && last.Reason == "StartError" && last.ExitCode == 128 &&
			strings.Contains(last.Message, `exec: "/no/such/program"`) && s.RestartCount >= 1 &&
			s.State.Waiting != nil && s.State.Waiting.Reason == "CrashLoopBackOff"
	})
	if evs := podEvents(t, ctx, e, "nocmd", "Failed"); len(evs) == 0 || !strings.Contains(evs[0].Message, `Error: runc run failed: unable to start container process: exec: "/no/such/program"`) {
		t.Errorf("nocmd's Failed events: %+v", evs)
	}
	// As the kubelet: ContainerCreating while the Secret is missing, a
	// FailedMount Event in its words, and the Pod starts once the Secret
	// exists.
	waitPod(t, ctx, e, "nosecret", "nosecret waiting in ContainerCreating", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
			p.Status.ContainerStatuses[0].State.Waiting.Reason == "ContainerCreating"
	})
	want := `MountVolume.SetUp failed for volume "creds" : secret "nothere" not found`
	if evs := podEvents(t, ctx, e, "nosecret", "FailedMount"); len(evs) != 1 || evs[0].Message != want || evs[0].Type != corev1.EventTypeWarning {
		t.Errorf("nosecret's FailedMount events: %+v; want one saying %q", evs, want)
	}
	waitPod(t, ctx, e, "good", "good Running beside them", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	if _, err := e.cs.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "nothere"}, Data: map[string][]byte{"k": []byte("v")}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPod(t, ctx, e, "nosecret", "nosecret Running once its Secret exists", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
}
