package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testbuild"
	"pkg.dev/pkg/internal/testcluster"
	"pkg.dev/pkg/orchestrator/runtime"
)

// testappImages serves every image as a root filesystem holding the
// static test program at /testapp, its entrypoint: it stands in for the
// image store, whose own tests pull and unpack real images.
type testappImages struct{}

func (testappImages) Prepare(_ context.Context, ref string, _ corev1.PullPolicy, _ [][]byte, dir string) (ImageConfig, error) {
	if ref == "missing:latest" {
		return ImageConfig{}, errors.New("manifest unknown")
	}
	appPath, err := testbuild.Program("testdata/testapp")
	if err != nil {
		return ImageConfig{}, err
	}
	bin, err := os.ReadFile(appPath)
	if err != nil {
		return ImageConfig{}, err
	}
	for _, d := range []string{"etc", "tmp", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return ImageConfig{}, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "testapp"), bin, 0o755); err != nil {
		return ImageConfig{}, err
	}
	return ImageConfig{Entrypoint: []string{"/testapp"}, Env: []string{"FROM_IMAGE=yes"}}, nil
}

// testNetwork is a cluster network of the tests' own.
var testNetwork = &Network{NS: "pkg-test-net", Bridge: "pkgt0", CIDR: "10.250.0.0/16"}

type runnerEnv struct {
	cs  kubernetes.Interface
	dir string
	// kubeconfig points the real kubectl at the test's API server.
	kubeconfig string
}

func newRunnerEnv(t *testing.T) (*runnerEnv, context.Context) {
	t.Helper()
	return newRunnerEnvWith(t, nil)
}

