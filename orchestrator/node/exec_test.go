package node

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/remotecommand"
)

// sizeQueue hands out terminal sizes, then waits for the end.
type sizeQueue struct {
	sizes chan remotecommand.TerminalSize
	done  <-chan struct{}
}

func (q *sizeQueue) Next() *remotecommand.TerminalSize {
	select {
	case s := <-q.sizes:
		return &s
	case <-q.done:
		return nil
	}
}

// TestExec runs commands in a running container through the real
// `kubectl exec` (a websocket, as kubectl first tries, and SPDY): output,
// standard input, exit codes and standard error as kubectl shows them,
// a terminal with its sizes through client-go, and the errors of a
// missing Pod or container.
func TestExec(t *testing.T) {
	e, ctx := newForwardEnv(t)
	_, err := e.cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "box", Namespace: "default"},
		Spec: corev1.PodSpec{
			NodeName:   "n1",
			Containers: []corev1.Container{{Name: "main", Image: "testapp:1", Args: []string{"-sleep", "1h"}}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		p, err := e.cs.CoreV1().Pods("default").Get(ctx, "box", metav1.GetOptions{})
		if err == nil && p.Status.Phase == corev1.PodRunning && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Running != nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the pod is not running: %v", p.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	kc := "--kubeconfig=" + e.kubeconfig
	kubectl := func(t *testing.T, env []string, stdin string, args ...string) (string, string, int) {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(cctx, e.kubectl, append([]string{kc}, args...)...)
		cmd.Env = append(append(cmd.Environ(), "HOME="+e.home), env...)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), code
	}
	protocols := []struct {
		name string
		env  []string
	}{
		{"websocket", nil},
		{"spdy", []string{"KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false"}},
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			out, errOut, code := kubectl(t, p.env, "", "-v=4", "exec", "box", "--", "/testapp", "-report")
			if code != 0 || !strings.Contains(out, "hostname=box\n") {
				t.Errorf("exec -report: code %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			if p.env == nil && (strings.Contains(errOut, "fallback") || !strings.Contains(errOut, "v5.channel.k8s.io")) {
				t.Errorf("kubectl did not exec over the websocket:\n%s", errOut)
			}
			out, errOut, code = kubectl(t, p.env, "typed in\nand more\n", "exec", "-i", "box", "--", "/testapp", "-cat", "/dev/stdin")
			if code != 0 || out != "typed in\nand more\n" {
				t.Errorf("exec -i -cat /dev/stdin: code %d, stdout %q, stderr %q", code, out, errOut)
			}
			out, errOut, code = kubectl(t, p.env, "", "exec", "box", "--", "/testapp", "-exit", "3")
			if code != 3 || !strings.Contains(errOut, "command terminated with exit code 3") {
				t.Errorf("exec -exit 3: code %d, stdout %q, stderr %q", code, out, errOut)
			}
			out, errOut, code = kubectl(t, p.env, "", "exec", "box", "-c", "main", "--", "/testapp", "-cat", "/nothere")
			if code != 1 || out != "" || !strings.Contains(errOut, "no such file or directory") {
				t.Errorf("exec -cat /nothere: code %d, stdout %q, stderr %q", code, out, errOut)
			}
		})
	}
	t.Run("terminal", func(t *testing.T) {
		u := e.cs.CoreV1().RESTClient().Post().Resource("pods").Namespace("default").Name("box").SubResource("exec").
			Param("container", "main").Param("command", "/testapp").Param("command", "-report").
			Param("stdout", "true").Param("tty", "true").URL()
		spdyExec, err := remotecommand.NewSPDYExecutor(e.tc.Config, http.MethodPost, u)
		if err != nil {
			t.Fatal(err)
		}
		wsExec, err := remotecommand.NewWebSocketExecutor(e.tc.Config, http.MethodGet, u.String())
		if err != nil {
			t.Fatal(err)
		}
		for name, ex := range map[string]remotecommand.Executor{"spdy": spdyExec, "websocket": wsExec} {
			done := make(chan struct{})
			q := &sizeQueue{sizes: make(chan remotecommand.TerminalSize, 2), done: done}
			// The size on connecting, then a resize while it runs.
			q.sizes <- remotecommand.TerminalSize{Width: 100, Height: 40}
			q.sizes <- remotecommand.TerminalSize{Width: 120, Height: 50}
			var out bytes.Buffer
			err := ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &out, Tty: true, TerminalSizeQueue: q})
			close(done)
			// On a terminal, lines end in CR LF.
			if err != nil || !strings.Contains(out.String(), "hostname=box\r\n") || strings.Contains(out.String(), "\r\r") {
				t.Errorf("%s: exec on a terminal: %v\n%q", name, err, out.String())
			}
		}
		// Typing on the terminal: it echoes the line, and ^D ends the
		// command's input.
		u = e.cs.CoreV1().RESTClient().Post().Resource("pods").Namespace("default").Name("box").SubResource("exec").
			Param("container", "main").Param("command", "/testapp").Param("command", "-cat").Param("command", "/dev/stdin").
			Param("stdin", "true").Param("stdout", "true").Param("tty", "true").URL()
		wsExec, err = remotecommand.NewWebSocketExecutor(e.tc.Config, http.MethodGet, u.String())
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		err = wsExec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: strings.NewReader("typed in\n\x04"), Stdout: &out, Tty: true})
		if err != nil || out.String() != "typed in\r\ntyped in\r\n" {
			t.Errorf("typing on the terminal: %v, %q", err, out.String())
		}
	})
	t.Run("errors", func(t *testing.T) {
		if _, errOut, code := kubectl(t, nil, "", "exec", "nope", "--", "/testapp"); code == 0 || !strings.Contains(errOut, `pods "nope" not found`) {
			t.Errorf("exec in a missing pod: code %d, %s", code, errOut)
		}
		if _, errOut, code := kubectl(t, nil, "", "exec", "box", "-c", "other", "--", "/testapp"); code == 0 || !strings.Contains(errOut, "container other is not valid for pod box") {
			t.Errorf("exec in a missing container: code %d, %s", code, errOut)
		}
	})
}
