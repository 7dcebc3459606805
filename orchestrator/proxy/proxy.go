package proxy

import (
	"context"
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
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// Netns is the cluster network as the proxy uses it.
type Netns interface {
	// Path is the namespace's path, for iproute2; "" for the host's own
	// network (the no-root fallback, see HostNetwork).
	Path() string
	// Do runs f inside the namespace (listeners it opens live there).
	Do(f func() error) error
	// DialContext connects from inside the namespace.
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// How cluster IPs are served.
const (
	// ModeAuto uses nftables when the nft command is found, else the
	// user-space proxy.
	ModeAuto = ""
	// ModeNftables DNATs TCP cluster IPs in the kernel, with rules in the
	// cluster network namespace only.
	ModeNftables = "nftables"
	// ModeUserspace forwards every connection in the orchestrator.
	ModeUserspace = "userspace"
)

// Proxy serves every Service's cluster IP and ports (and node ports on
// the host's loopback) until its context ends.
type Proxy struct {
	Client kubernetes.Interface
	Net    Netns
	Log    *slog.Logger
	// Mode is ModeAuto, ModeNftables or ModeUserspace.
	Mode string
	// NodeAddress is the host address node ports listen on; "" means
	// 127.0.0.1.
	NodeAddress string
	// NoSplice relays forwarded TCP connections in user space even where
	// the kernel could join them (see splicer).
	NoSplice bool

	mu        sync.Mutex
	services  corelisters.ServiceLister
	endpoints corelisters.EndpointsLister
	pods      corelisters.PodLister
	listeners map[string]*listener // by "tcp/ip:port"
	addrs     map[string]bool      // cluster IPs on the cluster network's loopback
	kernel    *nftRules
	events    *recorder
	orphaned  map[string]time.Time // Service key → first seen with no Pod
	lbPending sync.Map             // Service UID → its status update is under way
	kick      chan struct{}
	splice    *splicer // nil: forwarded connections are relayed in user space
}

// listener is one proxied address and protocol.
type listener struct {
	proto  corev1.Protocol
	ln     net.Listener   // TCP
	pc     net.PacketConn // UDP
	onHost bool
	ns     string
	svc    string
	next   atomic.Uint64

	mu     sync.Mutex
	port   corev1.ServicePort
	sticky bool
	ttl    time.Duration
	aff    map[string]affinity // client IP → endpoint
	flows  map[string]*udpFlow // UDP client address → its flow
}

type affinity struct {
	ep    string
	until time.Time
}

func (l *listener) close() {
	if l.ln != nil {
		l.ln.Close()
	}
	if l.pc != nil {
		l.pc.Close()
	}
	l.mu.Lock()
	for _, f := range l.flows {
		f.up.Close()
	}
	l.mu.Unlock()
}

// The loopback of the cluster network holds the cluster IPs: an address
// there is local to the cluster network, so Pods reach it through their
// gateway (a dummy interface needs a module some kernels lack).
const dummy = "lo"

// The cluster DNS Service, served by DNS rather than proxied.
const (
	DNSNamespace = "kube-system"
	DNSService   = "kube-dns"
)

// defaultAffinityTimeout is sessionAffinityConfig.clientIP.timeoutSeconds
// when unset, as Kubernetes defaults it (3 hours).
const defaultAffinityTimeout = 10800 * time.Second

func (p *Proxy) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// hostNetwork tells whether there is no cluster network namespace: the
// no-root fallback, where only node ports and load balancers are served.
func (p *Proxy) hostNetwork() bool { return p.Net.Path() == "" }

func (p *Proxy) nsName() string {
	path := p.Net.Path()
	return path[strings.LastIndex(path, "/")+1:]
}

func (p *Proxy) nodeAddress() string {
	if p.NodeAddress == "" {
		return "127.0.0.1"
	}
	return p.NodeAddress
}

// Run proxies until ctx ends.
func (p *Proxy) Run(ctx context.Context) error {
	p.listeners = map[string]*listener{}
	p.addrs = map[string]bool{}
	p.orphaned = map[string]time.Time{}
	p.kick = make(chan struct{}, 1)
	p.events = newRecorder(p.Client, "service-proxy", p.log())
	if !p.hostNetwork() {
		if err := ensureDummy(ctx, p.nsName()); err != nil {
			return fmt.Errorf("service proxy: %w", err)
		}
		k, err := p.chooseKernel(ctx)
		if err != nil {
			return fmt.Errorf("service proxy: %w", err)
		}
		p.kernel = k
	}
	mode := "userspace"
	if p.kernel != nil {
		mode = "nftables"
		defer p.kernel.remove(context.WithoutCancel(ctx))
	}
	if p.hostNetwork() {
		mode = "host network (node ports and load balancers only)"
	}
	relay, why := "user space", "--userspace-relay"
	if !p.NoSplice {
		if s, err := newSplicer(); err != nil {
			why = err.Error()
		} else {
			p.splice = s
			defer s.close()
			relay, why = "kernel (BPF sockmap)", ""
		}
	}
	if why != "" {
		p.log().Info("service proxy", "mode", mode, "relay", relay, "why", why)
	} else {
		p.log().Info("service proxy", "mode", mode, "relay", relay)
	}
	f := informers.NewSharedInformerFactory(p.Client, 0)
	svcs := f.Core().V1().Services()
	eps := f.Core().V1().Endpoints()
	pods := f.Core().V1().Pods()
	p.services, p.endpoints, p.pods = svcs.Lister(), eps.Lister(), pods.Lister()
	kick := func(any) {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
	for _, inf := range []cache.SharedIndexInformer{svcs.Informer(), eps.Informer(), pods.Informer()} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: kick, UpdateFunc: func(_, o any) { kick(o) }, DeleteFunc: kick,
		}); err != nil {
			return err
		}
	}
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	// Every change syncs at once; a slow tick retries what failed (a node
	// port taken on the host) and reports Services left without Pods.
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for ctx.Err() == nil {
		p.sync(ctx)
		select {
		case <-ctx.Done():
		case <-p.kick:
		case <-tick.C:
		}
	}
	f.Shutdown()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.listeners {
		l.close()
	}
	return nil
}