// newRunnerEnvWith is newRunnerEnv with a hook that adjusts the runner
// before it runs.
func newRunnerEnvWith(t *testing.T, configure func(*PodRunner)) (*runnerEnv, context.Context) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs containers with runc")
	}
	dir := t.TempDir()
	drv, err := runtime.NewRuncDriver(filepath.Join(dir, "runc"), "", nil)
	if err != nil {
		if os.Getenv("PKG_REQUIRE_RUNC") == "1" {
			t.Fatalf("runc is required here: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	tc := testcluster.Start(t)
	cs, err := kubernetes.NewForConfig(tc.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	r := &PodRunner{
		Node: "n1", Client: cs, Runtime: drv, Images: testappImages{}, Dir: dir,
		Network:     testNetwork,
		BackoffBase: 200 * time.Millisecond,
	}
	if configure != nil {
		configure(r)
	}
	done := make(chan struct{})
	rctx, stop := context.WithCancel(ctx)
	go func() { _ = r.Run(rctx); close(done) }()
	t.Cleanup(func() {
		// Pods left running are removed at once (as a forced delete), so
		// that a failed test does not wait out their grace periods.
		zero := int64(0)
		_ = cs.CoreV1().Pods("").DeleteCollection(context.Background(), metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})
		time.Sleep(100 * time.Millisecond)
		stop()
		select {
		case <-done:
		case <-time.After(45 * time.Second):
			// A Pod worker that never ends (a container nobody stops)
			// fails the test instead of hanging the whole run.
			t.Error("the pod runner did not stop within 45 s of its context ending")
		}
		// The test's cluster network goes too: nothing is left on the host.
		_ = exec.Command("ip", "netns", "del", testNetwork.ns()).Run()
		testNetwork.mu.Lock()
		testNetwork.ready = false
		testNetwork.mu.Unlock()
	})
	return &runnerEnv{cs: cs, dir: dir, kubeconfig: tc.Kubeconfig}, ctx
}

func (e *runnerEnv) pod(t *testing.T, ctx context.Context, name string) *corev1.Pod {
	t.Helper()
	p, err := e.cs.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func waitPod(t *testing.T, ctx context.Context, e *runnerEnv, name, what string, ok func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var last *corev1.Pod // the last one read: the one to show on a timeout
	for {
		p, err := e.cs.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			last = p
			if ok(p) {
				t.Logf("%s: %s", time.Now().Format("15:04:05.000"), what)
				return p
			}
		}
		if ctx.Err() != nil {
			if last == nil {
				t.Fatalf("timed out waiting for %s: the Pod was never read: %v", what, err)
			}
			t.Fatalf("timed out waiting for %s: %+v", what, last.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// TestPodRunsServesAndIsDeleted: a Pod bound to the node runs from its
// image with its environment (a ConfigMap key, $(VAR) expansion, the
// downward API), gets an address on the Pod network, turns Ready when its
// HTTP readiness probe passes, serves on its address, writes its logs,
// and leaves nothing behind when deleted.
func TestPodRunsServesAndIsDeleted(t *testing.T) {
	e, ctx := newRunnerEnv(t)
	if _, err := e.cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "cfg"}, Data: map[string]string{"greeting": "bonjour"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.PodSpec{
			NodeName: "n1",
			Containers: []corev1.Container{{
				Name: "web", Image: "testapp:1",
				Args:  []string{"-listen", ":$(PORT)"},
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
				Env: []corev1.EnvVar{
					{Name: "PORT", Value: "8080"},
					{Name: "GREETING", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "greeting"}}},
					{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}},
					PeriodSeconds: 1,
				},
			}},
		},
	}
	if _, err := e.cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p := waitPod(t, ctx, e, "web", "web Running and Ready", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodRunning && ready(p) && p.Status.PodIP != ""
	})
	if !strings.HasPrefix(p.Status.PodIP, "10.250.") {
		t.Errorf("pod IP %s not on the pod network", p.Status.PodIP)
	}
	// The Pod network lives in the cluster network's namespace: the host
	// has no address or route for it.
	if out, err := exec.Command("ip", "route", "show").CombinedOutput(); err != nil || strings.Contains(string(out), "10.250.") {
		t.Errorf("the host's routes mention the pod network: %v\n%s", err, out)
	}
	client := &http.Client{Transport: &http.Transport{DialContext: testNetwork.DialContext}}
	resp, err := client.Get(fmt.Sprintf("http://%s:8080/", p.Status.PodIP))
	if err != nil {
		t.Fatalf("the pod does not serve on its address: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello from web\n" {
		t.Errorf("GET / = %q", body)
	}
	logs, err := os.ReadFile(LogPath(e.dir, p.UID, "web", 0))
	if err != nil || !strings.Contains(string(logs), " stdout F listening on :8080") {
		t.Errorf("log file: %v\n%s", err, logs)
	}
	if err := e.cs.CoreV1().Pods("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	ns := "/var/run/netns/" + NSName(string(p.UID))
	for {
		_, nsErr := os.Stat(ns)
		_, dirErr := os.Stat(filepath.Join(e.dir, "pods", string(p.UID)))
		if os.IsNotExist(nsErr) && os.IsNotExist(dirErr) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("after deletion the netns (%v) or pod dir (%v) remain", nsErr, dirErr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPodRestartsAndReportsErrors: a crashing container is restarted with
// back-off (CrashLoopBackOff, the restart count, the last state); a
// missing ConfigMap key and a missing image are reported on the
// container; a Pod that succeeds with restartPolicy Never ends Succeeded.
func TestPodRestartsAndReportsErrors(t *testing.T) {
	e, ctx := newRunnerEnv(t)
	mk := func(name string, policy corev1.RestartPolicy, c corev1.Container) {
		t.Helper()
		c.Name = "c"
		if c.Image == "" {
			c.Image = "testapp:1"
		}
		_, err := e.cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec:       corev1.PodSpec{NodeName: "n1", RestartPolicy: policy, Containers: []corev1.Container{c}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	mk("crash", corev1.RestartPolicyAlways, corev1.Container{Args: []string{"-exit", "3"}})
	mk("nokey", corev1.RestartPolicyAlways, corev1.Container{Args: []string{"-sleep", "1h"}, Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{
		ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "nothere"}, Key: "k"}}}}})
	mk("noimage", corev1.RestartPolicyAlways, corev1.Container{Image: "missing:latest"})
	mk("once", corev1.RestartPolicyNever, corev1.Container{Args: []string{"-exit", "0"}})

	waitPod(t, ctx, e, "crash", "crash restarted with back-off", func(p *corev1.Pod) bool {
		if len(p.Status.ContainerStatuses) == 0 {
			return false
		}
		cs := p.Status.ContainerStatuses[0]
		return cs.RestartCount >= 2 && cs.LastTerminationState.Terminated != nil && cs.LastTerminationState.Terminated.ExitCode == 3 &&
			cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff"
	})
	waitPod(t, ctx, e, "nokey", "CreateContainerConfigError", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
			p.Status.ContainerStatuses[0].State.Waiting.Reason == "CreateContainerConfigError" &&
			p.Status.ContainerStatuses[0].State.Waiting.Message == `configmap "nothere" not found`
	})
	waitPod(t, ctx, e, "noimage", "ErrImagePull, then ImagePullBackOff", func(p *corev1.Pod) bool {
		if len(p.Status.ContainerStatuses) != 1 || p.Status.ContainerStatuses[0].State.Waiting == nil {
			return false
		}
		w := p.Status.ContainerStatuses[0].State.Waiting
		return (w.Reason == "ErrImagePull" && strings.Contains(w.Message, "manifest unknown")) ||
			(w.Reason == "ImagePullBackOff" && w.Message == `Back-off pulling image "missing:latest"`)
	})
	waitPod(t, ctx, e, "once", "Succeeded", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodSucceeded && len(p.Status.ContainerStatuses) == 1 &&
			p.Status.ContainerStatuses[0].State.Terminated != nil && p.Status.ContainerStatuses[0].State.Terminated.Reason == "Completed"
	})
}
