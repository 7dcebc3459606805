package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"pkg.dev/pkg/orchestrator/cluster"
)

// podsCluster starts `pkg cluster up --nodes 2` from the real binary, with
// the test image (testdata/testapp, built by internal/testimage) loaded
// into its image store, and returns a function running the real kubectl
// against it. It needs root and runc (the node agents run containers)
// and kubectl; it skips without them, or fails under PKG_REQUIRE_RUNC=1 /
// PKG_REQUIRE_KUBECTL=1.
func podsCluster(t *testing.T) func(args ...string) (string, error) {
	t.Helper()
	_, kubectl := podsSandbox(t)
	return kubectl
}

// podsSandbox is podsCluster that also returns the cluster's sandbox
// (its binary, data dir and kubeconfig), for tests that run pkg itself
// against the cluster.
func podsSandbox(t *testing.T) (clusterSandbox, func(args ...string) (string, error)) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs Pods on the bundled orchestrator; skipped with -short")
	}
	kubectl, err := exec.LookPath("kubectl")
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
		t.Skip("the node agents run containers with runc, which needs root")
	}
	if _, err := exec.LookPath("runc"); err != nil {
		if os.Getenv("PKG_REQUIRE_RUNC") == "1" {
			t.Fatalf("runc not found (PKG_REQUIRE_RUNC=1; .ci/run installs it): %v", err)
		}
		t.Skipf("runc not found: %v", err)
	}
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
	if out, errOut, err := sb.pkg(t, "up", "--port", strconv.Itoa(sb.port), "--nodes", "2"); err != nil {
		t.Fatalf("pkg cluster up: %v\n%s%s", err, out, errOut)
	}
	t.Cleanup(func() {
		// A failure here is a cluster's failure: the server's own account
		// of its last moments says what its components did.
		if t.Failed() {
			if log, err := os.ReadFile(cluster.Paths{Dir: sb.data}.Log()); err == nil {
				lines := strings.Split(strings.TrimSpace(string(log)), "\n")
				t.Logf("the last %d lines of the server's log:\n%s", min(len(lines), 200), strings.Join(lines[max(0, len(lines)-200):], "\n"))
			}
		}
		_, _, _ = sb.pkg(t, "down")
	})
	run := func(args ...string) (string, error) {
		cmd := exec.Command(kubectl, args...)
		cmd.Env = append(sb.env(), "KUBECONFIG="+sb.kubeconfig)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := run("get", "nodes", "--no-headers")
		if strings.Count(out, " Ready ") == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the two nodes never became Ready:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return sb, run
}

