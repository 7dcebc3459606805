package proxy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// DefaultDomain is the cluster's DNS domain.
const DefaultDomain = "cluster.local"

// DNS answers for Services and Pods under the cluster domain, as CoreDNS's
// kubernetes plugin does: SERVICE.NS.svc (the cluster IP, or a headless
// Service's ready Pod IPs, or an ExternalName's CNAME),
// HOSTNAME.SERVICE.NS.svc (a StatefulSet's Pods), A-B-C-D.NS.pod, and SRV
// records for named ports. Other names get NXDOMAIN at once: there is no
// upstream here.
type DNS struct {
	Client kubernetes.Interface
	// Net is the cluster network the server listens in.
	Net Netns
	// Address is where it listens (the kube-dns Service's cluster IP).
	Address string
	// Domain is the cluster domain; "" means cluster.local.
	Domain string
	Log    *slog.Logger

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
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	for _, q := range req.Question {
		rrs, found := d.answer(q)
		if !found {
			m.Rcode = dns.RcodeNameError
			continue
		}
		m.Answer = append(m.Answer, rrs...)
	}
	_ = w.WriteMsg(m)
}

// answer resolves one question; found is false for a name that does not
// exist (NXDOMAIN), true with no records for a name without that type.
func (d *DNS) answer(q dns.Question) ([]dns.RR, bool) {
	name := strings.ToLower(dns.Fqdn(q.Name))
	suffix := "." + d.domain() + "."
	if !strings.HasSuffix(name, suffix) {
		return nil, false
	}
	labels := strings.Split(strings.TrimSuffix(name, suffix), ".")
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: q.Name, Rrtype: t, Class: dns.ClassINET, Ttl: 5}
	}
	a := func(ip string) []dns.RR {
		p := net.ParseIP(ip)
		switch {
		case p == nil:
			return nil
		case p.To4() != nil && q.Qtype == dns.TypeA:
			return []dns.RR{&dns.A{Hdr: hdr(dns.TypeA), A: p.To4()}}
		case p.To4() == nil && q.Qtype == dns.TypeAAAA:
			return []dns.RR{&dns.AAAA{Hdr: hdr(dns.TypeAAAA), AAAA: p}}
		}
		return nil
	}
	n := len(labels)
	switch {
	case n == 3 && labels[2] == "pod":
		// A-B-C-D.NS.pod
		return a(strings.ReplaceAll(labels[0], "-", ".")), net.ParseIP(strings.ReplaceAll(labels[0], "-", ".")) != nil
	case n >= 3 && labels[n-1] == "svc":
		ns, svcName := labels[n-2], labels[n-3]
		svc, err := d.services.Services(ns).Get(svcName)
		if err != nil {
			return nil, false
		}
		rest := labels[:n-3]
		switch {
		case len(rest) == 0:
			if svc.Spec.Type == corev1.ServiceTypeExternalName {
				return []dns.RR{&dns.CNAME{Hdr: hdr(dns.TypeCNAME), Target: dns.Fqdn(svc.Spec.ExternalName)}}, true
			}
			if svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone {
				return a(svc.Spec.ClusterIP), true
			}
			var out []dns.RR
			for _, addr := range d.ready(ns, svcName) {
				out = append(out, a(addr.IP)...)
			}
			return out, true
		case len(rest) == 1:
			// HOSTNAME.SERVICE.NS.svc (StatefulSet Pods of a headless Service).
			for _, addr := range d.ready(ns, svcName) {
				if addr.Hostname == rest[0] {
					return a(addr.IP), true
				}
			}
			return nil, false
		case len(rest) == 2 && strings.HasPrefix(rest[0], "_") && strings.HasPrefix(rest[1], "_") && q.Qtype == dns.TypeSRV:
			// _PORT._PROTO.SERVICE.NS.svc
			port, proto := rest[0][1:], strings.ToUpper(rest[1][1:])
			for _, sp := range svc.Spec.Ports {
				p := string(sp.Protocol)
				if p == "" {
					p = "TCP"
				}
				if sp.Name == port && p == proto {
					target := dns.Fqdn(svcName + "." + ns + ".svc." + d.domain())
					return []dns.RR{&dns.SRV{Hdr: hdr(dns.TypeSRV), Priority: 0, Weight: 100, Port: uint16(sp.Port), Target: target}}, true
				}
			}
			return nil, false
		}
	}
	return nil, false
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
