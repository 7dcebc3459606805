package node

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/transport/spdy"

	"pkg.dev/pkg/internal/testbuild"
	"pkg.dev/pkg/internal/testcluster"
	"pkg.dev/pkg/orchestrator/apiserver"
	"pkg.dev/pkg/orchestrator/runtime"
)

// forwardNetwork is the cluster network of the port-forward tests.
var forwardNetwork = &Network{NS: "pkg-pf-net", Bridge: "pkgpf0", CIDR: "10.248.0.0/16"}

// pkgBinary builds the pkg command once, for the tests that run it as a
// user would.
func pkgBinary(t *testing.T) string {
	t.Helper()
	p, err := testbuild.Program("cmd/pkg")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// forwardEnv is an API server serving pods/portforward through DialPod
// and pods/exec through ExecInPod, a node running Pods with runc on
// forwardNetwork, and kubectl.
type forwardEnv struct {
	cs         kubernetes.Interface
	tc         *testcluster.Cluster
	kubectl    string
	home       string
	kubeconfig string
}

func newForwardEnv(t *testing.T) (*forwardEnv, context.Context) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs containers with runc and the real kubectl")
	}
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("PKG_REQUIRE_KUBECTL") == "1" {
			t.Fatalf("kubectl is required here: %v", err)
		}
		t.Skip("skipping: kubectl is not installed")
	}
	dir := t.TempDir()
	drv, err := runtime.NewRuncDriver(filepath.Join(dir, "runc"), "", nil)
	if err != nil {
		if os.Getenv("PKG_REQUIRE_RUNC") == "1" {
			t.Fatalf("runc is required here: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	tc := testcluster.StartWith(t, func(c *apiserver.Config) {
		c.PodPortForward = DialPod
		c.PodExec = func(ctx context.Context, pod *corev1.Pod, container string, command []string, s apiserver.ExecIO) (int, error) {
			o := runtime.ExecOptions{Args: command, Stdin: s.Stdin, Stdout: s.Stdout, Stderr: s.Stderr, TTY: s.TTY}
			if s.Resize != nil {
				sizes := make(chan runtime.WindowSize, 16)
				go func() {
					defer close(sizes)
					for ts := range s.Resize {
						select {
						case sizes <- runtime.WindowSize{Width: ts.Width, Height: ts.Height}:
						default:
						}
					}
				}()
				o.Resize = sizes
			}
			return ExecInPod(ctx, dir, pod, container, o)
		}
	})
	cs, err := kubernetes.NewForConfig(tc.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	r := &PodRunner{
		Node: "n1", Client: cs, Runtime: drv, Images: testappImages{}, Dir: dir,
		Network:     forwardNetwork,
		BackoffBase: 200 * time.Millisecond,
	}
	done := make(chan struct{})
	rctx, stop := context.WithCancel(ctx)
	go func() { _ = r.Run(rctx); close(done) }()
	t.Cleanup(func() {
		stop()
		<-done
		_ = exec.Command("ip", "netns", "del", forwardNetwork.ns()).Run()
		forwardNetwork.mu.Lock()
		forwardNetwork.ready = false
		forwardNetwork.mu.Unlock()
	})
	return &forwardEnv{cs: cs, tc: tc, kubectl: kubectl, home: t.TempDir(), kubeconfig: tc.Kubeconfig}, ctx
}

// forwarder is a running `kubectl port-forward` or `pkg port-forward`.
type forwarder struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	exited chan struct{}
	// ports are the local ports it listens on, by remote port; locals
	// all of them, in the order they were printed.
	ports  map[int]int
	locals []int
}

// lockedBuffer is a bytes.Buffer safe to write from one goroutine and
// read from another.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var forwardingLine = regexp.MustCompile(`^Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)$`)

// startForward runs bin with args and waits until it forwards the n
// ports it was given (its "Forwarding from" lines), or fails the test.
func (e *forwardEnv) startForward(t *testing.T, extraEnv []string, n int, bin string, args ...string) *forwarder {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+e.home)
	cmd.Env = append(cmd.Env, extraEnv...)
	f := &forwarder{cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan struct{}), ports: map[int]int{}}
	cmd.Stderr = f.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-f.exited
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-time.After(100 * time.Millisecond):
			}
		}
		_ = cmd.Wait()
		close(f.exited)
	}()
	timeout := time.After(30 * time.Second)
	for len(f.locals) < n {
		select {
		case line := <-lines:
			if m := forwardingLine.FindStringSubmatch(line); m != nil {
				local, _ := strconv.Atoi(m[1])
				remote, _ := strconv.Atoi(m[2])
				f.ports[remote] = local
				f.locals = append(f.locals, local)
			}
		case <-f.exited:
			t.Fatalf("%s %s exited: %s", filepath.Base(bin), strings.Join(args, " "), f.stderr.String())
		case <-timeout:
			t.Fatalf("%s %s is not forwarding after 30s: %s", filepath.Base(bin), strings.Join(args, " "), f.stderr.String())
		}
	}
	return f
}

