package proxy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// DefaultDomain is the cluster's DNS domain.
const DefaultDomain = "cluster.local"

// DNS answers for Services and Pods under the cluster domain, as CoreDNS's
// kubernetes plugin does: SERVICE.NS.svc (the cluster IP, or a headless
// Service's ready Pod IPs, or an ExternalName's CNAME),
// HOSTNAME.SERVICE.NS.svc (a StatefulSet's Pods, or A-B-C-D for an
// endpoint without a hostname), A-B-C-D.NS.pod, SRV records for a
// Service's ports (per endpoint for a headless Service), and PTR records
// for cluster IPs and endpoint addresses. Other names go to Upstream;
// with none they get NXDOMAIN at once.
type DNS struct {
	Client kubernetes.Interface
	// Net is the cluster network the server listens in.
	Net Netns
	// Address is where it listens (the kube-dns Service's cluster IP).
	Address string
	// Domain is the cluster domain; "" means cluster.local.
	Domain string
	// Upstream are the servers (IP:port) that names outside the cluster
	// domain, and reverse names of addresses the cluster does not know,
	// are forwarded to, tried in turn; none answers them NXDOMAIN.
	Upstream []string
	Log      *slog.Logger

	services  corelisters.ServiceLister
	endpoints corelisters.EndpointsLister
}

func (d *DNS) domain() string {
	if d.Domain == "" {
		return DefaultDomain
	}
	return d.Domain
}

func (d *DNS) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Run serves DNS on Address (UDP and TCP port 53) until ctx ends.
func (d *DNS) Run(ctx context.Context) error {
	f := informers.NewSharedInformerFactory(d.Client, 0)
	d.services = f.Core().V1().Services().Lister()
	d.endpoints = f.Core().V1().Endpoints().Lister()
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	path := d.Net.Path()
	ns := path[strings.LastIndex(path, "/")+1:]
	if err := ensureDummy(ctx, ns); err != nil {
		return fmt.Errorf("cluster DNS: %w", err)
	}
	if err := ipn(ctx, ns, "addr", "replace", d.Address+"/32", "dev", dummy); err != nil {
		return fmt.Errorf("cluster DNS: %w", err)
	}
	addr := net.JoinHostPort(d.Address, "53")
	var pc net.PacketConn
	var ln net.Listener
	err := d.Net.Do(func() error {
		var err error
		if pc, err = net.ListenPacket("udp", addr); err != nil {
			return err
		}
		ln, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		if pc != nil {
			pc.Close()
		}
		return fmt.Errorf("cluster DNS on %s: %w", addr, err)
	}
	h := dns.HandlerFunc(d.serve)
	udp := &dns.Server{PacketConn: pc, Handler: h}
	tcp := &dns.Server{Listener: ln, Handler: h}
	go func() { _ = udp.ActivateAndServe() }()
	go func() { _ = tcp.ActivateAndServe() }()
	d.log().Info("cluster DNS serving", "address", addr, "domain", d.domain())
	<-ctx.Done()
	_ = udp.Shutdown()
	_ = tcp.Shutdown()
	f.Shutdown()
	return nil
}

func (d *DNS) serve(w dns.ResponseWriter, req *dns.Msg) {
	_ = w.WriteMsg(d.reply(req, w.RemoteAddr().Network()))
}

// reply answers req, which came over network ("udp" or "tcp"): from the
// cluster's objects when the name is the cluster's, else from Upstream.
func (d *DNS) reply(req *dns.Msg, network string) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	if len(req.Question) != 1 {
		// What every server in use accepts: one question per message.
		m.Rcode = dns.RcodeFormatError
		return m
	}
	q := req.Question[0]
	rrs, extra, found, ours := d.answer(q)
	if !ours && len(d.Upstream) > 0 {
		return d.forward(req, network)
	}
	m.Authoritative = ours
	m.Answer, m.Extra = rrs, extra
	if !found {
		m.Rcode = dns.RcodeNameError
	}
	if len(rrs) == 0 && ours {
		// The zone's SOA lets resolvers cache the negative answer.
		m.Ns = []dns.RR{d.soa()}
	}
	return m
}

// forward asks the upstream servers in turn, over the client's network,
// and relays the first answer; SERVFAIL when none answers.
func (d *DNS) forward(req *dns.Msg, network string) *dns.Msg {
	if network != "tcp" {
		network = "udp"
	}
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	for _, up := range d.Upstream {
		r, _, err := c.Exchange(req, up)
		if err == nil {
			r.Id = req.Id
			return r
		}
		d.log().Debug("cluster DNS: upstream did not answer", "upstream", up, "name", req.Question[0].Name, "err", err)
	}
	m := new(dns.Msg)
	m.SetRcode(req, dns.RcodeServerFailure)
	return m
}

// soa is the cluster zone's SOA record, as CoreDNS gives it.
func (d *DNS) soa() dns.RR {
	zone := dns.Fqdn(d.domain())
	return &dns.SOA{
		Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 5},
		Ns:  "ns.dns." + zone, Mbox: "hostmaster." + zone,
		Serial: uint32(time.Now().Unix()), Refresh: 7200, Retry: 1800, Expire: 86400, Minttl: 5,
	}
}

