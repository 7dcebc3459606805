package release_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testcluster"
	"pkg.dev/pkg/orchestrator/apiserver"
	"pkg.dev/pkg/release"
	"pkg.dev/pkg/release/kube"
	"pkg.dev/pkg/render"
)

// finishJobs stands in for the Job and kubelet controllers, which the
// bundled orchestrator does not have yet: every Job and Pod created in
// default is finished, successfully unless its name starts with "bad".
func finishJobs(ctx context.Context, cs kubernetes.Interface) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		jobs, err := cs.BatchV1().Jobs("default").List(ctx, metav1.ListOptions{})
		if err == nil {
			for i := range jobs.Items {
				j := &jobs.Items[i]
				if len(j.Status.Conditions) > 0 {
					continue
				}
				cond := batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}
				if strings.HasPrefix(j.Name, "bad") {
					cond = batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded"}
				}
				j.Status.Conditions = []batchv1.JobCondition{cond}
				_, _ = cs.BatchV1().Jobs("default").UpdateStatus(ctx, j, metav1.UpdateOptions{})
			}
		}
		pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		if err == nil {
			for i := range pods.Items {
				p := &pods.Items[i]
				if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
					continue
				}
				p.Status.Phase = corev1.PodSucceeded
				if strings.HasPrefix(p.Name, "bad") {
					p.Status.Phase = corev1.PodFailed
				}
				_, _ = cs.CoreV1().Pods("default").UpdateStatus(ctx, p, metav1.UpdateOptions{})
			}
		}
	}
}

func hook(kind, name, event, weight, policy string) string {
	body := ""
	switch kind {
	case "Job":
		body = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: " + name + "\n  annotations:\n%s" +
			"spec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: c\n          image: busybox\n"
	case "Pod":
		body = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  annotations:\n%s" +
			"spec:\n  restartPolicy: Never\n  containers:\n    - name: c\n      image: busybox\n"
	default:
		body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  annotations:\n%s"
	}
	ann := "    helm.sh/hook: " + event + "\n"
	if weight != "" {
		ann += "    helm.sh/hook-weight: \"" + weight + "\"\n"
	}
	if policy != "" {
		ann += "    helm.sh/hook-delete-policy: " + policy + "\n"
	}
	return strings.Replace(body, "%s", ann, 1)
}

// TestHooks runs hooks by weight with their delete policies, waits for
// hook Jobs and test Pods, and reports a failed hook Job.
func TestHooks(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := ctxT(t)
	go finishJobs(ctx, w.cs)
	c := chartOf(t, "hooked", map[string]string{
		"app.yaml":      cm("app", "1"),
		"pre-cm.yaml":   hook("ConfigMap", "pre-cm", "pre-install", "-5", ""),
		"pre-job.yaml":  hook("Job", "pre-job", "pre-install", "0", "hook-succeeded"),
		"post-cm.yaml":  hook("ConfigMap", "post-cm", "post-install,post-upgrade", "1", "hook-succeeded"),
		"kept.yaml":     hook("ConfigMap", "kept", "post-install", "2", "hook-failed"),
		"test-pod.yaml": hook("Pod", "smoke", "test", "", "before-hook-creation"),
		"del.yaml":      hook("ConfigMap", "del-hook", "pre-delete", "", ""),
	})
	rel, err := w.env.Install(ctx, c, nil, install("hooked"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"app": true, "pre-cm": true, "post-cm": false, "kept": true} {
		if got := w.configMapExists(name); got != want {
			t.Errorf("ConfigMap %s exists: %v, want %v", name, got, want)
		}
	}
	if _, err := w.cs.BatchV1().Jobs("default").Get(ctx, "pre-job", metav1.GetOptions{}); err == nil {
		t.Error("the hook-succeeded Job was not deleted")
	}
	ran := map[string]render.HookPhase{}
	for _, h := range rel.Hooks {
		ran[h.Name] = h.LastRun.Phase
	}
	for _, name := range []string{"pre-cm", "pre-job", "post-cm", "kept"} {
		if ran[name] != render.HookPhaseSucceeded {
			t.Errorf("hook %s: phase %q", name, ran[name])
		}
	}
	// pkg test runs the test Pod and records it.
	rel, err = w.env.Test(ctx, "default", "hooked", releaseTestOptions())
	if err != nil {
		t.Fatalf("test: %v", err)
	}
	stored, err := w.env.Storage.Get(ctx, "hooked", 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range stored.Hooks {
		if h.Name == "smoke" && h.LastRun.Phase != render.HookPhaseSucceeded {
			t.Errorf("test hook recorded as %q", h.LastRun.Phase)
		}
	}
	// Uninstall runs the pre-delete hook and removes the release.
	if _, err := w.env.Uninstall(ctx, "default", "hooked", uninstallOptions()); err != nil {
		t.Fatal(err)
	}
	if w.configMapExists("app") || !w.configMapExists("del-hook") {
		t.Error("uninstall: app should be gone and the pre-delete hook's ConfigMap left")
	}

	// A failing hook Job fails the install, naming the Job.
	bad := chartOf(t, "badhook", map[string]string{
		"app.yaml": cm("bad-app", "1"),
		"job.yaml": hook("Job", "bad-job", "pre-install", "", ""),
	})
	_, err = w.env.Install(ctx, bad, nil, install("badhook"))
	if err == nil || !strings.Contains(err.Error(), "failed pre-install") || !strings.Contains(err.Error(), "bad-job") {
		t.Fatalf("error %v, want the failed hook Job named", err)
	}
	if w.configMapExists("bad-app") {
		t.Error("resources were applied after a failed pre-install hook")
	}
	if h := w.history("badhook"); h != "1:failed" {
		t.Errorf("history %q", h)
	}
}

func releaseTestOptions() release.TestOptions { return release.TestOptions{Timeout: 10 * time.Second} }

func uninstallOptions() release.UninstallOptions {
	return release.UninstallOptions{Timeout: 10 * time.Second}
}

// TestTestLogs prints the test Pods' logs, by weight, as helm test --logs.
func TestTestLogs(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts an API server")
	}
	tc := testcluster.StartWith(t, func(c *apiserver.Config) {
		c.PodLogs = func(_ context.Context, pod *corev1.Pod, _ corev1.PodLogOptions) (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader("log of " + pod.Name)), nil
		}
	})
	cs, err := kubernetes.NewForConfig(tc.Config)
	if err != nil {
		t.Fatal(err)
	}
	target, err := kube.New(tc.Config, kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	for _, name := range []string{"second", "first"} {
		if _, err := cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "x"}}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	rel := &release.Release{Name: "r", Namespace: "default", Hooks: []*render.Hook{
		{Name: "second", Kind: "Pod", Weight: 2, Events: []render.HookEvent{render.HookTest}},
		{Name: "first", Kind: "Pod", Weight: 1, Events: []render.HookEvent{render.HookTest}},
		{Name: "pre", Kind: "Pod", Events: []render.HookEvent{render.HookPreInstall}},
	}}
	var out strings.Builder
	env := &release.Env{Target: target}
	if err := env.TestLogs(ctx, rel, release.TestOptions{}, &out); err != nil {
		t.Fatal(err)
	}
	if want := "POD LOGS: first\nlog of first\nPOD LOGS: second\nlog of second\n"; out.String() != want {
		t.Errorf("logs:\n%q\nwant\n%q", out.String(), want)
	}
}
