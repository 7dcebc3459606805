package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/orchestrator/store"
)

// freePort returns a loopback TCP port nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// running is a cluster served by Run in this process.
type running struct {
	state State
	creds Credentials
	stop  func()
}

// serve starts Run on dir and waits until it is ready; the cluster stops
// at the end of the test.
func serve(t *testing.T, dir string) running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan State, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{DataDir: dir, Port: freePort(t), Nodes: 3, Ready: func(s State) { ready <- s }})
	}()
	var st State
	select {
	case st = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("Run: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("Run did not get ready")
	}
	creds, err := LoadCredentials(dir)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(stop)
	return running{state: st, creds: creds, stop: stop}
}

// do sends one request with the given bearer token (none when empty).
func do(t *testing.T, r running, method, path, token, body string) (int, []byte) {
	t.Helper()
	c, err := Client(r.creds)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, r.state.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestRunAuthentication(t *testing.T) {
	t.Parallel()
	r := serve(t, filepath.Join(t.TempDir(), "data"))
	if err := Probe(context.Background(), r.state.URL, r.creds); err != nil {
		t.Fatalf("Probe with the token: %v", err)
	}
	for _, tc := range []struct {
		name, path, token string
		want              int
	}{
		{"no token", "/version", "", http.StatusUnauthorized},
		{"no token on the API", "/api/v1/namespaces", "", http.StatusUnauthorized},
		{"wrong token", "/version", strings.Repeat("0", 64), http.StatusUnauthorized},
		{"token", "/api/v1/namespaces", r.creds.Token, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(t, r, http.MethodGet, tc.path, tc.token, "")
			if code != tc.want {
				t.Fatalf("GET %s = %d %s; want %d", tc.path, code, body, tc.want)
			}
			if tc.want != http.StatusUnauthorized {
				return
			}
			var st struct {
				Kind, APIVersion, Status, Reason string
				Code                             int
			}
			if err := json.Unmarshal(body, &st); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if st.Kind != "Status" || st.APIVersion != "v1" || st.Status != "Failure" || st.Reason != "Unauthorized" || st.Code != 401 {
				t.Errorf("body = %s; want an Unauthorized Status", body)
			}
		})
	}
}

func TestRunFiles(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	r := serve(t, dir)
	if r.state.PID != os.Getpid() || r.state.Nodes != 3 || !strings.HasPrefix(r.state.URL, "https://127.0.0.1:") {
		t.Errorf("state = %+v", r.state)
	}
	if len(r.creds.Token) != 64 {
		t.Errorf("token %q is not 32 hex-encoded bytes", r.creds.Token)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode = %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	for _, name := range []string{TokenFile, CAKeyFile, ServerKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v; want mode 0600", name, err)
		}
	}
	if st, ok, err := Check(dir); err != nil || !ok || st.PID != os.Getpid() {
		t.Errorf("Check while serving = %+v, %v, %v", st, ok, err)
	}
	kc, err := Kubeconfig(r.state.URL, r.creds)
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		CurrentContext string `json:"current-context"`
		Clusters       []struct {
			Name    string
			Cluster struct {
				Server string
				CAData []byte `json:"certificate-authority-data"`
			}
		}
		Users []struct {
			Name string
			User struct{ Token string }
		}
	}
	if err := yaml.Unmarshal(kc, &parsed); err != nil {
		t.Fatal(err)
	}
	if parsed.CurrentContext != "pkg" || len(parsed.Clusters) != 1 || parsed.Clusters[0].Cluster.Server != r.state.URL ||
		!bytes.Equal(parsed.Clusters[0].Cluster.CAData, r.creds.CAPEM) || len(parsed.Users) != 1 || parsed.Users[0].User.Token != r.creds.Token {
		t.Errorf("kubeconfig:\n%s", kc)
	}

	r.stop()
	if _, ok, err := Check(dir); err != nil || ok {
		t.Errorf("Check after stop = %v, %v; want not running", ok, err)
	}
	if st, err := ReadState(dir); err != nil || st.URL != r.state.URL {
		t.Errorf("state after stop = %+v, %v; want the last URL kept", st, err)
	}
	// The credentials outlive the server: the kubeconfig stays valid.
	again := serve(t, dir)
	if again.creds.Token != r.creds.Token || !bytes.Equal(again.creds.CAPEM, r.creds.CAPEM) {
		t.Error("credentials changed across restarts")
	}
}

func TestRunRefusesSecondServer(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	r := serve(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := Run(ctx, Options{DataDir: dir, Port: freePort(t)})
	var re *RunningError
	if !errors.As(err, &re) || !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second Run = %v; want a *RunningError wrapping store.ErrLocked", err)
	}
	if re.PID != os.Getpid() || re.URL != r.state.URL {
		t.Errorf("RunningError = %+v; want pid %d, url %s", re, os.Getpid(), r.state.URL)
	}
	if !strings.Contains(err.Error(), "already running (pid ") {
		t.Errorf("message %q does not give the pid", err)
	}
}

func TestSecretsSealedAtRest(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	r := serve(t, dir)
	const secretText = "s3cr3t-plaintext-value-0123456789"
	const configText = "config-plaintext-value-0123456789"
	for path, body := range map[string]string{
		"/api/v1/namespaces/default/secrets":    `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"stringData":{"password":"` + secretText + `"}}`,
		"/api/v1/namespaces/default/configmaps": `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"k":"` + configText + `"}}`,
	} {
		if code, out := do(t, r, http.MethodPost, path, r.creds.Token, body); code != http.StatusCreated {
			t.Fatalf("POST %s = %d %s", path, code, out)
		}
	}
	code, out := do(t, r, http.MethodGet, "/api/v1/namespaces/default/secrets/s", r.creds.Token, "")
	if code != http.StatusOK || !strings.Contains(string(out), "czNjcjN0") { // base64 of the value's start
		t.Fatalf("GET secret = %d %s", code, out)
	}
	r.stop()
	db, err := os.ReadFile(filepath.Join(dir, store.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	// The ConfigMap shows the file is readable as is; the Secret, in either
	// of its encodings, must not be.
	if !bytes.Contains(db, []byte(configText)) {
		t.Error("the ConfigMap's value is not in the store file: the check below proves nothing")
	}
	for _, s := range []string{secretText, "czNjcjN0LXBsYWludGV4dC12YWx1ZS0wMTIzNDU2Nzg5"} {
		if bytes.Contains(db, []byte(s)) {
			t.Errorf("the store file holds the Secret's value %q in clear", s)
		}
	}
}

// TestRunLeavesHostNetworkAlone: with node agents (and, as root, the
// cluster network, its proxy and DNS), the host's routes are the same
// while the cluster runs and after it stops, and its namespace is gone.
func TestRunLeavesHostNetworkAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	routes := func() string {
		out, err := exec.Command("ip", "route", "show").CombinedOutput()
		if err != nil {
			t.Skipf("skipping: no iproute2: %v", err)
		}
		return string(out)
	}
	before := routes()
	dir := t.TempDir()
	r := serve(t, dir)
	if got := routes(); got != before {
		t.Errorf("routes changed while the cluster runs:\n%s\nbefore:\n%s", got, before)
	}
	r.stop()
	if got := routes(); got != before {
		t.Errorf("routes changed after the cluster stopped:\n%s", got)
	}
	sum := sha256.Sum256([]byte(dir))
	ns := "pkg-net-" + hex.EncodeToString(sum[:4])
	if _, err := os.Stat("/var/run/netns/" + ns); err == nil {
		t.Errorf("the cluster network %s is left", ns)
	}
}