// eventually polls kubectl until check accepts its output.
func eventually(t *testing.T, kubectl func(...string) (string, error), what string, timeout time.Duration, check func(string) bool, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var out string
	for {
		out, _ = kubectl(args...)
		if check(out) {
			return out
		}
		if time.Now().After(deadline) {
			desc, _ := kubectl("describe", "pods")
			t.Fatalf("%s: kubectl %s gave:\n%s\n\nkubectl describe pods:\n%s", what, strings.Join(args, " "), out, desc)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestPodLifecycleThroughKubectl drives issue 5's Pod behaviours with the
// real kubectl against the real binary's cluster: environment and
// volumes as the container sees them, logs with their options, crash
// loops with the previous container's logs, OOM kills, a missing
// ConfigMap key, an image that does not exist, liveness and readiness
// probes, Events in describe, and deletion.
func TestPodLifecycleThroughKubectl(t *testing.T) {
	kubectl := podsCluster(t)
	manifest := `apiVersion: v1
kind: ConfigMap
metadata: {name: conf}
data: {greeting: hello, file.txt: from-configmap}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: s3cret}
---
apiVersion: v1
kind: Pod
metadata: {name: report, labels: {app: report}}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: pkg.dev/testapp:latest
    imagePullPolicy: IfNotPresent
    args: ["-report"]
    workingDir: /tmp
    env:
    - {name: GREETING, valueFrom: {configMapKeyRef: {name: conf, key: greeting}}}
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: creds, key: password}}}
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
    - {name: COMBINED, value: "$(GREETING)-$(POD_NAME)"}
    volumeMounts:
    - {name: conf, mountPath: /etc/conf}
    - {name: scratch, mountPath: /scratch}
  volumes:
  - {name: conf, configMap: {name: conf}}
  - {name: scratch, emptyDir: {}}
---
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  restartPolicy: Always
  containers:
  - {name: main, image: pkg.dev/testapp:latest, imagePullPolicy: IfNotPresent, args: ["-exit", "3"]}
---
apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: pkg.dev/testapp:latest
    imagePullPolicy: IfNotPresent
    args: ["-eat-mib", "200"]
    resources: {limits: {memory: 64Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: nokey}
spec:
  containers:
  - name: main
    image: pkg.dev/testapp:latest
    imagePullPolicy: IfNotPresent
    args: ["-sleep", "1h"]
    env:
    - {name: X, valueFrom: {configMapKeyRef: {name: conf, key: missing}}}
---
apiVersion: v1
kind: Pod
metadata: {name: noimage}
spec:
  containers:
  - {name: main, image: "127.0.0.1:1/nothing/here:v1", args: ["-sleep", "1h"]}
---
apiVersion: v1
kind: Pod
metadata: {name: probes}
spec:
  containers:
  - name: web
    image: pkg.dev/testapp:latest
    imagePullPolicy: IfNotPresent
    args: ["-listen", ":8080", "-unhealthy"]
    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
    livenessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1, failureThreshold: 2}
`
	path := filepath.Join(t.TempDir(), "pods.yaml")
	if err := os.WriteFile(path, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := kubectl("apply", "-f", path); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}

	t.Run("env and volumes", func(t *testing.T) {
		eventually(t, kubectl, "report completes", 60*time.Second, func(s string) bool { return s == "Succeeded" },
			"get", "pod", "report", "-o", "jsonpath={.status.phase}")
		logs, err := kubectl("logs", "report")
		if err != nil {
			t.Fatal(logs)
		}
		node, _ := kubectl("get", "pod", "report", "-o", "jsonpath={.spec.nodeName}")
		for _, want := range []string{
			"hostname=report", "cwd=/tmp",
			"env GREETING=hello", "env PASSWORD=s3cret", "env POD_NAME=report", "env NODE=" + node,
			"env COMBINED=hello-report", "env KUBERNETES_SERVICE_HOST=",
			"mount /etc/conf ", "mount /scratch ",
		} {
			if !strings.Contains(logs, want) {
				t.Errorf("the container did not see %q; kubectl logs:\n%s", want, logs)
			}
		}
		if tail, _ := kubectl("logs", "report", "--tail", "1"); strings.Count(tail, "\n") != 1 {
			t.Errorf("logs --tail 1 gave %q", tail)
		}
		if ts, _ := kubectl("logs", "report", "--timestamps", "--tail", "1"); !strings.Contains(ts, "T") || !strings.Contains(ts, "Z ") {
			t.Errorf("logs --timestamps gave %q", ts)
		}
		if c, _ := kubectl("logs", "report", "-c", "main", "--tail", "1"); c == "" {
			t.Error("logs -c main gave nothing")
		}
	})

	t.Run("crash loop", func(t *testing.T) {
		eventually(t, kubectl, "crash backs off", 90*time.Second, func(s string) bool {
			return strings.HasPrefix(s, "CrashLoopBackOff 3 Error")
		}, "get", "pod", "crash", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason} {.status.containerStatuses[0].lastState.terminated.exitCode} {.status.containerStatuses[0].lastState.terminated.reason}")
		if prev, err := kubectl("logs", "crash", "--previous"); err != nil || !strings.Contains(prev, "exiting with 3") {
			t.Errorf("logs --previous: %v %q", err, prev)
		}
		if get, _ := kubectl("get", "pod", "crash", "--no-headers"); !strings.Contains(get, "CrashLoopBackOff") {
			t.Errorf("kubectl get shows %q", get)
		}
	})

	t.Run("oom killed", func(t *testing.T) {
		eventually(t, kubectl, "hog is OOM-killed", 60*time.Second, func(s string) bool { return s == "OOMKilled 137" },
			"get", "pod", "hog", "-o", "jsonpath={.status.containerStatuses[0].state.terminated.reason} {.status.containerStatuses[0].state.terminated.exitCode}")
	})

	t.Run("missing configmap key", func(t *testing.T) {
		eventually(t, kubectl, "nokey reports the missing key", 60*time.Second, func(s string) bool {
			return strings.HasPrefix(s, "CreateContainerConfigError") && strings.Contains(s, "missing")
		}, "get", "pod", "nokey", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason} {.status.containerStatuses[0].state.waiting.message}")
	})

	t.Run("image that does not exist", func(t *testing.T) {
		eventually(t, kubectl, "noimage fails to pull", 60*time.Second, func(s string) bool {
			return s == "ErrImagePull" || s == "ImagePullBackOff"
		}, "get", "pod", "noimage", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}")
		eventually(t, kubectl, "the pull failure is an Event", 30*time.Second, func(s string) bool {
			return strings.Contains(s, "Failed") && strings.Contains(s, "127.0.0.1:1/nothing/here:v1")
		}, "describe", "pod", "noimage")
	})

	t.Run("probes", func(t *testing.T) {
		// Readiness passes on "/", liveness fails on /healthz: the
		// container is restarted again and again.
		eventually(t, kubectl, "liveness restarts the container", 60*time.Second, func(s string) bool {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			return err == nil && n >= 1
		}, "get", "pod", "probes", "-o", "jsonpath={.status.containerStatuses[0].restartCount}")
		eventually(t, kubectl, "the failed probe is an Event", 30*time.Second, func(s string) bool {
			return strings.Contains(s, "Liveness probe failed") && strings.Contains(s, "Unhealthy")
		}, "describe", "pod", "probes")
	})

	t.Run("the API from a Pod", func(t *testing.T) {
		// As any in-cluster client: https://kubernetes.default.svc, the
		// CA and token of the ServiceAccount mounted by the admission.
		// The default ServiceAccount may not list Pods until a binding
		// lets it.
		call := func(name string) string {
			t.Helper()
			if out, err := kubectl("run", name, "--image=pkg.dev/testapp:latest", "--image-pull-policy=IfNotPresent", "--restart=Never",
				"--", "-get", "https://kubernetes.default.svc/api/v1/namespaces/default/pods"); err != nil {
				t.Fatalf("kubectl run: %v\n%s", err, out)
			}
			eventually(t, kubectl, name+" completes", 60*time.Second, func(s string) bool { return s == "Succeeded" || s == "Failed" },
				"get", "pod", name, "-o", "jsonpath={.status.phase}")
			logs, _ := kubectl("logs", name)
			return logs
		}
		if logs := call("api-denied"); !strings.Contains(logs, `User \"system:serviceaccount:default:default\" cannot list resource \"pods\"`) {
			t.Errorf("without a binding the Pod's call should be forbidden; it printed:\n%s", logs)
		}
		if out, err := kubectl("create", "rolebinding", "default-view", "--clusterrole=view", "--serviceaccount=default:default"); err != nil {
			t.Fatalf("kubectl create rolebinding: %v\n%s", err, out)
		}
		if logs := call("api-allowed"); !strings.Contains(logs, `"kind":"PodList"`) || !strings.Contains(logs, `"name":"api-denied"`) {
			t.Errorf("with the view role the Pod should list Pods; it printed:\n%s", logs)
		}
	})

	t.Run("delete", func(t *testing.T) {
		uids, err := kubectl("get", "pod", "crash", "probes", "-o", "jsonpath={.items[*].metadata.uid}")
		if err != nil || len(strings.Fields(uids)) != 2 {
			t.Fatalf("kubectl get uids: %v %q", err, uids)
		}
		// The running container's root filesystem is an overlay of the
		// image, mounted under the Pod's directory.
		if mounts := mountsOf(t, strings.Fields(uids)); !strings.Contains(mounts, " overlay ") {
			t.Errorf("no overlay root filesystem mounted for the running Pods; their mounts:\n%s", mounts)
		}
		if out, err := kubectl("delete", "pod", "crash", "probes", "--wait=true", "--timeout=60s"); err != nil {
			t.Fatalf("kubectl delete: %v\n%s", err, out)
		}
		if out, _ := kubectl("get", "pod", "crash", "probes", "--ignore-not-found", "--no-headers"); strings.TrimSpace(out) != "" {
			t.Errorf("deleted Pods still listed: %q", out)
		}
		if mounts := mountsOf(t, strings.Fields(uids)); mounts != "" {
			t.Errorf("deleted Pods left mounts behind:\n%s", mounts)
		}
	})
}

// mountsOf returns the host's mount table lines that mention any of the
// Pod uids (their directories hold their containers' root filesystems).
func mountsOf(t *testing.T, uids []string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		for _, u := range uids {
			if strings.Contains(l, u) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
