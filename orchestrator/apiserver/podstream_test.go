package apiserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/client-go/util/exec"
)

// runningPod creates a Pod whose container "main" the status says runs.
func runningPod(t *testing.T, ts *testServer, name string) {
	t.Helper()
	ctx := context.Background()
	pods := ts.client.CoreV1().Pods("default")
	p, err := pods.Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "main", Image: "x"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
		Name: "main", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
	}}}
	if _, err := pods.UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestPortForwardProtocol forwards through pods/NAME/portforward with
// client-go's forwarder, over plain SPDY and over SPDY in a websocket,
// to a line echo server standing in for the Pod; a port the Pod does not
// serve is reported on the error stream; a missing Pod is NotFound, one
// not running or a request not upgraded is BadRequest.
func TestPortForwardProtocol(t *testing.T) {
	t.Parallel()
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { echo.Close() })
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					fmt.Fprintf(c, "echo %s\n", sc.Text())
				}
			}()
		}
	}()
	ts := newTestServerWith(t, func(c *Config) {
		c.PodPortForward = func(ctx context.Context, pod *corev1.Pod, port int32) (net.Conn, error) {
			if port != 7 {
				return nil, fmt.Errorf("connection refused on port %d", port)
			}
			return (&net.Dialer{}).DialContext(ctx, "tcp", echo.Addr().String())
		}
	})
	runningPod(t, ts, "web")
	ctx := context.Background()
	url := ts.client.CoreV1().RESTClient().Post().Resource("pods").Namespace("default").Name("web").SubResource("portforward").URL()
	transport, upgrader, err := spdy.RoundTripperFor(ts.config)
	if err != nil {
		t.Fatal(err)
	}
	plain := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, url)
	tunnel, err := portforward.NewSPDYOverWebsocketDialer(url, ts.config)
	if err != nil {
		t.Fatal(err)
	}
	for name, dialer := range map[string]httpstream.Dialer{"spdy": plain, "websocket": tunnel} {
		t.Run(name, func(t *testing.T) {
			stop, ready := make(chan struct{}), make(chan struct{})
			var errOut bytes.Buffer
			fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:7"}, stop, ready, io.Discard, &errOut)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- fw.ForwardPorts() }()
			<-ready
			ports, err := fw.GetPorts()
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ports[0].Local))
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(c, "hello %d\n", i)
				line, err := bufio.NewReader(c).ReadString('\n')
				c.Close()
				if err != nil || line != fmt.Sprintf("echo hello %d\n", i) {
					t.Errorf("through the forward: %q, %v", line, err)
				}
			}
			close(stop)
			if err := <-done; err != nil {
				t.Errorf("ForwardPorts: %v", err)
			}
		})
	}
	t.Run("closed port", func(t *testing.T) {
		conn, _, err := plain.Dial("portforward.k8s.io")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		h := http.Header{}
		h.Set(corev1.StreamType, corev1.StreamTypeError)
		h.Set(corev1.PortHeader, "9")
		h.Set(corev1.PortForwardRequestIDHeader, "0")
		errStream, err := conn.CreateStream(h)
		if err != nil {
			t.Fatal(err)
		}
		errStream.Close()
		h.Set(corev1.StreamType, corev1.StreamTypeData)
		if _, err := conn.CreateStream(h); err != nil {
			t.Fatal(err)
		}
		msg, err := io.ReadAll(errStream)
		if err != nil || !strings.Contains(string(msg), "error forwarding port 9 to pod default/web") || !strings.Contains(string(msg), "connection refused on port 9") {
			t.Errorf("error stream: %q, %v", msg, err)
		}
	})
	rc := ts.client.CoreV1().RESTClient()
	if err := rc.Post().Resource("pods").Namespace("default").Name("nope").SubResource("portforward").Do(ctx).Error(); !apierrors.IsNotFound(err) {
		t.Errorf("missing pod: %v", err)
	}
	if err := rc.Post().Resource("pods").Namespace("default").Name("web").SubResource("portforward").Do(ctx).Error(); !apierrors.IsBadRequest(err) {
		t.Errorf("no upgrade: %v", err)
	}
	if _, err := ts.client.CoreV1().Pods("default").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pending"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "x"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = rc.Post().Resource("pods").Namespace("default").Name("pending").SubResource("portforward").Do(ctx).Error()
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "pod pending is not running") {
		t.Errorf("pending pod: %v", err)
	}
}

