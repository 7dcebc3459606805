package proxy

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testcluster"
	"pkg.dev/pkg/orchestrator/node"
)

// needRoot skips a test that makes network namespaces when not root,
// and fails it instead where root is required (CI).
func needRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("makes network namespaces")
	}
	if os.Geteuid() != 0 {
		if os.Getenv("PKG_REQUIRE_RUNC") == "1" {
			t.Fatal("needs root for network namespaces (PKG_REQUIRE_RUNC=1)")
		}
		t.Skip("skipping: network namespaces need root")
	}
}

// modes lists the proxy modes this machine can run: nftables needs the
// nft command, which CI installs (a missing nft fails there).
func modes(t *testing.T) []string {
	out := []string{ModeUserspace}
	if _, err := exec.LookPath("nft"); err == nil {
		out = append(out, ModeNftables)
	} else if os.Getenv("PKG_REQUIRE_RUNC") == "1" {
		t.Fatal("nft not found (Debian's nftables package; .ci/run installs it)")
	} else {
		t.Log("nft not found: only the user-space proxy is tested")
	}
	return out
}

// inNetns runs f on a thread inside the network namespace at path.
func inNetns(path string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		goruntime.LockOSThread() // the thread ends with the goroutine
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- f()
	}()
	return <-errc
}

// pod is a network namespace on the cluster network's bridge, made as
// the node agent makes a Pod's.
type pod struct {
	path, ip string
}

func makePod(t *testing.T, ctx context.Context, netw *node.Network, uid string) pod {
	t.Helper()
	path, ip, err := netw.Setup(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = netw.Teardown(context.Background(), uid, ip) })
	return pod{path: path, ip: ip}
}

// serve starts, in the Pod, an HTTP server on TCP port and a UDP echo on
// the same port, both answering "NAME" (the UDP one "NAME: DATAGRAM").
func (p pod) serve(t *testing.T, name string, port int) {
	t.Helper()
	addr := fmt.Sprintf(":%d", port)
	var ln net.Listener
	var pc net.PacketConn
	if err := inNetns(p.path, func() error {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return err
		}
		pc, err = net.ListenPacket("udp", addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close(); pc.Close() })
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, name) }))
	}()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo([]byte(name+": "+string(buf[:n])), from)
		}
	}()
}

// TestServicesFromPods: Pods (network namespaces on the cluster bridge,
// as the node agent makes them) reach a Service's cluster IP over TCP and
// UDP, from another Pod, in each proxy mode: requests spread over both
// endpoints, a named targetPort resolved to a different port per Pod, an
// endpoint that turns not ready gets no new connection within a second,
// ClientIP affinity keeps a client on one endpoint, a UDP NodePort answers
// on the host, and an SCTP port gets an Event.
func TestServicesFromPods(t *testing.T) {
	needRoot(t)
	for i, mode := range modes(t) {
		t.Run(mode, func(t *testing.T) {
			servicesFromPods(t, mode, fmt.Sprintf("pxpod%d", i))
		})
	}
}