// chooseKernel sets up the nftables rules when the mode allows and nft
// is there; nil means the user-space proxy serves cluster IPs.
func (p *Proxy) chooseKernel(ctx context.Context) (*nftRules, error) {
	if p.Mode == ModeUserspace {
		return nil, nil
	}
	if _, err := exec.LookPath("nft"); err != nil {
		if p.Mode == ModeNftables {
			return nil, fmt.Errorf("mode nftables: the nft command (Debian's nftables package) is not installed")
		}
		p.log().Info("service proxy: nft not found, cluster IPs are served by the user-space proxy")
		return nil, nil
	}
	k := &nftRules{ns: p.nsName(), net: p.Net}
	if err := k.init(ctx); err != nil {
		if p.Mode == ModeNftables {
			return nil, err
		}
		p.log().Warn("service proxy: nftables unusable, cluster IPs are served by the user-space proxy", "err", err)
		return nil, nil
	}
	return k, nil
}

// ensureDummy readies the interface that holds the cluster IPs in the
// cluster network.
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

// wanted is one address a Service should be served on.
type wanted struct {
	svc    *corev1.Service
	port   corev1.ServicePort
	onHost bool
}

func protocolOf(sp corev1.ServicePort) corev1.Protocol {
	if sp.Protocol == "" {
		return corev1.ProtocolTCP
	}
	return sp.Protocol
}

func listenerKey(proto corev1.Protocol, addr string) string {
	return strings.ToLower(string(proto)) + "/" + addr
}

