package apiserver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// kubectlDir writes a kubeconfig for ts into a fresh directory and returns
// it; the test is skipped (or failed under PKG_REQUIRE_KUBECTL=1) when
// kubectl is missing.
func kubectlDir(t *testing.T, ts *testServer) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the real kubectl; skipped with -short")
	}
	if _, err := os.Stat(kubectlPath); err != nil {
		if os.Getenv("PKG_REQUIRE_KUBECTL") == "1" {
			t.Fatalf("kubectl not found at %s (PKG_REQUIRE_KUBECTL=1; .ci/run installs it): %v", kubectlPath, err)
		}
		t.Skipf("kubectl not found at %s: %v", kubectlPath, err)
	}
	dir := t.TempDir()
	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: pkg
  cluster:
    server: %s
contexts:
- name: pkg
  context:
    cluster: pkg
    namespace: default
current-context: pkg
`, ts.http.URL)
	if err := os.WriteFile(filepath.Join(dir, "kubeconfig"), []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestKubectlEditing drives the kubectl verbs that change or describe
// objects in place: label, annotate, the three patch types, describe,
// create namespace and api-versions.
func TestKubectlEditing(t *testing.T) {
	ts := newTestServer(t)
	dir := kubectlDir(t, ts)
	// record stores an Event about the ConfigMap, for describe to show.
	record := func() {
		ctx := context.Background()
		cm, err := ts.client.CoreV1().ConfigMaps("default").Get(ctx, "demo-config", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ev := &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: "demo-config.1", Namespace: "default"},
			InvolvedObject: corev1.ObjectReference{Kind: "ConfigMap", Namespace: "default", Name: "demo-config", UID: cm.UID, APIVersion: "v1"},
			Reason:         "Tested", Message: "an event for describe", Type: corev1.EventTypeNormal, Count: 1,
			Source: corev1.EventSource{Component: "pkg-test"},
		}
		if _, err := ts.client.CoreV1().Events("default").Create(ctx, ev, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name   string
		before func()
		args   []string
		want   []string // substrings of the output, in any order
		fail   bool     // kubectl is expected to fail
	}{
		{"apply", nil, []string{"apply", "-f", "testdata/app.yaml"}, []string{"configmap/demo-config created", "deployment.apps/demo created"}, false},
		{"api-versions", nil, []string{"api-versions"}, []string{"v1\n", "apps/v1", "coordination.k8s.io/v1", "rbac.authorization.k8s.io/v1"}, false},
		{"create namespace", nil, []string{"create", "namespace", "team-a"}, []string{"namespace/team-a created"}, false},
		{"create namespace twice", nil, []string{"create", "namespace", "team-a"}, []string{`namespaces "team-a" already exists`}, true},
		{"get namespace", nil, []string{"get", "ns", "team-a", "-o", "jsonpath={.status.phase}"}, []string{"Active"}, false},
		{"label", nil, []string{"label", "cm", "demo-config", "tier=backend"}, []string{"configmap/demo-config labeled"}, false},
		{"label conflict", nil, []string{"label", "cm", "demo-config", "tier=frontend"}, []string{"already has a value"}, true},
		{"label overwrite", nil, []string{"label", "--overwrite", "cm", "demo-config", "tier=frontend"}, []string{"configmap/demo-config labeled"}, false},
		{"label remove", nil, []string{"label", "deploy", "demo", "app-"}, []string{"deployment.apps/demo unlabeled"}, false},
		{"get -l after label", nil, []string{"get", "cm", "-l", "tier=frontend", "-o", "name"}, []string{"configmap/demo-config"}, false},
		{"annotate", nil, []string{"annotate", "deploy", "demo", "owner=team-a"}, []string{"deployment.apps/demo annotated"}, false},
		{"annotate shows", nil, []string{"get", "deploy", "demo", "-o", "jsonpath={.metadata.annotations.owner}"}, []string{"team-a"}, false},
		{"patch merge", nil, []string{"patch", "cm", "demo-config", "--type=merge", "-p", `{"data":{"extra":"1"}}`}, []string{"configmap/demo-config patched"}, false},
		{"patch json", nil, []string{"patch", "cm", "demo-config", "--type=json", "-p", `[{"op":"replace","path":"/data/greeting","value":"salut"}]`}, []string{"configmap/demo-config patched"}, false},
		{"patch json bad path", nil, []string{"patch", "cm", "demo-config", "--type=json", "-p", `[{"op":"replace","path":"/data/missing/x","value":"1"}]`}, nil, true},
		{"patch strategic", nil, []string{"patch", "deploy", "demo", "--type=strategic", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}}`}, []string{"deployment.apps/demo patched"}, false},
		{"strategic kept the port", nil, []string{"get", "deploy", "demo", "-o", "jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort}"}, []string{"nginx:1.28 80"}, false},
		{"patched data", nil, []string{"get", "cm", "demo-config", "-o", "jsonpath={.data.greeting} {.data.extra}"}, []string{"salut 1"}, false},
		{"patch no-op", nil, []string{"patch", "cm", "demo-config", "--type=merge", "-p", `{"data":{"extra":"1"}}`}, []string{"configmap/demo-config patched (no change)"}, false},
		{"describe deployment", nil, []string{"describe", "deploy", "demo"}, []string{"Name:", "demo", "Namespace:", "default", "Replicas:", "nginx:1.28", "owner: team-a"}, false},
		{"describe configmap", record, []string{"describe", "cm", "demo-config"}, []string{"Name:", "demo-config", "tier=frontend", "greeting", "salut", "Events:", "Tested", "an event for describe", "pkg-test"}, false},
		{"describe namespace", nil, []string{"describe", "ns", "team-a"}, []string{"Name:", "team-a", "Status:", "Active"}, false},
		{"describe service", nil, []string{"describe", "svc", "demo"}, []string{"Name:", "demo", "Type:", "ClusterIP"}, false},
		{"get wide svc", nil, []string{"get", "svc", "-o", "wide"}, []string{"SELECTOR", "app=demo"}, false},
		{"delete namespace", nil, []string{"delete", "ns", "team-a"}, []string{`namespace "team-a" deleted`}, false},
	}
	for _, st := range steps {
		if st.before != nil {
			st.before()
		}
		out, err := ts.kubectl(t, dir, st.args...)
		if (err != nil) != st.fail {
			t.Fatalf("%s: kubectl %s: %v\n%s", st.name, strings.Join(st.args, " "), err, out)
		}
		for _, w := range st.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", st.name, w, out)
			}
		}
		if !st.fail && strings.Contains(out, "rror") {
			t.Errorf("%s: output reports an error:\n%s", st.name, out)
		}
	}
}

