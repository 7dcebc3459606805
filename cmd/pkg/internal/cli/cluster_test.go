package cli_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"pkg.dev/pkg/cmd/pkg/internal/cli"
	"pkg.dev/pkg/orchestrator/cluster"
	"pkg.dev/pkg/orchestrator/store"
)

// clusterBin is the pkg binary the cluster tests run, built once per test
// binary by TestMain.
var clusterBin string

func TestMain(m *testing.M) {
	code := m.Run()
	if clusterBin != "" {
		_ = os.RemoveAll(filepath.Dir(clusterBin))
	}
	os.Exit(code)
}

// buildClusterBin builds ./cmd/pkg once and returns its path.
func buildClusterBin(t *testing.T) string {
	t.Helper()
	if clusterBin != "" {
		return clusterBin
	}
	dir, err := os.MkdirTemp("", "pkg-cluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "pkg")
	build := exec.Command("go", "build", "-o", bin, "./cmd/pkg")
	build.Dir = moduleRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		t.Fatalf("go build: %v\n%s", err, out)
	}
	clusterBin = bin
	return bin
}

// clusterSandbox is a home, config and data dir of one's own, and a free
// port.
type clusterSandbox struct {
	bin, home, config, data, kubeconfig string
	port                                int
}

func newClusterSandbox(t *testing.T) clusterSandbox {
	t.Helper()
	root := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	sb := clusterSandbox{
		bin:    buildClusterBin(t),
		home:   filepath.Join(root, "home"),
		config: filepath.Join(root, "config"),
		data:   filepath.Join(root, "data"),
		port:   port,
	}
	sb.kubeconfig = filepath.Join(sb.config, "pkg", "kubeconfig")
	t.Cleanup(func() {
		// Never leave a server behind, whatever the test did.
		if st, ok, _ := cluster.Check(sb.data); ok && st.PID > 0 {
			_ = syscall.Kill(st.PID, syscall.SIGKILL)
		}
	})
	return sb
}

func (sb clusterSandbox) env() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + sb.home, "XDG_CONFIG_HOME=" + sb.config, "XDG_DATA_HOME=" + filepath.Join(sb.home, "share")}
}