func servicesFromPods(t *testing.T, mode, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	netw := &node.Network{NS: ns, Bridge: "pkgp1", CIDR: "10.252.0.0/16"}
	if err := netw.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = netw.Remove(context.Background()) })
	a := makePod(t, ctx, netw, ns+"-a")
	b := makePod(t, ctx, netw, ns+"-b")
	client := makePod(t, ctx, netw, ns+"-c")
	a.serve(t, "a", 8080)
	b.serve(t, "b", 9090) // the same named port, another number

	tc := testcluster.Start(t)
	cs, err := kubernetes.NewForConfig(tc.Config)
	if err != nil {
		t.Fatal(err)
	}
	ports := []corev1.ServicePort{
		{Name: "http", Port: 80, TargetPort: intstr.FromString("web"), Protocol: corev1.ProtocolTCP},
		{Name: "echo", Port: 53, TargetPort: intstr.FromString("echo"), Protocol: corev1.ProtocolUDP},
		{Name: "assoc", Port: 7000, Protocol: corev1.ProtocolSCTP},
	}
	subsets := func(aReady bool) []corev1.EndpointSubset {
		sa := corev1.EndpointSubset{Ports: []corev1.EndpointPort{{Name: "http", Port: 8080}, {Name: "echo", Port: 8080, Protocol: corev1.ProtocolUDP}}}
		if aReady {
			sa.Addresses = []corev1.EndpointAddress{{IP: a.ip}}
		} else {
			sa.NotReadyAddresses = []corev1.EndpointAddress{{IP: a.ip}}
		}
		sb := corev1.EndpointSubset{Addresses: []corev1.EndpointAddress{{IP: b.ip}},
			Ports: []corev1.EndpointPort{{Name: "http", Port: 9090}, {Name: "echo", Port: 9090, Protocol: corev1.ProtocolUDP}}}
		return []corev1.EndpointSubset{sa, sb}
	}
	mk := func(name string, typ corev1.ServiceType, affinity corev1.ServiceAffinity) *corev1.Service {
		s, err := cs.CoreV1().Services("default").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.ServiceSpec{Type: typ, Ports: ports, SessionAffinity: affinity}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CoreV1().Endpoints("default").Create(ctx, &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: name},
			Subsets: subsets(true)}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		return s
	}
	web := mk("web", corev1.ServiceTypeNodePort, corev1.ServiceAffinityNone)
	sticky := mk("sticky", corev1.ServiceTypeClusterIP, corev1.ServiceAffinityClientIP)
	go func() {
		if err := (&Proxy{Client: cs, Net: netw, Mode: mode}).Run(ctx); err != nil {
			t.Errorf("proxy: %v", err)
		}
	}()

	// Each request on a new connection, from the client Pod.
	httpGet := func(ip string) (string, error) {
		var body string
		err := inNetns(client.path, func() error {
			c, err := net.DialTimeout("tcp", ip+":80", 2*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			fmt.Fprintf(c, "GET / HTTP/1.0\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var sb strings.Builder
			_, err = bufio.NewReader(resp.Body).WriteTo(&sb)
			body = sb.String()
			return err
		})
		return body, err
	}
	udpAsk := func(dial func() (net.Conn, error), msg string) (string, error) {
		c, err := dial()
		if err != nil {
			return "", err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte(msg)); err != nil {
			return "", err
		}
		buf := make([]byte, 2048)
		n, err := c.Read(buf)
		return string(buf[:n]), err
	}
	fromClient := func(addr string) func() (net.Conn, error) {
		return func() (net.Conn, error) {
			var c net.Conn
			err := inNetns(client.path, func() error { var err error; c, err = net.Dial("udp", addr); return err })
			return c, err
		}
	}

	count := func(n int, ip string) map[string]int {
		t.Helper()
		seen := map[string]int{}
		for i := 0; i < n; i++ {
			body, err := httpGet(ip)
			if err != nil {
				t.Fatalf("request %d to %s: %v", i, ip, err)
			}
			seen[body]++
		}
		return seen
	}
	// Wait for the Service to answer, then spread.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := httpGet(web.Spec.ClusterIP); err == nil {
			break
		} else if time.Now().After(deadline) {
			out, _ := exec.Command("ip", "netns", "exec", ns, "sh", "-c", "nft list ruleset; sysctl net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables; ip addr").CombinedOutput()
			t.Fatalf("cluster IP %s never answered: %v\n%s", web.Spec.ClusterIP, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if seen := count(40, web.Spec.ClusterIP); seen["a"] == 0 || seen["b"] == 0 || seen["a"]+seen["b"] != 40 {
		t.Errorf("TCP requests from a Pod were not spread over both endpoints (ports 8080 and 9090): %v", seen)
	}
	if seen := count(20, sticky.Spec.ClusterIP); len(seen) != 1 {
		t.Errorf("ClientIP affinity: one client reached %v", seen)
	}

	// UDP, from a Pod to the cluster IP, and from the host to the node port.
	udpSeen := map[string]int{}
	deadline = time.Now().Add(10 * time.Second)
	for len(udpSeen) < 2 {
		got, err := udpAsk(fromClient(web.Spec.ClusterIP+":53"), "ping")
		if err == nil {
			if got != "a: ping" && got != "b: ping" {
				t.Fatalf("UDP answer %q", got)
			}
			udpSeen[got]++
		} else if time.Now().After(deadline) {
			t.Fatalf("UDP to %s:53 from a Pod: %v (answers so far %v)", web.Spec.ClusterIP, err, udpSeen)
		}
	}
	var udpNode int32
	for _, p := range web.Spec.Ports {
		if p.Protocol == corev1.ProtocolUDP {
			udpNode = p.NodePort
		}
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		got, err := udpAsk(func() (net.Conn, error) { return net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", udpNode)) }, "host")
		if err == nil && (got == "a: host" || got == "b: host") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("UDP node port %d from the host: %q %v", udpNode, got, err)
		}
	}

	// Readiness: a turns not ready; within a second no new connection
	// reaches it.
	ep, err := cs.CoreV1().Endpoints("default").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ep.Subsets = subsets(false)
	if _, err := cs.CoreV1().Endpoints("default").Update(ctx, ep, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if seen := count(20, web.Spec.ClusterIP); seen["a"] != 0 {
		t.Errorf("a second after a turned not ready, it still got %d of 20 new connections: %v", seen["a"], seen)
	}
	for i := 0; i < 5; i++ {
		if got, err := udpAsk(fromClient(web.Spec.ClusterIP+":53"), "late"); err != nil || got != "b: late" {
			t.Errorf("UDP after a turned not ready: %q %v", got, err)
		}
	}

	// SCTP: an Event says it is not served.
	for {
		evs, err := cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=web"})
		if err == nil {
			found := false
			for _, e := range evs.Items {
				found = found || (e.Reason == "UnsupportedProtocol" && strings.Contains(e.Message, "SCTP"))
			}
			if found {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatal("no UnsupportedProtocol Event for the SCTP port")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
