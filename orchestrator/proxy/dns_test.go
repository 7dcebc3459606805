package proxy

import (
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	corelisters "k8s.io/client-go/listers/core/v1"
)

// dnsOver is a DNS server over fixed Services and Endpoints, with no
// network: its answers are read from reply.
func dnsOver(t *testing.T, objs ...any) *DNS {
	t.Helper()
	svcs := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	eps := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *corev1.Service:
			err = svcs.Add(o)
		case *corev1.Endpoints:
			err = eps.Add(o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return &DNS{services: corelisters.NewServiceLister(svcs), endpoints: corelisters.NewEndpointsLister(eps)}
}

func ask(d *DNS, name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return d.reply(m, "udp")
}

func dnsFixture(t *testing.T) *DNS {
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Namespace: "shop"} }
	return dnsOver(t,
		&corev1.Service{ObjectMeta: meta("web"), Spec: corev1.ServiceSpec{ClusterIP: "10.96.3.4", ClusterIPs: []string{"10.96.3.4"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80}, {Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}}}},
		&corev1.Endpoints{ObjectMeta: meta("web"), Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: "10.244.0.7"}},
			Ports:     []corev1.EndpointPort{{Name: "http", Port: 8080}}}}},
		&corev1.Service{ObjectMeta: meta("db"), Spec: corev1.ServiceSpec{ClusterIP: "None",
			Ports: []corev1.ServicePort{{Name: "pg", Port: 5432}}}},
		&corev1.Endpoints{ObjectMeta: meta("db"), Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: "10.244.0.8", Hostname: "db-0"}, {IP: "10.244.0.9"}},
			Ports:     []corev1.EndpointPort{{Name: "pg", Port: 5432}}}}},
	)
}

// PTR records, as CoreDNS's kubernetes plugin answers them: a cluster IP
// names its Service, an endpoint's address the endpoint under its
// Service; an address the cluster does not know is NXDOMAIN without an
// upstream.
func TestDNSReverse(t *testing.T) {
	d := dnsFixture(t)
	for _, tc := range []struct{ ip, want string }{
		{"10.96.3.4", "web.shop.svc.cluster.local."},
		{"10.244.0.8", "db-0.db.shop.svc.cluster.local."},
		{"10.244.0.9", "10-244-0-9.db.shop.svc.cluster.local."},
		{"10.244.0.7", "10-244-0-7.web.shop.svc.cluster.local."},
	} {
		rev, _ := dns.ReverseAddr(tc.ip)
		r := ask(d, rev, dns.TypePTR)
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.PTR).Ptr != tc.want {
			t.Errorf("PTR %s: rcode %d %v, want %s", tc.ip, r.Rcode, r.Answer, tc.want)
		}
	}
	rev, _ := dns.ReverseAddr("192.0.2.1")
	if r := ask(d, rev, dns.TypePTR); r.Rcode != dns.RcodeNameError {
		t.Errorf("PTR of an unknown address: rcode %d %v, want NXDOMAIN", r.Rcode, r.Answer)
	}
	// The endpoint names a PTR gives resolve forward.
	if r := ask(d, "10-244-0-9.db.shop.svc.cluster.local.", dns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "10.244.0.9" {
		t.Errorf("A of a dashed endpoint name: %v", r.Answer)
	}
	if ip := reverseIP(strings.ToLower(mustReverse(t, "2001:db8::1"))); !ip.Equal(net.ParseIP("2001:db8::1")) {
		t.Errorf("ip6.arpa name parsed as %v", ip)
	}
}

