package cluster

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// childEnv names the data dir of the cluster TestHostNetworkChild serves.
const childEnv = "PKG_TEST_HOSTNET_CHILD_DIR"

// TestHostNetworkChild is not a test of its own: TestHostNetworkMode runs
// the test binary as an unprivileged user with this test selected, to
// serve a cluster until SIGTERM.
func TestHostNetworkChild(t *testing.T) {
	dir := os.Getenv(childEnv)
	if dir == "" {
		t.Skip("run by TestHostNetworkMode")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	err := Run(ctx, Options{DataDir: dir, Port: freePort(t), Nodes: 1, Logger: log, Ready: func(s State) {
		fmt.Printf("READY %s\n", s.URL)
	}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestHostNetworkMode: run without root (uid 65534, through setpriv), the
// orchestrator says at start that it has no cluster network and runs in
// host-network mode, and a Service whose endpoint is a server on the
// host's loopback is reachable from the host on its node port, its
// LoadBalancer status set, and through the Ingress.
func TestHostNetworkMode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root to start the orchestrator as another user")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("skipping: no setpriv (util-linux)")
	}
	// A directory the unprivileged user may use, with a copy of this test
	// binary it may run.
	dir, err := os.MkdirTemp("", "pkg-hostnet-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "cluster.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin, "-test.run=^TestHostNetworkChild$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+dataDir, "HOME="+dir)
	// The child writes its log while the test reads it.
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
				ready <- url
			}
		}
	}()
	var url string
	select {
	case url = <-ready:
	case <-exited:
		t.Fatalf("the unprivileged orchestrator exited:\n%s", stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("the unprivileged orchestrator never got ready:\n%s", stderr.String())
	}
	creds, err := LoadCredentials(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: url, BearerToken: creds.Token, TLSClientConfig: rest.TLSClientConfig{CAData: creds.CAPEM}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// A server on the host's loopback, the Service's endpoint.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "host server %s %s", r.Host, r.URL.Path)
		}))
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	svc, err := cs.CoreV1().Services("default").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Endpoints("default").Create(ctx, &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "127.0.0.1"}}, Ports: []corev1.EndpointPort{{Name: "http", Port: int32(port)}}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	prefix := networkingv1.PathTypePrefix
	if _, err := cs.NetworkingV1().Ingresses("default").Create(ctx, &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "web.test", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Name: "http"}}}}}}}}}}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	get := func(url, host string) (string, error) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Host = host
		resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	eventually := func(what string, f func() error) {
		t.Helper()
		var err error
		for ctx.Err() == nil {
			if err = f(); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("%s: %v\n%s", what, err, stderr.String())
	}
	eventually("the node port", func() error {
		body, err := get(fmt.Sprintf("http://127.0.0.1:%d/np", svc.Spec.Ports[0].NodePort), "")
		if err == nil && !strings.HasPrefix(body, "host server") {
			err = fmt.Errorf("answer %q", body)
		}
		return err
	})
	eventually("the LoadBalancer status", func() error {
		s, err := cs.CoreV1().Services("default").Get(ctx, "web", metav1.GetOptions{})
		if err == nil && (len(s.Status.LoadBalancer.Ingress) != 1 || s.Status.LoadBalancer.Ingress[0].IP != "127.0.0.1") {
			err = fmt.Errorf("status %v", s.Status.LoadBalancer)
		}
		return err
	})
	// The Ingress listens where it could (not 80, as an unprivileged
	// user) and says where in its status.
	var ingressPort int32
	eventually("the Ingress status", func() error {
		in, err := cs.NetworkingV1().Ingresses("default").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if len(in.Status.LoadBalancer.Ingress) != 1 || len(in.Status.LoadBalancer.Ingress[0].Ports) == 0 {
			return fmt.Errorf("status %v", in.Status.LoadBalancer)
		}
		ingressPort = in.Status.LoadBalancer.Ingress[0].Ports[0].Port
		return nil
	})
	eventually("the Ingress", func() error {
		body, err := get(fmt.Sprintf("http://127.0.0.1:%d/in", ingressPort), "web.test")
		if err == nil && body != "host server web.test /in" {
			err = fmt.Errorf("answer %q", body)
		}
		return err
	})
	if !strings.Contains(stderr.String(), "host-network mode") {
		t.Errorf("the orchestrator did not say it runs in host-network mode:\n%s", stderr.String())
	}
}

// TestRunLeavesHostFirewallAlone: the Service proxy's nftables rules live
// in the cluster network's namespace: the host's ruleset is the same
// while the cluster runs (and serves a Service) and after it stops.
func TestRunLeavesHostFirewallAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	if os.Geteuid() != 0 {
		t.Skip("skipping: reading the host's ruleset needs root")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		if os.Getenv("PKG_REQUIRE_RUNC") == "1" {
			t.Fatal("nft not found (Debian's nftables package; .ci/run installs it)")
		}
		t.Skip("skipping: no nft")
	}
	ruleset := func() string {
		out, err := exec.Command("nft", "list", "ruleset").CombinedOutput()
		if err != nil {
			t.Fatalf("nft list ruleset: %v: %s", err, out)
		}
		return string(out)
	}
	before := ruleset()
	dir := t.TempDir()
	r := serve(t, dir)
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: r.state.URL, BearerToken: r.creds.Token, TLSClientConfig: rest.TLSClientConfig{CAData: r.creds.CAPEM}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cs.CoreV1().Services("default").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Endpoints("default").Create(ctx, &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "10.244.0.9"}}, Ports: []corev1.EndpointPort{{Port: 8080}}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The rule for the Service is in the cluster network's namespace.
	sum := sha256.Sum256([]byte(dir))
	ns := "pkg-net-" + hex.EncodeToString(sum[:4])
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := exec.Command("ip", "netns", "exec", ns, "nft", "list", "ruleset").CombinedOutput()
		if strings.Contains(string(out), "10.244.0.9:8080") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no rule for the Service in %s:\n%s", ns, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := ruleset(); got != before {
		t.Errorf("the host's ruleset changed while the cluster runs:\n%s\nbefore:\n%s", got, before)
	}
	r.stop()
	if got := ruleset(); got != before {
		t.Errorf("the host's ruleset changed after the cluster stopped:\n%s", got)
	}
}