// pkg runs `pkg cluster VERB --data-dir DATA ARGS...`.
func (sb clusterSandbox) pkg(t *testing.T, verb string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(sb.bin, append([]string{"cluster", verb, "--data-dir", sb.data}, args...)...)
	cmd.Env = sb.env()
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

func (sb clusterSandbox) up(t *testing.T) string {
	t.Helper()
	out, errOut, err := sb.pkg(t, "up", "--port", strconv.Itoa(sb.port))
	if err != nil {
		t.Fatalf("pkg cluster up: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	return out
}

func (sb clusterSandbox) kubectl(t *testing.T, kubectl string, args ...string) string {
	t.Helper()
	cmd := exec.Command(kubectl, args...)
	cmd.Env = append(sb.env(), "KUBECONFIG="+sb.kubeconfig)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// execOut runs `kubectl exec` and returns its standard output alone. A
// test that compares what the command printed reads it this way: kubectl
// 1.32's websocket client logs "Unknown stream id 1, discarding message"
// on its standard error when the server's empty ready message (which the
// kubelet sends too) arrives before the client set its streams up, a
// race of that client fixed in later versions.
func (sb clusterSandbox) execOut(kubectl string, args ...string) (string, error) {
	cmd := exec.Command(kubectl, append([]string{"exec"}, args...)...)
	cmd.Env = append(sb.env(), "KUBECONFIG="+sb.kubeconfig)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%w: %s", err, stderr.String())
	}
	return string(out), nil
}

// statusReport is the JSON of `pkg cluster status -o json`.
type statusReport struct {
	Running    bool   `json:"running"`
	PID        int    `json:"pid"`
	URL        string `json:"url"`
	DataDir    string `json:"dataDir"`
	Kubeconfig string `json:"kubeconfig"`
	Uptime     string `json:"uptime"`
}

func (sb clusterSandbox) status(t *testing.T) statusReport {
	t.Helper()
	out, errOut, err := sb.pkg(t, "status", "-o", "json")
	if err != nil {
		t.Fatalf("pkg cluster status: %v\n%s", err, errOut)
	}
	var s statusReport
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, out)
	}
	return s
}

// TestClusterLifecycle drives the real binary and the real kubectl through
// up, use, a second up, a crash, a restart and down.
func TestClusterLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	const kubectl = "/usr/bin/kubectl"
	if _, err := os.Stat(kubectl); err != nil {
		if os.Getenv("PKG_REQUIRE_KUBECTL") == "1" {
			t.Fatalf("the real kubectl is needed at %s (PKG_REQUIRE_KUBECTL=1; .ci/run installs it): %v", kubectl, err)
		}
		t.Skipf("the real kubectl is needed at %s: %v", kubectl, err)
	}
	t.Parallel()
	sb := newClusterSandbox(t)
	url := "https://127.0.0.1:" + strconv.Itoa(sb.port)

	out := sb.up(t)
	if !strings.Contains(out, "export KUBECONFIG="+sb.kubeconfig+"\n") || !strings.Contains(out, url) {
		t.Errorf("up printed:\n%s", out)
	}
	if fi, err := os.Stat(sb.kubeconfig); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("kubeconfig %s: %v; want mode 0600", sb.kubeconfig, err)
	}
	st := sb.status(t)
	if !st.Running || st.PID <= 0 || st.URL != url || st.DataDir != sb.data || st.Kubeconfig != sb.kubeconfig || st.Uptime == "" {
		t.Errorf("status = %+v", st)
	}

	if got := sb.kubectl(t, kubectl, "get", "ns"); !strings.Contains(got, "kube-system") {
		t.Errorf("kubectl get ns:\n%s", got)
	}
	sb.kubectl(t, kubectl, "create", "configmap", "x", "--from-literal=a=b")
	checkConfigMap := func() {
		var cm struct{ Data map[string]string }
		if err := json.Unmarshal([]byte(sb.kubectl(t, kubectl, "get", "cm", "x", "-o", "json")), &cm); err != nil || cm.Data["a"] != "b" {
			t.Errorf("configmap x: data %v, %v; want a=b", cm.Data, err)
		}
	}
	checkConfigMap()
	const secretText = "never-in-clear-7f3a9c"
	sb.kubectl(t, kubectl, "create", "secret", "generic", "s", "--from-literal=password="+secretText)

	t.Run("no token is refused", func(t *testing.T) {
		creds, err := cluster.LoadCredentials(sb.data)
		if err != nil {
			t.Fatal(err)
		}
		c, err := cluster.Client(creds)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Get(url + "/api/v1/namespaces")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET without token = %s; want 401", resp.Status)
		}
	})

	t.Run("second up is refused", func(t *testing.T) {
		_, errOut, err := sb.pkg(t, "up", "--port", strconv.Itoa(sb.port))
		want := "already running (pid " + strconv.Itoa(st.PID) + ") on " + url
		if err == nil || !strings.Contains(errOut, want) {
			t.Errorf("second up: %v\n%s\nwant an error containing %q", err, errOut, want)
		}
	})

	// A crash: the lock and the pid file are left behind.
	if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for sb.status(t).Running {
		if time.Now().After(deadline) {
			t.Fatal("the killed server still holds the data dir")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(sb.data, store.PIDFile)); err != nil {
		t.Logf("no stale pid file after kill -9: %v", err)
	}

	sb.up(t)
	checkConfigMap()
	restarted := sb.status(t)
	if !restarted.Running || restarted.PID == st.PID {
		t.Errorf("status after restart = %+v", restarted)
	}

	out, errOut, err := sb.pkg(t, "down")
	if err != nil || !strings.Contains(errOut, "stopped") {
		t.Fatalf("down: %v\n%s%s", err, out, errOut)
	}
	if s := sb.status(t); s.Running {
		t.Errorf("status after down = %+v", s)
	}
	out, _, err = sb.pkg(t, "down")
	if err != nil || !strings.Contains(out, "not running") {
		t.Errorf("second down: %v\n%s", err, out)
	}

	db, err := os.ReadFile(filepath.Join(sb.data, store.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(db), `"a":"b"`) {
		t.Log("the ConfigMap is not in clear in the store file; the Secret check is weaker")
	}
	if strings.Contains(string(db), secretText) {
		t.Error("the store file holds the Secret's value in clear")
	}

	kc, _, err := sb.pkg(t, "kubeconfig", "--path")
	if err != nil || kc != sb.kubeconfig+"\n" {
		t.Errorf("kubeconfig --path = %q, %v", kc, err)
	}
	kc, _, err = sb.pkg(t, "kubeconfig")
	if err != nil || !strings.Contains(kc, "current-context: pkg") || !strings.Contains(kc, "certificate-authority-data:") {
		t.Errorf("kubeconfig = %q, %v", kc, err)
	}
}

// TestClusterStatusOutputs checks the formats of status on a data dir that
// was never started, and a bad format.
func TestClusterStatusOutputs(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	for _, tc := range []struct {
		args []string
		want string
		err  bool
	}{
		{args: []string{"-o", "json"}, want: `"running": false`},
		{args: []string{"-o", "yaml"}, want: "running: false\n"},
		{args: nil, want: "STATUS:\t\tstopped\n"},
		{args: []string{"-o", "xml"}, err: true},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb strings.Builder
			env := cli.Env{Streams: cli.Streams{Out: &out, Err: &errb}, Getenv: func(k string) string {
				if k == "HOME" {
					return data
				}
				return ""
			}}
			code := cli.Run(t.Context(), env, append([]string{"cluster", "status", "--data-dir", data}, tc.args...))
			if (code != 0) != tc.err {
				t.Fatalf("exit %d\n%s", code, errb.String())
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("output %q does not contain %q", out.String(), tc.want)
			}
		})
	}
}

// TestClusterKubeconfigNeverStarted checks the message for a data dir
// without credentials.
func TestClusterKubeconfigNeverStarted(t *testing.T) {
	t.Parallel()
	var out, errb strings.Builder
	code := cli.Run(t.Context(), cli.Env{Streams: cli.Streams{Out: &out, Err: &errb}}, []string{"cluster", "kubeconfig", "--data-dir", t.TempDir()})
	if code == 0 || !strings.Contains(errb.String(), "pkg cluster up") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}
