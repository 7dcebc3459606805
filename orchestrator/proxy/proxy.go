package proxy

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// Netns is the cluster network as the proxy uses it.
type Netns interface {
	// Path is the namespace's path, for iproute2.
	Path() string
	// Do runs f inside the namespace (listeners it opens live there).
	Do(f func() error) error
	// DialContext connects from inside the namespace.
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Proxy serves every Service's cluster IP and ports (and node ports on
// the host's loopback) until its context ends.
type Proxy struct {
	Client kubernetes.Interface
	Net    Netns
	Log    *slog.Logger

	mu        sync.Mutex
	endpoints corelisters.EndpointsLister
	listeners map[string]*listener // by "ip:port" or "host:port"
	addrs     map[string]bool      // cluster IPs on the dummy interface
}

// listener is one proxied address.
type listener struct {
	ln      net.Listener
	ns, svc string
	port    corev1.ServicePort
	next    atomic.Uint64
	sticky  bool
	affMu   sync.Mutex
	aff     map[string]string // client IP → endpoint
}

const dummy = "lo"

// The cluster DNS Service, served by DNS rather than proxied.
const (
	DNSNamespace = "kube-system"
	DNSService   = "kube-dns"
)

func (p *Proxy) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (p *Proxy) nsName() string {
	path := p.Net.Path()
	return path[strings.LastIndex(path, "/")+1:]
}

// Run proxies until ctx ends.
func (p *Proxy) Run(ctx context.Context) error {
	p.listeners = map[string]*listener{}
	p.addrs = map[string]bool{}
	if err := ensureDummy(ctx, p.nsName()); err != nil {
		return fmt.Errorf("service proxy: %w", err)
	}
	f := informers.NewSharedInformerFactory(p.Client, 0)
	svcs := f.Core().V1().Services()
	eps := f.Core().V1().Endpoints()
	p.endpoints = eps.Lister()
	sync := func(any) { p.sync(ctx, svcs.Lister()) }
	for _, inf := range []cache.SharedIndexInformer{svcs.Informer(), eps.Informer()} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: sync, UpdateFunc: func(_, o any) { sync(o) }, DeleteFunc: sync,
		}); err != nil {
			return err
		}
	}
	f.Start(ctx.Done())
	<-ctx.Done()
	f.Shutdown()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.listeners {
		l.ln.Close()
	}
	return nil
}

// ensureDummy readies the interface that holds the cluster IPs in the
// cluster network: its loopback, which every kernel has (a dummy
// interface needs a module some kernels lack). An address there is local
// to the cluster network, so Pods reach it through their gateway.
func ensureDummy(ctx context.Context, ns string) error {
	return ipn(ctx, ns, "link", "set", dummy, "up")
}

func ipn(ctx context.Context, ns string, args ...string) error {
	out, err := exec.CommandContext(ctx, "ip", append([]string{"-n", ns}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip -n %s %s: %v: %s", ns, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// sync makes the listeners match the Services.
func (p *Proxy) sync(ctx context.Context, lister corelisters.ServiceLister) {
	svcs, err := lister.List(labels.Everything())
	if err != nil {
		return
	}
	want := map[string]*corev1.Service{}
	ports := map[string]corev1.ServicePort{}
	host := map[string]bool{}
	for _, s := range svcs {
		if s.Spec.Type == corev1.ServiceTypeExternalName || (s.Namespace == DNSNamespace && s.Name == DNSService) {
			continue // names, and the DNS server's own address
		}
		for _, sp := range s.Spec.Ports {
			if sp.Protocol != "" && sp.Protocol != corev1.ProtocolTCP {
				continue
			}
			if ip := s.Spec.ClusterIP; ip != "" && ip != corev1.ClusterIPNone {
				k := net.JoinHostPort(ip, strconv.Itoa(int(sp.Port)))
				want[k], ports[k] = s, sp
			}
			if sp.NodePort != 0 && (s.Spec.Type == corev1.ServiceTypeNodePort || s.Spec.Type == corev1.ServiceTypeLoadBalancer) {
				k := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(sp.NodePort)))
				want[k], ports[k], host[k] = s, sp, true
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, l := range p.listeners {
		if s, ok := want[k]; !ok || s.Namespace != l.ns || s.Name != l.svc {
			l.ln.Close()
			delete(p.listeners, k)
		}
	}
	for k, s := range want {
		if l, ok := p.listeners[k]; ok {
			l.port, l.sticky = ports[k], s.Spec.SessionAffinity == corev1.ServiceAffinityClientIP
			continue
		}
		l, err := p.listen(ctx, k, host[k])
		if err != nil {
			p.log().Warn("service proxy: cannot listen", "service", s.Namespace+"/"+s.Name, "address", k, "err", err)
			continue
		}
		l.ns, l.svc, l.port = s.Namespace, s.Name, ports[k]
		l.sticky = s.Spec.SessionAffinity == corev1.ServiceAffinityClientIP
		l.aff = map[string]string{}
		p.listeners[k] = l
		go p.serve(l)
		if s.Spec.Type == corev1.ServiceTypeLoadBalancer && host[k] && len(s.Status.LoadBalancer.Ingress) == 0 {
			go p.setLoadBalancer(ctx, s)
		}
	}
}

// listen opens a listener on addr: in the cluster network, after adding
// the cluster IP to the dummy interface, or on the host's loopback.
func (p *Proxy) listen(ctx context.Context, addr string, onHost bool) (*listener, error) {
	if onHost {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, err
		}
		return &listener{ln: ln}, nil
	}
	ip, _, _ := net.SplitHostPort(addr)
	if !p.addrs[ip] {
		if err := ipn(ctx, p.nsName(), "addr", "replace", ip+"/32", "dev", dummy); err != nil {
			return nil, err
		}
		p.addrs[ip] = true
	}
	var ln net.Listener
	err := p.Net.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &listener{ln: ln}, nil
}

// serve accepts connections and forwards each to an endpoint.
func (p *Proxy) serve(l *listener) {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				p.log().Debug("service proxy: accept", "err", err)
			}
			return
		}
		go p.forward(l, c)
	}
}