// get fetches path through a forwarded local port, on a new connection.
func get(port int, path string) (string, error) {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

// TestPortForward carries HTTP requests through the real `kubectl
// port-forward` (SPDY in a websocket, as kubectl first tries, and plain
// SPDY) and `pkg port-forward`, to a Pod and through a Service, into a
// Pod whose server listens on the Pod's localhost only; a port nobody
// listens on gives kubectl's error and the server goes on forwarding; a
// missing Pod is NotFound.
func TestPortForward(t *testing.T) {
	e, ctx := newForwardEnv(t)
	_, err := e.cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{
			NodeName: "n1",
			Containers: []corev1.Container{{
				Name: "web", Image: "testapp:1",
				// Only the Pod's own localhost: port-forward enters the
				// Pod's network namespace, as the kubelet does.
				Args:  []string{"-listen", "127.0.0.1:8080"},
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.cs.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Name: "web", Port: 80, TargetPort: intstr.FromString("http")}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		p, err := e.cs.CoreV1().Pods("default").Get(ctx, "web", metav1.GetOptions{})
		if err == nil && p.Status.Phase == corev1.PodRunning {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the pod is not running: %v", p.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The server answers once it listens: the container runs a moment
	// before its server does.
	kc := "--kubeconfig=" + e.kubeconfig
	want := "hello from web\n"
	expect := func(t *testing.T, port int) {
		t.Helper()
		var body string
		var err error
		for range 50 {
			if body, err = get(port, "/"); err == nil && body == want {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("GET / through port %d = %q, %v; want %q", port, body, err, want)
	}

	t.Run("kubectl websocket", func(t *testing.T) {
		f := e.startForward(t, nil, 1, e.kubectl, kc, "-v=4", "port-forward", "pod/web", ":8080")
		expect(t, f.ports[8080])
		// kubectl -v=4 says which dialer it used.
		if msg := f.stderr.String(); strings.Contains(msg, "fallback") || !strings.Contains(msg, "tunneling_dialer.go") {
			t.Errorf("kubectl did not forward through the websocket tunnel:\n%s", msg)
		}
		// Many connections, several at once: one stream pair each.
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if body, err := get(f.ports[8080], "/"); err != nil || body != want {
					errs <- fmt.Errorf("GET = %q, %v", body, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
	t.Run("kubectl spdy", func(t *testing.T) {
		f := e.startForward(t, []string{"KUBECTL_PORT_FORWARD_WEBSOCKETS=false"}, 1, e.kubectl, kc, "port-forward", "pod/web", ":8080")
		expect(t, f.ports[8080])
	})
	t.Run("kubectl service", func(t *testing.T) {
		f := e.startForward(t, nil, 1, e.kubectl, kc, "port-forward", "svc/web", ":80")
		expect(t, f.ports[8080])
	})
	t.Run("kubectl closed port", func(t *testing.T) {
		f := e.startForward(t, nil, 1, e.kubectl, kc, "port-forward", "pod/web", ":9999")
		if body, err := get(f.ports[9999], "/"); err == nil {
			t.Errorf("GET through a closed port answered %q", body)
		}
		// kubectl reports the error the server sent, then ends, as it
		// does against any cluster.
		select {
		case <-f.exited:
		case <-time.After(10 * time.Second):
			t.Errorf("kubectl still runs after the error")
		}
		msg := f.stderr.String()
		if !regexp.MustCompile(`an error occurred forwarding \d+ -> 9999: error forwarding port 9999 to pod default/web, uid .*connection refused`).MatchString(msg) {
			t.Errorf("kubectl's error does not say what failed:\n%s", msg)
		}
		// The server goes on forwarding.
		g := e.startForward(t, nil, 1, e.kubectl, kc, "port-forward", "pod/web", ":8080")
		expect(t, g.ports[8080])
	})
	t.Run("kubectl missing pod", func(t *testing.T) {
		out, err := exec.Command(e.kubectl, kc, "port-forward", "pod/nope", ":8080").CombinedOutput()
		if err == nil || !strings.Contains(string(out), `pods "nope" not found`) {
			t.Errorf("kubectl port-forward pod/nope: %v\n%s", err, out)
		}
	})
	t.Run("pkg", func(t *testing.T) {
		pkg := pkgBinary(t)
		f := e.startForward(t, nil, 2, pkg, "port-forward", kc, "-n", "default", "--address", "127.0.0.1", "pod/web", ":8080", ":http")
		for _, port := range f.locals {
			expect(t, port)
		}
		g := e.startForward(t, nil, 1, pkg, "port-forward", kc, "--address", "127.0.0.1", "svc/web", "0:web")
		expect(t, g.ports[8080])
		out, err := exec.Command(pkg, "port-forward", kc, "pod/nope", "8080").CombinedOutput()
		if err == nil || !strings.Contains(string(out), `pods "nope" not found`) {
			t.Errorf("pkg port-forward pod/nope: %v\n%s", err, out)
		}
	})
	t.Run("subresource of a missing pod", func(t *testing.T) {
		u := e.cs.CoreV1().RESTClient().Post().Resource("pods").Namespace("default").Name("nope").SubResource("portforward").URL()
		transport, upgrader, err := spdy.RoundTripperFor(e.tc.Config)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, u).Dial("portforward.k8s.io")
		if err == nil || !strings.Contains(err.Error(), `pods "nope" not found`) {
			t.Errorf("port-forward to a missing pod: %v, want NotFound", err)
		}
		err = e.cs.CoreV1().RESTClient().Post().Resource("pods").Namespace("default").Name("nope").SubResource("portforward").Do(ctx).Error()
		if !apierrors.IsNotFound(err) {
			t.Errorf("POST pods/nope/portforward: %v, want NotFound", err)
		}
		// A running pod asked without an upgrade: a clear 400.
		err = e.cs.CoreV1().RESTClient().Post().Resource("pods").Namespace("default").Name("web").SubResource("portforward").Do(ctx).Error()
		if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "upgrade") {
			t.Errorf("POST pods/web/portforward without an upgrade: %v, want BadRequest", err)
		}
	})
}