// sync makes the listeners and kernel rules match the Services.
func (p *Proxy) sync(ctx context.Context) {
	svcs, err := p.services.List(labels.Everything())
	if err != nil {
		return
	}
	want := map[string]wanted{}
	var rules []nftService
	for _, s := range svcs {
		if s.Spec.Type == corev1.ServiceTypeExternalName || (s.Namespace == DNSNamespace && s.Name == DNSService) {
			continue // names, and the DNS server's own address
		}
		p.checkSelector(ctx, s)
		clusterIP := s.Spec.ClusterIP
		if clusterIP == corev1.ClusterIPNone || p.hostNetwork() {
			clusterIP = ""
		}
		for _, sp := range s.Spec.Ports {
			proto := protocolOf(sp)
			if proto != corev1.ProtocolTCP && proto != corev1.ProtocolUDP {
				p.events.warn(ctx, s, "Service", "v1", "UnsupportedProtocol", fmt.Sprintf(
					"port %s: protocol %s is not served by the bundled orchestrator's Service proxy (TCP and UDP are); the port is ignored", portLabel(sp), proto))
				continue
			}
			if clusterIP != "" {
				if proto == corev1.ProtocolTCP && p.kernel != nil {
					rules = append(rules, p.nftService(s, sp))
				} else {
					want[listenerKey(proto, net.JoinHostPort(clusterIP, strconv.Itoa(int(sp.Port))))] = wanted{svc: s, port: sp}
				}
			}
			if sp.NodePort != 0 && (s.Spec.Type == corev1.ServiceTypeNodePort || s.Spec.Type == corev1.ServiceTypeLoadBalancer) {
				k := listenerKey(proto, net.JoinHostPort(p.nodeAddress(), strconv.Itoa(int(sp.NodePort))))
				want[k] = wanted{svc: s, port: sp, onHost: true}
			}
		}
	}
	if p.kernel != nil {
		for _, r := range rules {
			if err := p.ensureAddr(ctx, r.ip); err != nil {
				p.log().Warn("service proxy: adding a cluster IP", "service", r.key, "err", err)
			}
		}
		if err := p.kernel.apply(ctx, rules); err != nil {
			p.log().Error("service proxy: applying nftables rules", "err", err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, l := range p.listeners {
		if w, ok := want[k]; !ok || w.svc.Namespace != l.ns || w.svc.Name != l.svc {
			l.close()
			delete(p.listeners, k)
		}
	}
	failed := map[string]bool{}
	portErrs := map[string]map[int32]string{} // Service UID → node port → error
	for k, w := range want {
		s := w.svc
		sticky := s.Spec.SessionAffinity == corev1.ServiceAffinityClientIP
		ttl := affinityTimeout(s)
		if l, ok := p.listeners[k]; ok {
			l.mu.Lock()
			l.port, l.sticky, l.ttl = w.port, sticky, ttl
			l.mu.Unlock()
			continue
		}
		proto, addr, _ := strings.Cut(k, "/")
		l, err := p.listen(ctx, proto, addr, w.onHost)
		if err != nil {
			failed[string(s.UID)] = true
			if w.onHost {
				if portErrs[string(s.UID)] == nil {
					portErrs[string(s.UID)] = map[int32]string{}
				}
				portErrs[string(s.UID)][w.port.NodePort] = portError(err.Error())
			}
			what := fmt.Sprintf("port %s", portLabel(w.port))
			if w.onHost {
				what = fmt.Sprintf("node port %d", w.port.NodePort)
			}
			p.events.warn(ctx, s, "Service", "v1", "FailedToListen", fmt.Sprintf(
				"%s/%s: cannot listen on %s: %v; retrying every few seconds", what, protocolOf(w.port), addr, err))
			continue
		}
		l.proto, l.onHost, l.ns, l.svc, l.port, l.sticky, l.ttl = protocolOf(w.port), w.onHost, s.Namespace, s.Name, w.port, sticky, ttl
		l.aff, l.flows = map[string]affinity{}, map[string]*udpFlow{}
		p.listeners[k] = l
		if l.ln != nil {
			go p.serveTCP(l)
		} else {
			go p.serveUDP(l)
		}
	}
	for _, s := range svcs {
		if !failed[string(s.UID)] {
			p.events.retain(s.UID, func(reason, _ string) bool { return reason != "FailedToListen" })
		}
		if s.Spec.Type == corev1.ServiceTypeLoadBalancer {
			p.ensureLoadBalancer(ctx, s, portErrs[string(s.UID)])
		}
	}
}

func portLabel(sp corev1.ServicePort) string {
	if sp.Name != "" {
		return fmt.Sprintf("%q (%d)", sp.Name, sp.Port)
	}
	return strconv.Itoa(int(sp.Port))
}

func affinityTimeout(s *corev1.Service) time.Duration {
	if c := s.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil && *c.ClientIP.TimeoutSeconds > 0 {
		return time.Duration(*c.ClientIP.TimeoutSeconds) * time.Second
	}
	return defaultAffinityTimeout
}

// checkSelector warns on a Service whose selector has matched no Pod for
// a few seconds: it has no endpoints, and its cluster IP refuses.
func (p *Proxy) checkSelector(ctx context.Context, s *corev1.Service) {
	key := s.Namespace + "/" + s.Name
	if len(s.Spec.Selector) == 0 {
		return
	}
	pods, err := p.pods.Pods(s.Namespace).List(labels.SelectorFromSet(s.Spec.Selector))
	if err != nil || len(pods) > 0 {
		delete(p.orphaned, key)
		p.events.retain(s.UID, func(reason, _ string) bool { return reason != "SelectorMatchesNothing" })
		return
	}
	first, ok := p.orphaned[key]
	if !ok {
		p.orphaned[key] = time.Now()
		return
	}
	if time.Since(first) < 3*time.Second {
		return
	}
	p.events.warn(ctx, s, "Service", "v1", "SelectorMatchesNothing", fmt.Sprintf(
		"selector %s matches no Pod in namespace %s: the Service has no endpoints and connections to it are refused",
		labels.SelectorFromSet(s.Spec.Selector), s.Namespace))
}

// ensureAddr puts a cluster IP on the cluster network's loopback, once.
func (p *Proxy) ensureAddr(ctx context.Context, ip string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.addrs[ip] {
		return nil
	}
	if err := ipn(ctx, p.nsName(), "addr", "replace", ip+"/32", "dev", dummy); err != nil {
		return err
	}
	p.addrs[ip] = true
	return nil
}

// listen opens a listener for proto ("tcp" or "udp") on addr: in the
// cluster network, after adding the cluster IP to its loopback, or on the
// host.
func (p *Proxy) listen(ctx context.Context, proto, addr string, onHost bool) (*listener, error) {
	open := func() (*listener, error) {
		if proto == "udp" {
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				return nil, err
			}
			return &listener{pc: pc}, nil
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, err
		}
		return &listener{ln: ln}, nil
	}
	if onHost {
		return open()
	}
	ip, _, _ := net.SplitHostPort(addr)
	if !p.addrs[ip] {
		if err := ipn(ctx, p.nsName(), "addr", "replace", ip+"/32", "dev", dummy); err != nil {
			return nil, err
		}
		p.addrs[ip] = true
	}
	var l *listener
	err := p.Net.Do(func() error {
		var err error
		l, err = open()
		return err
	})
	return l, err
}

// endpointsOf lists the ready addresses of the Service for the port.
func endpointsOf(lister corelisters.EndpointsLister, ns, svc string, sp corev1.ServicePort) []string {
	ep, err := lister.Endpoints(ns).Get(svc)
	if err != nil {
		return nil
	}
	var out []string
	for _, ss := range ep.Subsets {
		port := int32(0)
		for _, pp := range ss.Ports {
			if pp.Name == sp.Name || len(ss.Ports) == 1 {
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

// order returns the endpoints to try, the chosen one first: the client's
// affine endpoint when it is still ready, else the next in round robin
// (or, with affinity, a hash of the client's address).
func (l *listener) order(client string, eps []string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := int(l.next.Add(1))
	if l.sticky {
		start = -1
		if a, ok := l.aff[client]; ok && time.Now().Before(a.until) {
			for i, e := range eps {
				if e == a.ep {
					start = i
				}
			}
		}
		if start < 0 {
			h := fnv.New32a()
			h.Write([]byte(client))
			start = int(h.Sum32() % uint32(len(eps)))
		}
	}
	out := make([]string, len(eps))
	for i := range eps {
		out[i] = eps[(start+i)%len(eps)]
	}
	return out
}

// remember records the endpoint a client was sent to, for affinity.
func (l *listener) remember(client, ep string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sticky {
		l.aff[client] = affinity{ep: ep, until: time.Now().Add(l.ttl)}
	}
}

func (l *listener) servicePort() corev1.ServicePort {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.port
}

// ensureLoadBalancer reports the LoadBalancer Service's loopback address
// and its node ports, with the error of one that cannot be listened on,
// so that clients (and Helm's --wait) see it provisioned.
func (p *Proxy) ensureLoadBalancer(ctx context.Context, s *corev1.Service, errs map[int32]string) {
	want := corev1.LoadBalancerIngress{IP: p.nodeAddress()}
	for _, sp := range s.Spec.Ports {
		ps := corev1.PortStatus{Port: sp.NodePort, Protocol: protocolOf(sp)}
		if e, ok := errs[sp.NodePort]; ok {
			ps.Error = &e
		}
		want.Ports = append(want.Ports, ps)
	}
	if len(s.Status.LoadBalancer.Ingress) == 1 && apiequality.Semantic.DeepEqual(s.Status.LoadBalancer.Ingress[0], want) {
		return
	}
	if _, busy := p.lbPending.LoadOrStore(s.UID, true); busy {
		return
	}
	go func() {
		defer p.lbPending.Delete(s.UID)
		cur, err := p.Client.CoreV1().Services(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
		if err != nil || cur.UID != s.UID {
			return
		}
		cur.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{want}
		if _, err := p.Client.CoreV1().Services(s.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
			p.log().Warn("service proxy: setting the load balancer status", "service", s.Namespace+"/"+s.Name, "err", err)
		}
	}()
}
