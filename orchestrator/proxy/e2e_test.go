package proxy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testbuild"
	"pkg.dev/pkg/internal/testcluster"
	"pkg.dev/pkg/orchestrator/controllers"
	"pkg.dev/pkg/orchestrator/node"
	"pkg.dev/pkg/orchestrator/runtime"
	"pkg.dev/pkg/orchestrator/scheduler"
)

// TestMain removes the test program the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	testbuild.Cleanup()
	os.Exit(code)
}

// testappImages serves every image as a root filesystem holding the
// static test program (testdata/testapp) as its entrypoint.
type testappImages struct{}

func (testappImages) Prepare(_ context.Context, _ string, _ corev1.PullPolicy, _ [][]byte, dir string) (node.ImageConfig, error) {
	appPath, err := testbuild.Program("testdata/testapp")
	if err != nil {
		return node.ImageConfig{}, err
	}
	bin, err := os.ReadFile(appPath)
	if err != nil {
		return node.ImageConfig{}, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		return node.ImageConfig{}, err
	}
	return node.ImageConfig{Entrypoint: []string{"/testapp"}}, os.WriteFile(filepath.Join(dir, "testapp"), bin, 0o755)
}

// TestServiceFromPodByName runs the whole chain with real runc
// containers: a 3-replica Deployment behind a ClusterIP Service; a client
// Pod GETs http://echo.default.svc.cluster.local/ through its resolv.conf,
// the cluster DNS and the Service (nftables when nft is installed); 30
// requests on new connections from a Pod's network namespace reach all
// three replicas; and when a replica is deleted during a request loop, no
// request fails from 250 ms after the Endpoints dropped it.
func TestServiceFromPodByName(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	drv, err := runtime.NewRuncDriver(filepath.Join(dir, "runc"), "", nil)
	if err != nil {
		if os.Getenv("PKG_REQUIRE_RUNC") == "1" {
			t.Fatalf("runc is required here: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	netw := &node.Network{NS: "pkg-proxy-e2e", Bridge: "pkge0", CIDR: "10.253.0.0/16"}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	if err := netw.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	tc := testcluster.Start(t)
	cs := kubernetes.NewForConfigOrDie(tc.Config)
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		_ = netw.Remove(context.Background())
	})
	run := func(f func(context.Context) error) {
		wg.Add(1)
		go func() { defer wg.Done(); _ = f(ctx) }()
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("PKG_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	const dnsIP = "10.96.0.10"
	if _, err := cs.CoreV1().Services(DNSNamespace).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: DNSService, Namespace: DNSNamespace},
		Spec: corev1.ServiceSpec{ClusterIP: dnsIP, Ports: []corev1.ServicePort{{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	run(func(ctx context.Context) error {
		return controllers.Run(ctx, tc.Config, controllers.Options{Logger: log,
			Controllers: []string{controllers.DeploymentController, controllers.ReplicaSetController, controllers.EndpointsController}})
	})
	run(scheduler.New(cs, scheduler.Options{Log: log}).Run)
	run((&node.Agent{Config: node.Config{Name: "n1", CPU: resource.MustParse("4"), Memory: resource.MustParse("8Gi"), Pods: 110}, Client: cs, Log: log}).Run)
	nodeDir := filepath.Join(dir, "node")
	run((&node.PodRunner{Node: "n1", Client: cs, Runtime: drv, Images: testappImages{}, Network: netw, Dir: nodeDir, DNS: dnsIP,
		BackoffBase: 200 * time.Millisecond, Log: log}).Run)
	run((&DNS{Client: cs, Net: netw, Address: dnsIP, Log: log}).Run)
	run((&Proxy{Client: cs, Net: netw, Log: log}).Run)

	three := int32(3)
	labels := map[string]string{"app": "echo"}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "echo"},
		Spec: appsv1.DeploymentSpec{Replicas: &three, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "echo", Image: "testapp:1", Args: []string{"-listen", ":8080"},
				Ports:          []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}}, PeriodSeconds: 1},
			}}}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Services("default").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "echo"},
		Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		ep, err := cs.CoreV1().Endpoints("default").Get(ctx, "echo", metav1.GetOptions{})
		if err == nil && len(ep.Subsets) == 1 && len(ep.Subsets[0].Addresses) == 3 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the three replicas never became ready endpoints: %v", ep)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// A real Pod resolves the name through its resolv.conf and the
	// cluster DNS, and reaches the Service.
	never := corev1.RestartPolicyNever
	client, err := cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "client"},
		Spec: corev1.PodSpec{RestartPolicy: never, Containers: []corev1.Container{{
			Name: "client", Image: "testapp:1", Args: []string{"-get", "http://echo.default.svc.cluster.local/", "-n", "3"}}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		p, err := cs.CoreV1().Pods("default").Get(ctx, "client", metav1.GetOptions{})
		if err == nil && (p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed) {
			if p.Status.Phase == corev1.PodFailed {
				out, _ := os.ReadFile(node.LogPath(nodeDir, client.UID, "client", 0))
				t.Fatalf("the client Pod failed:\n%s", out)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the client Pod never finished")
		}
		time.Sleep(200 * time.Millisecond)
	}
	out, err := os.ReadFile(node.LogPath(nodeDir, client.UID, "client", 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(out), "hello from echo-"); got != 3 {
		t.Errorf("3 requests by name from a Pod: %d answered:\n%s", got, out)
	}

	// From one replica's network namespace: the name resolved by the
	// cluster DNS, then 30 requests on new connections spread over the
	// three replicas.
	pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=echo"})
	if err != nil || len(pods.Items) != 3 {
		t.Fatalf("echo Pods: %v %v", pods, err)
	}
	from := "/var/run/netns/" + node.NSName(string(pods.Items[0].UID))
	var clusterIP string
	if err := inNetns(from, func() error {
		m := new(dns.Msg)
		m.SetQuestion("echo.default.svc.cluster.local.", dns.TypeA)
		// Up to three tries, as a resolver makes them.
		var r *dns.Msg
		var err error
		for try := 0; try < 3; try++ {
			if r, _, err = (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, dnsIP+":53"); err == nil {
				break
			}
		}
		if err != nil {
			return err
		}
		if len(r.Answer) != 1 {
			return fmt.Errorf("answer %v", r.Answer)
		}
		clusterIP = r.Answer[0].(*dns.A).A.String()
		return nil
	}); err != nil {
		t.Fatalf("resolving echo from a Pod: %v", err)
	}
	// The Transport dials on goroutines of its own: each dial enters the
	// Pod's network namespace.
	inPod := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := inNetns(from, func() error {
			var err error
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}}
	get := func() (string, error) {
		resp, err := (&http.Client{Timeout: 2 * time.Second, Transport: inPod}).Get("http://" + clusterIP + "/")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && (resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(b), "hello from echo-")) {
			err = fmt.Errorf("%s: %q", resp.Status, b)
		}
		return string(b), err
	}
	seen := map[string]int{}
	for i := 0; i < 30; i++ {
		body, err := get()
		if err != nil {
			t.Fatalf("request %d to %s: %v", i, clusterIP, err)
		}
		seen[body]++
	}
	if len(seen) != 3 {
		t.Errorf("30 requests on new connections reached %d replicas, want 3: %v", len(seen), seen)
	}

	// A replica is deleted during a request loop: once the Endpoints no
	// longer list it, no request fails.
	victim := pods.Items[2]
	var moved time.Time
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			ep, err := cs.CoreV1().Endpoints("default").Get(ctx, "echo", metav1.GetOptions{})
			if err == nil && !strings.Contains(fmt.Sprint(ep.Subsets), victim.Status.PodIP+" ") {
				moved = time.Now()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	if err := cs.CoreV1().Pods("default").Delete(ctx, victim.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// A request is judged by when it started: one that began before
	// the proxy saw the change may have been sent to the victim and
	// fail up to the client's timeout later.
	type result struct {
		at  time.Time
		err error
	}
	var results []result
	end := time.Now().Add(4 * time.Second)
	for time.Now().Before(end) {
		start := time.Now()
		_, err := get()
		results = append(results, result{start, err})
	}
	<-done
	if moved.IsZero() {
		t.Fatal("the deleted replica never left the Endpoints")
	}
	lost, after := 0, 0
	for _, r := range results {
		if r.at.After(moved.Add(250 * time.Millisecond)) {
			after++
			if r.err != nil {
				lost++
				t.Logf("lost, started at +%v: %v", r.at.Sub(moved), r.err)
			}
		}
	}
	t.Logf("%d requests in the loop, %d started from 250 ms after the Endpoints moved", len(results), after)
	if lost != 0 || after == 0 {
		t.Errorf("%d of %d requests started from 250 ms after the Endpoints moved were lost", lost, after)
	}
}