// endpointsOf lists the ready addresses of the Service for the port.
func (p *Proxy) endpointsOf(l *listener) []string {
	ep, err := p.endpoints.Endpoints(l.ns).Get(l.svc)
	if err != nil {
		return nil
	}
	var out []string
	for _, ss := range ep.Subsets {
		port := int32(0)
		for _, pp := range ss.Ports {
			if pp.Name == l.port.Name || len(ss.Ports) == 1 {
				port = pp.Port
			}
		}
		if port == 0 {
			continue
		}
		for _, a := range ss.Addresses {
			out = append(out, net.JoinHostPort(a.IP, strconv.Itoa(int(port))))
		}
	}
	return out
}

func (p *Proxy) forward(l *listener, c net.Conn) {
	defer c.Close()
	eps := p.endpointsOf(l)
	if len(eps) == 0 {
		return // no ready endpoint: refuse, as a Service without endpoints does
	}
	// Try the endpoints in turn, from the chosen one, until one answers.
	start := int(l.next.Add(1))
	if l.sticky {
		client, _, _ := net.SplitHostPort(c.RemoteAddr().String())
		l.affMu.Lock()
		if ep, ok := l.aff[client]; ok {
			for i, e := range eps {
				if e == ep {
					start = i
				}
			}
		} else {
			h := fnv.New32a()
			h.Write([]byte(client))
			start = int(h.Sum32())
		}
		l.affMu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var up net.Conn
	var chosen string
	for i := 0; i < len(eps) && up == nil; i++ {
		ep := eps[(start+i)%len(eps)]
		conn, err := p.Net.DialContext(ctx, "tcp", ep)
		if err == nil {
			up, chosen = conn, ep
		}
	}
	if up == nil {
		return
	}
	defer up.Close()
	if l.sticky {
		client, _, _ := net.SplitHostPort(c.RemoteAddr().String())
		l.affMu.Lock()
		l.aff[client] = chosen
		l.affMu.Unlock()
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); closeWrite(up); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); closeWrite(c); done <- struct{}{} }()
	<-done
	<-done
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

// setLoadBalancer reports the LoadBalancer Service's loopback address, so
// that clients (and Helm's --wait) see it provisioned.
func (p *Proxy) setLoadBalancer(ctx context.Context, s *corev1.Service) {
	cur, err := p.Client.CoreV1().Services(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
	if err != nil {
		return
	}
	var ports []corev1.PortStatus
	for _, sp := range cur.Spec.Ports {
		ports = append(ports, corev1.PortStatus{Port: sp.NodePort, Protocol: sp.Protocol})
	}
	cur.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "127.0.0.1", Ports: ports}}
	if _, err := p.Client.CoreV1().Services(s.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
		p.log().Warn("service proxy: setting the load balancer status", "service", s.Namespace+"/"+s.Name, "err", err)
	}
}