// answer resolves one question from the cluster's objects. ours says
// the name is the cluster's to answer (under the cluster domain, or the
// reverse name of an address the cluster knows); found is false for a
// name that does not exist (NXDOMAIN), true with no records for a name
// without that type.
func (d *DNS) answer(q dns.Question) (rrs, extra []dns.RR, found, ours bool) {
	name := strings.ToLower(dns.Fqdn(q.Name))
	if strings.HasSuffix(name, ".in-addr.arpa.") || strings.HasSuffix(name, ".ip6.arpa.") {
		target := d.reverse(name)
		if target == "" {
			return nil, nil, false, false
		}
		if q.Qtype != dns.TypePTR {
			return nil, nil, true, true
		}
		return []dns.RR{&dns.PTR{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 5}, Ptr: target}}, nil, true, true
	}
	suffix := "." + d.domain() + "."
	if !strings.HasSuffix(name, suffix) {
		return nil, nil, false, false
	}
	rrs, extra, found = d.inZone(q, strings.Split(strings.TrimSuffix(name, suffix), "."))
	return rrs, extra, found, true
}

// inZone answers q for a name under the cluster domain, given its labels
// before the domain.
func (d *DNS) inZone(q dns.Question, labels []string) ([]dns.RR, []dns.RR, bool) {
	hdrOf := func(name string, t uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: 5}
	}
	addrOf := func(name, ip string, qtype uint16) []dns.RR {
		p := net.ParseIP(ip)
		switch {
		case p == nil:
			return nil
		case p.To4() != nil && qtype == dns.TypeA:
			return []dns.RR{&dns.A{Hdr: hdrOf(name, dns.TypeA), A: p.To4()}}
		case p.To4() == nil && qtype == dns.TypeAAAA:
			return []dns.RR{&dns.AAAA{Hdr: hdrOf(name, dns.TypeAAAA), AAAA: p}}
		}
		return nil
	}
	a := func(ip string) []dns.RR { return addrOf(q.Name, ip, q.Qtype) }
	n := len(labels)
	switch {
	case n == 3 && labels[2] == "pod":
		// A-B-C-D.NS.pod
		ip := strings.ReplaceAll(labels[0], "-", ".")
		return a(ip), nil, net.ParseIP(ip) != nil
	case n >= 3 && labels[n-1] == "svc":
		ns, svcName := labels[n-2], labels[n-3]
		svc, err := d.services.Services(ns).Get(svcName)
		if err != nil {
			return nil, nil, false
		}
		svcFQDN := dns.Fqdn(svcName + "." + ns + ".svc." + d.domain())
		headless := svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone
		rest := labels[:n-3]
		switch {
		case len(rest) == 0 && svc.Spec.Type == corev1.ServiceTypeExternalName:
			return []dns.RR{&dns.CNAME{Hdr: hdrOf(q.Name, dns.TypeCNAME), Target: dns.Fqdn(svc.Spec.ExternalName)}}, nil, true
		case len(rest) == 0 && q.Qtype == dns.TypeSRV:
			out, extra := d.srv(q.Name, svc, ns, svcFQDN, headless, "", "", addrOf)
			return out, extra, true
		case len(rest) == 0 && !headless:
			return a(svc.Spec.ClusterIP), nil, true
		case len(rest) == 0:
			var out []dns.RR
			for _, addr := range d.ready(ns, svcName) {
				out = append(out, a(addr.IP)...)
			}
			return out, nil, true
		case len(rest) == 1:
			// HOSTNAME.SERVICE.NS.svc: a StatefulSet's Pods of a headless
			// Service, or an endpoint without a hostname as A-B-C-D.
			for _, addr := range d.ready(ns, svcName) {
				if endpointName(addr) == rest[0] {
					return a(addr.IP), nil, true
				}
			}
			return nil, nil, false
		case len(rest) == 2 && strings.HasPrefix(rest[0], "_") && strings.HasPrefix(rest[1], "_"):
			// _PORT._PROTO.SERVICE.NS.svc
			out, extra := d.srv(q.Name, svc, ns, svcFQDN, headless, rest[0][1:], strings.ToUpper(rest[1][1:]), addrOf)
			if len(out) == 0 {
				return nil, nil, false
			}
			if q.Qtype != dns.TypeSRV {
				return nil, nil, true
			}
			return out, extra, true
		}
	}
	return nil, nil, false
}