// TestExecProtocol runs commands through pods/NAME/exec with client-go's
// executors, over SPDY and over a websocket, against a PodExecFunc that
// echoes its input: output on both streams, exit codes as kubectl reads
// them, and the checks made before the upgrade.
func TestExecProtocol(t *testing.T) {
	t.Parallel()
	ts := newTestServerWith(t, func(c *Config) {
		c.PodExec = func(ctx context.Context, pod *corev1.Pod, container string, command []string, s ExecIO) (int, error) {
			switch command[0] {
			case "cat":
				_, err := io.Copy(s.Stdout, s.Stdin)
				return 0, err
			case "fail":
				fmt.Fprintf(s.Stderr, "failing in %s/%s\n", pod.Name, container)
				return 3, nil
			case "broken":
				return -1, errors.New("the runtime is gone")
			}
			fmt.Fprintf(s.Stdout, "%s tty=%v\n", strings.Join(command, " "), s.TTY)
			return 0, nil
		}
	})
	runningPod(t, ts, "box")
	ctx := context.Background()
	run := func(t *testing.T, kind string, stdin io.Reader, command ...string) (string, string, error) {
		t.Helper()
		req := ts.client.CoreV1().RESTClient().Post().Resource("pods").Namespace("default").Name("box").SubResource("exec").
			Param("container", "main").Param("stdout", "true").Param("stderr", "true")
		if stdin != nil {
			req = req.Param("stdin", "true")
		}
		for _, c := range command {
			req = req.Param("command", c)
		}
		var ex remotecommand.Executor
		var err error
		if kind == "spdy" {
			ex, err = remotecommand.NewSPDYExecutor(ts.config, http.MethodPost, req.URL())
		} else {
			ex, err = remotecommand.NewWebSocketExecutor(ts.config, http.MethodGet, req.URL().String())
		}
		if err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: stdin, Stdout: &out, Stderr: &errOut})
		return out.String(), errOut.String(), err
	}
	for _, kind := range []string{"spdy", "websocket"} {
		t.Run(kind, func(t *testing.T) {
			if out, _, err := run(t, kind, nil, "echo", "hi"); err != nil || out != "echo hi tty=false\n" {
				t.Errorf("echo: %q, %v", out, err)
			}
			if out, _, err := run(t, kind, strings.NewReader("typed\nin\n"), "cat"); err != nil || out != "typed\nin\n" {
				t.Errorf("cat: %q, %v", out, err)
			}
			_, errOut, err := run(t, kind, nil, "fail")
			var code exec.CodeExitError
			if !errors.As(err, &code) || code.Code != 3 || errOut != "failing in box/main\n" {
				t.Errorf("fail: %v (%T), stderr %q", err, err, errOut)
			}
			if _, _, err := run(t, kind, nil, "broken"); err == nil || !strings.Contains(err.Error(), "the runtime is gone") {
				t.Errorf("broken: %v", err)
			}
		})
	}
	rc := ts.client.CoreV1().RESTClient()
	for _, tt := range []struct {
		name, pod string
		params    map[string]string
		want      string
	}{
		{"no command", "box", map[string]string{"stdout": "true"}, "you must specify at least 1 command"},
		{"no stream", "box", map[string]string{"command": "ls"}, "you must specify at least one of stdin, stdout, stderr"},
		{"tty and stderr", "box", map[string]string{"command": "ls", "stderr": "true", "tty": "true"}, "stderr and tty cannot both be true"},
		{"unknown container", "box", map[string]string{"command": "ls", "stdout": "true", "container": "zz"}, "container zz is not valid for pod box"},
		{"missing pod", "nope", map[string]string{"command": "ls", "stdout": "true"}, `pods "nope" not found`},
		{"not upgraded", "box", map[string]string{"command": "ls", "stdout": "true"}, "exec needs an upgraded connection"},
	} {
		req := rc.Post().Resource("pods").Namespace("default").Name(tt.pod).SubResource("exec")
		for k, v := range tt.params {
			req = req.Param(k, v)
		}
		if err := req.Do(ctx).Error(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	// Discovery lists both streaming subresources, as kube-apiserver does.
	res, err := ts.client.Discovery().ServerResourcesForGroupVersion("v1")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, r := range res.APIResources {
		found[r.Name] = true
	}
	if !found["pods/exec"] || !found["pods/portforward"] {
		t.Errorf("discovery lacks pods/exec or pods/portforward: %v", found)
	}
}
