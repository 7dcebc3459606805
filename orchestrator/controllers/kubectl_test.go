package controllers

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testcluster"
)

// kubectlCluster serves an API server with every controller and a
// kubelet stand-in that readies Pods, and returns a function that runs
// the real kubectl against it. The test is skipped (or failed under
// PKG_REQUIRE_KUBECTL=1) when kubectl is missing.
func kubectlCluster(t *testing.T) (kubernetes.Interface, func(args ...string) (string, error)) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the real kubectl; skipped with -short")
	}
	path, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("PKG_REQUIRE_KUBECTL") == "1" {
			t.Fatalf("kubectl not found (PKG_REQUIRE_KUBECTL=1; .ci/run installs it): %v", err)
		}
		t.Skipf("kubectl not found: %v", err)
	}
	tc := testcluster.Start(t)
	client := kubernetes.NewForConfigOrDie(tc.Config)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, tc.Config, Options{}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	k := newKubelet(client, "default")
	k.auto(t, 20*time.Millisecond)
	home := t.TempDir()
	return client, func(args ...string) (string, error) {
		cmd := exec.Command(path, append([]string{"--kubeconfig", tc.Kubeconfig}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+home)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
}

const kubectlDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: web:1
`

const kubectlStatefulSet = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  replicas: 2
  serviceName: db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: db
        image: db:1
`

func TestKubectlRollout(t *testing.T) {
	t.Parallel()
	client, kubectl := kubectlCluster(t)
	must := func(want string, args ...string) string {
		t.Helper()
		out, err := kubectl(args...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("kubectl %s: %v\n%s(want %q)", strings.Join(args, " "), err, out, want)
		}
		return out
	}
	manifest := t.TempDir() + "/web.yaml"
	if err := os.WriteFile(manifest, []byte(kubectlDeployment+"---\n"+kubectlStatefulSet), 0o600); err != nil {
		t.Fatal(err)
	}
	must("deployment.apps/web created", "apply", "-f", manifest)
	must(`deployment "web" successfully rolled out`, "rollout", "status", "deployment/web", "--timeout=30s")
	must("partitioned roll out complete: 2 new pods have been updated", "rollout", "status", "statefulset/db", "--timeout=30s")

	must("deployment.apps/web image updated", "set", "image", "deployment/web", "app=web:2")
	must(`deployment "web" successfully rolled out`, "rollout", "status", "deployment/web", "--timeout=30s")
	hist := must("REVISION", "rollout", "history", "deployment/web")
	if !strings.Contains(hist, "\n1 ") || !strings.Contains(hist, "\n2 ") {
		t.Errorf("rollout history:\n%s", hist)
	}
	first := ""
	for _, rs := range listRS(t, client, "default") {
		if rs.Annotations[RevisionAnnotation] == "1" {
			first = rs.Name
		}
	}
	must("deployment.apps/web rolled back", "rollout", "undo", "deployment/web")
	must(`deployment "web" successfully rolled out`, "rollout", "status", "deployment/web", "--timeout=30s")
	rs := getRS(t, client, "default", first)
	if rs.Annotations[RevisionAnnotation] != "3" || *rs.Spec.Replicas != 3 {
		t.Errorf("after undo, %s has revision %q and %d replicas", first, rs.Annotations[RevisionAnnotation], *rs.Spec.Replicas)
	}

	must("deployment.apps/web restarted", "rollout", "restart", "deployment/web")
	must(`deployment "web" successfully rolled out`, "rollout", "status", "deployment/web", "--timeout=30s")
	if n := len(listRS(t, client, "default")); n != 3 {
		t.Errorf("%d replicasets after restart, want 3", n)
	}
	must("deployment.apps/web paused", "rollout", "pause", "deployment/web")
	must("deployment.apps/web resumed", "rollout", "resume", "deployment/web")
	must(`deployment "web" successfully rolled out`, "rollout", "status", "deployment/web", "--timeout=30s")

	out := must("web", "get", "deployment", "web")
	if !strings.Contains(out, "3/3") {
		t.Errorf("kubectl get deployment:\n%s", out)
	}

	must("statefulset.apps/db image updated", "set", "image", "statefulset/db", "db=db:2")
	must("partitioned roll out complete: 2 new pods have been updated", "rollout", "status", "statefulset/db", "--timeout=30s")
	must("statefulset.apps/db rolled back", "rollout", "undo", "statefulset/db")
	must("partitioned roll out complete: 2 new pods have been updated", "rollout", "status", "statefulset/db", "--timeout=30s")
	p, err := client.CoreV1().Pods("default").Get(context.Background(), "db-0", metav1.GetOptions{})
	if err != nil || p.Spec.Containers[0].Image != "db:1" {
		t.Errorf("db-0 after undo: %v %v", err, p)
	}
}