// srv lists the SRV records of a Service's ports (only port name and
// proto when given): one per port pointing at the Service, or for a
// headless Service one per ready endpoint, with the endpoints' addresses
// as additional records.
func (d *DNS) srv(qname string, svc *corev1.Service, ns, svcFQDN string, headless bool, port, proto string, addrOf func(name, ip string, qtype uint16) []dns.RR) (out, extra []dns.RR) {
	hdr := dns.RR_Header{Name: qname, Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: 5}
	matches := func(name string, p corev1.Protocol) bool {
		if p == "" {
			p = corev1.ProtocolTCP
		}
		return port == "" || name == port && string(p) == proto
	}
	if !headless {
		for _, sp := range svc.Spec.Ports {
			if matches(sp.Name, sp.Protocol) {
				out = append(out, &dns.SRV{Hdr: hdr, Priority: 0, Weight: 100, Port: uint16(sp.Port), Target: svcFQDN})
				extra = append(extra, addrOf(svcFQDN, svc.Spec.ClusterIP, dns.TypeA)...)
			}
		}
		return out, extra
	}
	ep, err := d.endpoints.Endpoints(ns).Get(svc.Name)
	if err != nil {
		return nil, nil
	}
	for _, ss := range ep.Subsets {
		for _, p := range ss.Ports {
			if !matches(p.Name, p.Protocol) {
				continue
			}
			weight := uint16(max(1, 100/max(1, len(ss.Addresses))))
			for _, addr := range ss.Addresses {
				target := endpointName(addr) + "." + svcFQDN
				out = append(out, &dns.SRV{Hdr: hdr, Priority: 0, Weight: weight, Port: uint16(p.Port), Target: target})
				extra = append(extra, addrOf(target, addr.IP, dns.TypeA)...)
				extra = append(extra, addrOf(target, addr.IP, dns.TypeAAAA)...)
			}
		}
	}
	return out, extra
}

// endpointName is an endpoint's name under its Service: its hostname, else
// its address with dashes (10-244-0-5), as CoreDNS names it.
func endpointName(addr corev1.EndpointAddress) string {
	if addr.Hostname != "" {
		return addr.Hostname
	}
	return strings.NewReplacer(".", "-", ":", "-").Replace(addr.IP)
}

// reverse answers a reverse name (in-addr.arpa or ip6.arpa): the name of
// the Service whose cluster IP it is, else of the endpoint with that
// address; "" when the cluster does not know the address.
func (d *DNS) reverse(name string) string {
	ip := reverseIP(name)
	if ip == nil {
		return ""
	}
	svcs, err := d.services.List(labels.Everything())
	if err != nil {
		return ""
	}
	for _, s := range svcs {
		ips := s.Spec.ClusterIPs
		if len(ips) == 0 {
			ips = []string{s.Spec.ClusterIP}
		}
		for _, c := range ips {
			if p := net.ParseIP(c); p != nil && p.Equal(ip) {
				return dns.Fqdn(s.Name + "." + s.Namespace + ".svc." + d.domain())
			}
		}
	}
	eps, err := d.endpoints.List(labels.Everything())
	if err != nil {
		return ""
	}
	for _, ep := range eps {
		for _, ss := range ep.Subsets {
			for _, addr := range ss.Addresses {
				if p := net.ParseIP(addr.IP); p != nil && p.Equal(ip) {
					return dns.Fqdn(endpointName(addr) + "." + ep.Name + "." + ep.Namespace + ".svc." + d.domain())
				}
			}
		}
	}
	return ""
}

// reverseIP is the address a reverse name stands for: 4.3.2.1.in-addr.arpa.
// for 1.2.3.4, 32 nibbles under ip6.arpa. for an IPv6 address; nil for a
// name that is not a whole address.
func reverseIP(name string) net.IP {
	switch {
	case strings.HasSuffix(name, ".in-addr.arpa."):
		parts := strings.Split(strings.TrimSuffix(name, ".in-addr.arpa."), ".")
		if len(parts) != 4 {
			return nil
		}
		slices.Reverse(parts)
		return net.ParseIP(strings.Join(parts, ".")).To4()
	case strings.HasSuffix(name, ".ip6.arpa."):
		nibbles := strings.Split(strings.TrimSuffix(name, ".ip6.arpa."), ".")
		if len(nibbles) != 32 {
			return nil
		}
		slices.Reverse(nibbles)
		var b strings.Builder
		for i, n := range nibbles {
			if len(n) != 1 {
				return nil
			}
			if i > 0 && i%4 == 0 {
				b.WriteByte(':')
			}
			b.WriteString(n)
		}
		return net.ParseIP(b.String())
	}
	return nil
}

// ready lists a Service's ready endpoint addresses.
func (d *DNS) ready(ns, name string) []corev1.EndpointAddress {
	ep, err := d.endpoints.Endpoints(ns).Get(name)
	if err != nil {
		return nil
	}
	var out []corev1.EndpointAddress
	for _, ss := range ep.Subsets {
		out = append(out, ss.Addresses...)
	}
	return out
}

// ResolvConf is the /etc/resolv.conf the kubelet writes for a Pod with
// dnsPolicy ClusterFirst: the cluster DNS server and the search path of
// the Pod's namespace.
func ResolvConf(namespace, server, domain string) string {
	if domain == "" {
		domain = DefaultDomain
	}
	return "search " + namespace + ".svc." + domain + " svc." + domain + " " + domain + "\nnameserver " + server + "\noptions ndots:5\n"
}
