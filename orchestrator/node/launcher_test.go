package node

import (
	"context"
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
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testbuild"
	"pkg.dev/pkg/internal/testcluster"
	"pkg.dev/pkg/orchestrator/runtime"
)

// TestMain lets this test binary be a container's init for the built-in
// runtime, which re-executes /proc/self/exe.
func TestMain(m *testing.M) {
	if code, isInit := runtime.RunLauncherInit(); isInit {
		os.Exit(code)
	}
	code := m.Run()
	testbuild.Cleanup()
	os.Exit(code)
}

// TestPodsRunOnTheBuiltinRuntime: the node agent runs Pods with the
// built-in launcher as it does with runc: a Pod on the Pod network whose
// containers share localhost, status with the runtime's container ids,
// OOMKilled, a command not in the image reported as the kubelet does,
// and nothing left once the Pods are deleted.
func TestPodsRunOnTheBuiltinRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("runs containers with the built-in launcher")
	}
	if os.Geteuid() != 0 {
		if os.Getenv("PKG_REQUIRE_RUNC") == "1" {
			t.Fatal("root is required here (PKG_REQUIRE_RUNC=1)")
		}
		t.Skipf("skipping: the Pod network and cgroups need root (running as uid %d)", os.Geteuid())
	}
	dir := t.TempDir()
	drv, err := runtime.NewLauncherDriver(filepath.Join(dir, "builtin"), nil)
	if err != nil {
		t.Fatal(err)
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
		Network: testNetwork, BackoffBase: 200 * time.Millisecond,
	}
	done := make(chan struct{})
	rctx, stop := context.WithCancel(ctx)
	go func() { _ = r.Run(rctx); close(done) }()
	t.Cleanup(func() {
		stop()
		<-done
		_ = exec.Command("ip", "netns", "del", testNetwork.ns()).Run()
		testNetwork.mu.Lock()
		testNetwork.ready = false
		testNetwork.mu.Unlock()
	})
	e := &runnerEnv{cs: cs, dir: dir}
	create := func(p *corev1.Pod) {
		t.Helper()
		p.Namespace, p.Spec.NodeName = "default", "n1"
		if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	create(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{
				Name: "web", Image: "testapp:1", Args: []string{"-listen", ":8080"},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
					PeriodSeconds: 1,
				},
				LivenessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/testapp", "-get", "http://localhost:8080/healthz"}}},
					PeriodSeconds: 1,
				},
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}},
			},
			{Name: "side", Image: "testapp:1", Args: []string{"-sleep", "1h"}},
		}},
	})
	create(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "hog"},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{
			Name: "hog", Image: "testapp:1", Args: []string{"-eat-mib", "200"},
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("32Mi")}},
		}}},
	})
	create(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "nocmd"},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{
			Name: "c", Image: "testapp:1", Command: []string{"/bin/sh", "-c", "true"},
		}}},
	})

	p := waitPod(t, ctx, e, "web", "web Running and Ready", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodRunning && ready(p) && p.Status.PodIP != ""
	})
	for _, st := range p.Status.ContainerStatuses {
		if !strings.HasPrefix(st.ContainerID, "builtin://") {
			t.Errorf("container %s has id %q, want builtin://...", st.Name, st.ContainerID)
		}
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
	// The sidecar reaches the server on localhost: one network namespace.
	var out strings.Builder
	if code, err := drv.Exec(ctx, ContainerID(p.UID, "side"), []string{"/testapp", "-get", "http://localhost:8080/"}, &out, &out); err != nil || code != 0 || out.String() != "hello from web\n" {
		t.Errorf("the sidecar's GET of localhost:8080: %d, %v, %q", code, err, out.String())
	}

	// kubectl exec's path, with standard input.
	var ex strings.Builder
	code, err := ExecInPod(ctx, dir, p, "side", runtime.ExecOptions{Args: []string{"/testapp", "-cat", "/dev/stdin"}, Stdin: strings.NewReader("typed\n"), Stdout: &ex})
	if err != nil || code != 0 || ex.String() != "typed\n" {
		t.Errorf("ExecInPod: %d, %v, %q", code, err, ex.String())
	}

	waitPod(t, ctx, e, "hog", "hog OOMKilled", func(p *corev1.Pod) bool {
		if len(p.Status.ContainerStatuses) != 1 || p.Status.ContainerStatuses[0].State.Terminated == nil {
			return false
		}
		term := p.Status.ContainerStatuses[0].State.Terminated
		return term.Reason == "OOMKilled" && term.ExitCode == 137
	})
	// restartPolicy Never: the container stays terminated, and the Pod
	// fails, as the kubelet leaves a container whose start failed.
	waitPod(t, ctx, e, "nocmd", "nocmd StartError, the Pod Failed", func(p *corev1.Pod) bool {
		if len(p.Status.ContainerStatuses) != 1 || p.Status.ContainerStatuses[0].State.Terminated == nil {
			return false
		}
		term := p.Status.ContainerStatuses[0].State.Terminated
		return term.Reason == "StartError" && term.ExitCode == 128 && strings.Contains(term.Message, `"/bin/sh"`) && strings.Contains(term.Message, "no such file") &&
			p.Status.Phase == corev1.PodFailed
	})

	for _, name := range []string{"web", "hog", "nocmd"} {
		if err := cs.CoreV1().Pods("default").Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
			t.Fatal(err)
		}
	}
	ids := []string{ContainerID(p.UID, "web"), ContainerID(p.UID, "side")}
	for {
		infos, _ := drv.List(ctx)
		left := len(infos)
		for _, id := range ids {
			for _, cg := range []string{"/sys/fs/cgroup/memory/pkg/" + id, "/sys/fs/cgroup/pkg/" + id} {
				if _, err := os.Stat(cg); err == nil {
					left++
				}
			}
		}
		if left == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("after deletion containers %+v or their cgroups remain", infos)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), dir) {
		t.Errorf("mounts under %s remain:\n%s", dir, mounts)
	}
}