func mustReverse(t *testing.T, ip string) string {
	r, err := dns.ReverseAddr(ip)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// SRV records: per port of a Service with a cluster IP, per endpoint of
// a headless one (with the endpoints' addresses as additional records).
func TestDNSSRV(t *testing.T) {
	d := dnsFixture(t)
	r := ask(d, "_dns._udp.web.shop.svc.cluster.local.", dns.TypeSRV)
	if len(r.Answer) != 1 || r.Answer[0].(*dns.SRV).Port != 53 || r.Answer[0].(*dns.SRV).Target != "web.shop.svc.cluster.local." {
		t.Errorf("SRV of a UDP port: %v", r.Answer)
	}
	if r := ask(d, "web.shop.svc.cluster.local.", dns.TypeSRV); len(r.Answer) != 2 {
		t.Errorf("SRV of every port: %v", r.Answer)
	}
	r = ask(d, "_pg._tcp.db.shop.svc.cluster.local.", dns.TypeSRV)
	targets := map[string]uint16{}
	for _, rr := range r.Answer {
		targets[rr.(*dns.SRV).Target] = rr.(*dns.SRV).Port
	}
	if len(targets) != 2 || targets["db-0.db.shop.svc.cluster.local."] != 5432 || targets["10-244-0-9.db.shop.svc.cluster.local."] != 5432 {
		t.Errorf("headless SRV: %v", r.Answer)
	}
	if len(r.Extra) != 2 {
		t.Errorf("headless SRV additional records: %v", r.Extra)
	}
	if r := ask(d, "_nope._tcp.db.shop.svc.cluster.local.", dns.TypeSRV); r.Rcode != dns.RcodeNameError {
		t.Errorf("SRV of a port the Service lacks: rcode %d", r.Rcode)
	}
}

// Negative answers under the cluster domain carry the zone's SOA;
// AAAA of an IPv4-only name is an empty NOERROR, not NXDOMAIN.
func TestDNSNegative(t *testing.T) {
	d := dnsFixture(t)
	r := ask(d, "nothere.shop.svc.cluster.local.", dns.TypeA)
	if r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA || !r.Authoritative {
		t.Errorf("missing name: rcode %d ns %v", r.Rcode, r.Ns)
	}
	r = ask(d, "web.shop.svc.cluster.local.", dns.TypeAAAA)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 {
		t.Errorf("AAAA of an IPv4 Service: rcode %d %v", r.Rcode, r.Answer)
	}
	if r := ask(d, "example.com.", dns.TypeA); r.Rcode != dns.RcodeNameError || r.Authoritative {
		t.Errorf("outside the cluster, no upstream: rcode %d", r.Rcode)
	}
}

// With an upstream, names outside the cluster domain and reverse names
// the cluster does not know are forwarded; cluster names never are.
func TestDNSUpstream(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	asked := make(chan string, 10)
	up := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		asked <- req.Question[0].Name
		m := new(dns.Msg)
		m.SetReply(req)
		if req.Question[0].Qtype == dns.TypeA {
			m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: req.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP("192.0.2.10")}}
		} else {
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = up.ActivateAndServe() }()
	defer up.Shutdown()

	d := dnsFixture(t)
	// A dead server first: the next is tried.
	dead, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.LocalAddr().String()
	dead.Close()
	d.Upstream = []string{deadAddr, pc.LocalAddr().String()}

	r := ask(d, "example.com.", dns.TypeA)
	if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.10" {
		t.Fatalf("forwarded A: rcode %d %v", r.Rcode, r.Answer)
	}
	if got := <-asked; got != "example.com." {
		t.Errorf("upstream was asked %q", got)
	}
	rev, _ := dns.ReverseAddr("192.0.2.1")
	if r := ask(d, rev, dns.TypePTR); r.Rcode != dns.RcodeNameError {
		t.Errorf("forwarded PTR: rcode %d", r.Rcode)
	}
	if got := <-asked; got != rev {
		t.Errorf("upstream was asked %q, want %q", got, rev)
	}
	if r := ask(d, "nothere.shop.svc.cluster.local.", dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Errorf("a missing cluster name: rcode %d", r.Rcode)
	}
	select {
	case got := <-asked:
		t.Errorf("a cluster name went upstream: %s", got)
	default:
	}
	// Every upstream down: SERVFAIL, not a made-up NXDOMAIN.
	d.Upstream = []string{deadAddr}
	if r := ask(d, "example.com.", dns.TypeA); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("no upstream answering: rcode %d, want SERVFAIL", r.Rcode)
	}
}
