package cli_test

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestPortForwardAndExecOnBundledCluster runs `pkg cluster up` from the
// real binary (TLS, the token, two nodes, runc) and carries an HTTP
// request through the real `kubectl port-forward` to a Service and
// through `pkg port-forward` to its Pod, then runs `kubectl exec` in it:
// the API server's streaming subresources as the cluster wires them.
func TestPortForwardAndExecOnBundledCluster(t *testing.T) {
	kubectl := podsCluster(t)
	if out, err := kubectl("run", "web", "--image=pkg.dev/testapp:latest", "--image-pull-policy=IfNotPresent", "--", "-listen", "127.0.0.1:8080"); err != nil {
		t.Fatalf("kubectl run: %v\n%s", err, out)
	}
	if out, err := kubectl("expose", "pod", "web", "--port", "80", "--target-port", "8080"); err != nil {
		t.Fatalf("kubectl expose: %v\n%s", err, out)
	}
	if out, err := kubectl("wait", "--for=jsonpath={.status.phase}=Running", "pod/web", "--timeout=60s"); err != nil {
		t.Fatalf("the pod does not run: %v\n%s", err, out)
	}
	kubectlPath, _ := exec.LookPath("kubectl")
	// The cluster's kubeconfig, for the commands run in the background.
	raw, err := kubectl("config", "view", "--raw", "--minify")
	if err != nil {
		t.Fatalf("kubectl config view: %v\n%s", err, raw)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "KUBECONFIG=" + kubeconfig}
	forwarding := regexp.MustCompile(`^Forwarding from 127\.0\.0\.1:(\d+) -> 8080$`)
	// forward starts a port-forward and returns the local port it took.
	forward := func(bin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var errOut strings.Builder
		cmd.Stderr = &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
		ports := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if m := forwarding.FindStringSubmatch(sc.Text()); m != nil {
					select {
					case ports <- m[1]:
					default:
					}
				}
			}
		}()
		select {
		case p := <-ports:
			return p
		case <-time.After(30 * time.Second):
			t.Fatalf("%s %s is not forwarding: %s", bin, strings.Join(args, " "), errOut.String())
			return ""
		}
	}
	get := func(port string) {
		t.Helper()
		var body []byte
		var err error
		for range 50 {
			var resp *http.Response
			resp, err = http.Get("http://127.0.0.1:" + port + "/")
			if err == nil {
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil && string(body) == "hello from web\n" {
					return
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("GET through port %s: %q, %v", port, body, err)
	}
	get(forward(kubectlPath, "port-forward", "svc/web", ":80"))
	get(forward(buildClusterBin(t), "port-forward", "--address", "127.0.0.1", "pod/web", ":8080"))
	if out, err := kubectl("exec", "web", "--", "/testapp", "-report"); err != nil || !strings.Contains(out, "hostname=web\n") {
		t.Errorf("kubectl exec: %v\n%s", err, out)
	}
	out, err := kubectl("exec", "web", "--", "/testapp", "-exit", "5")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 5 || !strings.Contains(out, "command terminated with exit code 5") {
		t.Errorf("kubectl exec -exit 5: %v\n%s", err, out)
	}
}
