package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBuiltinRuntimeThroughKubectl runs Pods on nodes whose runtime is
// the built-in launcher (`pkg cluster up --runtime builtin`): the real
// pkg binary re-executes itself as each container's init. The nodes say
// which runtime they use, Pods run and serve, containers of a Pod share
// localhost, kubectl exec and logs work, a command not in the image is
// reported, and deleted Pods leave no container behind.
func TestBuiltinRuntimeThroughKubectl(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Pods on the bundled orchestrator; skipped with -short")
	}
	kubectlPath, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("PKG_REQUIRE_KUBECTL") == "1" {
			t.Fatalf("kubectl not found (PKG_REQUIRE_KUBECTL=1; .ci/run installs it): %v", err)
		}
		t.Skipf("kubectl not found: %v", err)
	}
	if os.Geteuid() != 0 {
		if os.Getenv("PKG_REQUIRE_RUNC") == "1" {
			t.Fatal("root is required here (PKG_REQUIRE_RUNC=1)")
		}
		t.Skip("the Pod network and cgroups need root")
	}
	t.Parallel()
	sb := newClusterSandbox(t)
	archive := filepath.Join(t.TempDir(), "testapp.tar")
	build := exec.Command("go", "run", "./internal/testimage", "-o", archive)
	build.Dir = moduleRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the test image: %v\n%s", err, out)
	}
	load := exec.Command(sb.bin, "image", "load", archive, "--data-dir", sb.data)
	load.Env = sb.env()
	if out, err := load.CombinedOutput(); err != nil {
		t.Fatalf("pkg image load: %v\n%s", err, out)
	}
	if out, errOut, err := sb.pkg(t, "up", "--port", strconv.Itoa(sb.port), "--runtime", "builtin"); err != nil {
		t.Fatalf("pkg cluster up --runtime builtin: %v\n%s%s", err, out, errOut)
	}
	t.Cleanup(func() { _, _, _ = sb.pkg(t, "down") })
	kubectl := func(args ...string) (string, error) {
		cmd := exec.Command(kubectlPath, args...)
		cmd.Env = append(sb.env(), "KUBECONFIG="+sb.kubeconfig)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	eventually(t, kubectl, "the node Ready on the builtin runtime", 30*time.Second, func(out string) bool {
		return strings.Contains(out, " Ready ") && strings.Contains(out, " builtin")
	}, "get", "nodes", "-o", "wide", "--no-headers")
	logText, _ := os.ReadFile(filepath.Join(sb.data, "serve.log"))
	if !strings.Contains(string(logText), `msg="container runtime" component=node-agent node=pkg-node-1 driver=builtin reason="configured (runtime: builtin)"`) {
		t.Errorf("the log does not say which runtime the node chose and why:\n%s", logText)
	}

	manifest := `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: web
    image: pkg.dev/testapp:latest
    imagePullPolicy: IfNotPresent
    args: ["-listen", ":8080"]
    readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
    resources: {limits: {memory: 64Mi, cpu: 500m}}
  - name: side
    image: pkg.dev/testapp:latest
    imagePullPolicy: IfNotPresent
    args: ["-sleep", "1h"]
---
apiVersion: v1
kind: Pod
metadata: {name: nocmd}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: pkg.dev/testapp:latest
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh", "-c", "true"]
`
	apply := exec.Command(kubectlPath, "apply", "-f", "-")
	apply.Env = append(sb.env(), "KUBECONFIG="+sb.kubeconfig)
	apply.Stdin = strings.NewReader(manifest)
	if out, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	eventually(t, kubectl, "web Ready", 60*time.Second, func(out string) bool { return strings.TrimSpace(out) == "True" },
		"get", "pod", "web", "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}")
	ids, _ := kubectl("get", "pod", "web", "-o", "jsonpath={.status.containerStatuses[*].containerID}")
	if strings.Count(ids, "builtin://") != 2 {
		t.Errorf("container ids %q, want two builtin://", ids)
	}
	if out, err := sb.execOut(kubectlPath, "web", "-c", "side", "--", "/testapp", "-get", "http://localhost:8080/"); err != nil || out != "hello from web\n" {
		t.Errorf("kubectl exec in the sidecar, GET of localhost:8080: %v\n%s", err, out)
	}
	if out, err := kubectl("exec", "web", "-c", "web", "--", "/testapp", "-report"); err != nil || !strings.Contains(out, "hostname=web\n") || !strings.Contains(out, "uid=0\n") {
		t.Errorf("kubectl exec -report: %v\n%s", err, out)
	}
	if out, err := kubectl("logs", "web", "-c", "web"); err != nil || !strings.Contains(out, "listening on :8080") {
		t.Errorf("kubectl logs: %v\n%s", err, out)
	}
	eventually(t, kubectl, "nocmd StartError", 30*time.Second, func(out string) bool {
		return strings.HasPrefix(out, "StartError 128 ") && strings.Contains(out, `"/bin/sh"`) && strings.Contains(out, "no such file")
	}, "get", "pod", "nocmd", "-o", "jsonpath={.status.containerStatuses[0].state.terminated.reason} {.status.containerStatuses[0].state.terminated.exitCode} {.status.containerStatuses[0].state.terminated.message}")

	if out, err := kubectl("delete", "pod", "web", "nocmd", "--grace-period=1"); err != nil {
		t.Fatalf("kubectl delete: %v\n%s", err, out)
	}
	containers := filepath.Join(sb.data, "nodes", "pkg-node-1", "builtin", "containers")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		left, err := os.ReadDir(containers)
		if err == nil && len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("containers left after deletion: %v, %v", left, err)
		}
	}
}
