package proxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testcluster"
	"pkg.dev/pkg/orchestrator/node"
)

// TestServicesAndDNS: two backends listening in the cluster network stand
// behind a Service; the proxy serves its cluster IP there (balancing new
// connections over both, skipping endpoints that are not ready) and its
// node port on the host's loopback, a LoadBalancer gets 127.0.0.1 in its
// status, and the DNS answers the Service's and a headless Service's
// names, SRV, ExternalName, and NXDOMAIN for the rest.
func TestServicesAndDNS(t *testing.T) {
	needRoot(t)
	for i, mode := range modes(t) {
		t.Run(mode, func(t *testing.T) { servicesAndDNS(t, mode, fmt.Sprintf("pkg-proxy-test-%d", i)) })
	}
}

func servicesAndDNS(t *testing.T, mode, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	netw := backends(t, ctx, ns, "10.251.7.1", "10.251.7.2")
	tc := testcluster.Start(t)
	cs, err := kubernetes.NewForConfig(tc.Config)
	if err != nil {
		t.Fatal(err)
	}
	mkSvc := func(s *corev1.Service, ready, notReady []string) *corev1.Service {
		t.Helper()
		s.Namespace = "default"
		out, err := cs.CoreV1().Services("default").Create(ctx, s, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: "default"}}
		sub := corev1.EndpointSubset{Ports: []corev1.EndpointPort{{Name: "http", Port: 8080}}}
		for i, ip := range ready {
			sub.Addresses = append(sub.Addresses, corev1.EndpointAddress{IP: ip, Hostname: fmt.Sprintf("web-%d", i)})
		}
		for _, ip := range notReady {
			sub.NotReadyAddresses = append(sub.NotReadyAddresses, corev1.EndpointAddress{IP: ip})
		}
		ep.Subsets = []corev1.EndpointSubset{sub}
		if _, err := cs.CoreV1().Endpoints("default").Create(ctx, ep, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	port := []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}
	web := mkSvc(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: port, Selector: map[string]string{"a": "b"}}},
		[]string{"10.251.7.1", "10.251.7.2"}, []string{"10.251.7.3"})
	lb := mkSvc(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "lb"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: port, Selector: map[string]string{"a": "b"}}},
		[]string{"10.251.7.1"}, nil)
	mkSvc(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Spec: corev1.ServiceSpec{ClusterIP: "None", Ports: port, Selector: map[string]string{"a": "b"}}},
		[]string{"10.251.7.1", "10.251.7.2"}, nil)
	if _, err := cs.CoreV1().Services("default").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "ext", Namespace: "default"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.org"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dnsIP := "10.96.0.10"
	// An upstream on the host's loopback: the cluster DNS forwards from
	// the host's network, so Pods resolve through it.
	upstream := fakeUpstream(t, "upstream.test.", "192.0.2.10")
	var proxyLog lockedBuffer
	go func() {
		_ = (&Proxy{Client: cs, Net: netw, Mode: mode, Log: slog.New(slog.NewTextHandler(&proxyLog, nil))}).Run(ctx)
	}()
	go func() { _ = (&DNS{Client: cs, Net: netw, Address: dnsIP, Upstream: []string{upstream}}).Run(ctx) }()

	// The cluster IP, from inside the cluster network, reaches both ready
	// backends (new connections round robin) and never the not-ready one.
	get := func(dial func(context.Context, string, string) (net.Conn, error), url string) (string, error) {
		c := &http.Client{Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}, Timeout: 3 * time.Second}
		resp, err := c.Get(url)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	seen := map[string]int{}
	deadline := time.Now().Add(20 * time.Second)
	for len(seen) < 2 || seen["total"] < 10 {
		body, err := get(netw.DialContext, "http://"+web.Spec.ClusterIP+"/")
		if err != nil {
			if time.Now().After(deadline) {
				t.Fatalf("cluster IP %s: %v", web.Spec.ClusterIP, err)
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		seen[strings.TrimSpace(body)]++
		seen["total"]++
	}
	if seen["backend 10.251.7.1"] == 0 || seen["backend 10.251.7.2"] == 0 {
		t.Errorf("requests were not spread: %v", seen)
	}
	// The node port, from the host's loopback, the connection joined to
	// the backend's in the kernel (the test runs as root).
	nodePort := web.Spec.Ports[0].NodePort
	if body, err := get((&net.Dialer{}).DialContext, fmt.Sprintf("http://127.0.0.1:%d/", nodePort)); err != nil || !strings.HasPrefix(body, "backend 10.251.7.") {
		t.Errorf("node port %d: %q, %v", nodePort, body, err)
	}
	if l := proxyLog.String(); !strings.Contains(l, `relay="kernel (BPF sockmap)"`) {
		t.Errorf("as root the proxy should join forwarded connections in the kernel; its log:\n%s", l)
	}
	// The LoadBalancer reports 127.0.0.1.
	for {
		s, err := cs.CoreV1().Services("default").Get(ctx, lb.Name, metav1.GetOptions{})
		if err == nil && len(s.Status.LoadBalancer.Ingress) == 1 && s.Status.LoadBalancer.Ingress[0].IP == "127.0.0.1" {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the LoadBalancer never got its address")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// DNS, asked from inside the cluster network.
	ask := func(name string, qtype uint16) *dns.Msg {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		var r *dns.Msg
		err := netw.Do(func() error {
			var err error
			r, _, err = (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, dnsIP+":53")
			return err
		})
		if err != nil {
			t.Fatalf("asking %s: %v", name, err)
		}
		return r
	}
	for ctx.Err() == nil {
		if r := ask("web.default.svc.cluster.local.", dns.TypeA); len(r.Answer) == 1 {
			if a := r.Answer[0].(*dns.A); a.A.String() != web.Spec.ClusterIP {
				t.Errorf("web's A is %s, want %s", a.A, web.Spec.ClusterIP)
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := ask("db.default.svc.cluster.local.", dns.TypeA); len(r.Answer) != 2 {
		t.Errorf("headless db: %v", r.Answer)
	}
	if r := ask("web-1.db.default.svc.cluster.local.", dns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "10.251.7.2" {
		t.Errorf("web-1.db: %v", r.Answer)
	}
	if r := ask("_http._tcp.web.default.svc.cluster.local.", dns.TypeSRV); len(r.Answer) != 1 || r.Answer[0].(*dns.SRV).Port != 80 {
		t.Errorf("SRV: %v", r.Answer)
	}
	if r := ask("ext.default.svc.cluster.local.", dns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*dns.CNAME).Target != "example.org." {
		t.Errorf("ExternalName: %v", r.Answer)
	}
	if r := ask("10-251-7-1.default.pod.cluster.local.", dns.TypeA); len(r.Answer) != 1 {
		t.Errorf("pod record: %v", r.Answer)
	}
	for _, n := range []string{"nothere.default.svc.cluster.local.", "example.com."} {
		if r := ask(n, dns.TypeA); r.Rcode != dns.RcodeNameError {
			t.Errorf("%s: rcode %d, want NXDOMAIN", n, r.Rcode)
		}
	}
	if r := ask("upstream.test.", dns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.10" {
		t.Errorf("a name outside the cluster, through the upstream: rcode %d %v", r.Rcode, r.Answer)
	}
	rev, _ := dns.ReverseAddr(web.Spec.ClusterIP)
	if r := ask(rev, dns.TypePTR); len(r.Answer) != 1 || r.Answer[0].(*dns.PTR).Ptr != "web.default.svc.cluster.local." {
		t.Errorf("PTR of web's cluster IP: rcode %d %v", r.Rcode, r.Answer)
	}
}

// fakeUpstream serves DNS on the host's loopback (UDP), answering name
// with ip and everything else NXDOMAIN; it returns its address.
func fakeUpstream(t *testing.T, name, ip string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		if q := req.Question[0]; q.Name == name && q.Qtype == dns.TypeA {
			m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP(ip)}}
		} else {
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

// backends makes a cluster network ns (10.251.0.0/16) with an HTTP server
// on port 8080 of each address, answering "backend IP PATH", the request's
// X-Forwarded-Proto after a space.
func backends(t *testing.T, ctx context.Context, ns string, ips ...string) *node.Network {
	t.Helper()
	netw := &node.Network{NS: ns, Bridge: "pkgp0", CIDR: "10.251.0.0/16"}
	if err := netw.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	for _, ip := range ips {
		if err := ipn(ctx, ns, "addr", "add", ip+"/32", "dev", "lo"); err != nil {
			t.Fatal(err)
		}
		var ln net.Listener
		if err := netw.Do(func() error { var err error; ln, err = net.Listen("tcp", ip+":8080"); return err }); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/" {
					fmt.Fprintf(w, "backend %s\n", ip)
					return
				}
				fmt.Fprintf(w, "backend %s %s %s\n", ip, r.URL.Path, r.Header.Get("X-Forwarded-Proto"))
			}))
		}()
	}
	return netw
}

// lockedBuffer is a log destination tests read while the logger writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