// TestKubectlWatch runs `kubectl get -w`, makes changes while it runs and
// reads the lines it prints for them.
func TestKubectlWatch(t *testing.T) {
	ts := newTestServer(t)
	dir := kubectlDir(t, ts)
	if out, err := ts.kubectl(t, dir, "create", "configmap", "w1", "--from-literal=a=1"); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectlPath, "--kubeconfig", filepath.Join(dir, "kubeconfig"), "--cache-dir", filepath.Join(dir, "cache"),
		"get", "cm", "-w", "--output-watch-events")
	cmd.Env = []string{"HOME=" + dir, "PATH=/usr/bin:/bin"}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = pw.Close()
	}()
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// expect waits for a line holding all of want, failing on timeout.
	expect := func(want ...string) {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("kubectl get -w ended before printing %q", want)
				}
				hit := true
				for _, w := range want {
					hit = hit && strings.Contains(l, w)
				}
				if hit {
					return
				}
			case <-timeout:
				t.Fatalf("no line with %q within 20s", want)
			}
		}
	}
	expect("ADDED", "w1")
	changes := []struct {
		args []string
		want []string
	}{
		{[]string{"create", "configmap", "w2", "--from-literal=a=1", "--from-literal=b=2"}, []string{"ADDED", "w2", "2"}},
		{[]string{"label", "cm", "w1", "x=y"}, []string{"MODIFIED", "w1"}},
		{[]string{"delete", "cm", "w2"}, []string{"DELETED", "w2"}},
	}
	for _, c := range changes {
		if out, err := ts.kubectl(t, dir, c.args...); err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(c.args, " "), err, out)
		}
		expect(c.want...)
	}
}
