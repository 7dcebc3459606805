package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	netlisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"
)

// IngressClassName is the class the built-in controller serves, made the
// cluster's default.
const IngressClassName = "pkg"

// Ingress is the built-in Ingress controller: an HTTP (and, with TLS
// Secrets, HTTPS) reverse proxy on the host's loopback that routes by
// host and path as the Ingress spec says, to a ready endpoint of the
// backend Service inside the cluster network.
type Ingress struct {
	Client kubernetes.Interface
	Net    Netns
	// HTTPAddr and HTTPSAddr are where it listens, on the host.
	HTTPAddr, HTTPSAddr string
	Log                 *slog.Logger

	ingresses netlisters.IngressLister
	services  corelisters.ServiceLister
	endpoints corelisters.EndpointsLister
	secrets   corelisters.SecretLister
	next      atomic.Uint64
	table     atomic.Pointer[routeTable]
	proxy     *httputil.ReverseProxy // upgrades (websockets) and the rest forwarder leaves
	fwd       *forwarder
	fallback  *tls.Certificate // served for TLS hosts without a usable Secret
	events    *recorder
	kick      chan struct{}

	mu        sync.Mutex
	listenErr map[string]string // address → why it cannot be listened on
}

func (g *Ingress) log() *slog.Logger {
	if g.Log != nil {
		return g.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Run serves until ctx ends. A listen address taken on the host is
// retried every few seconds, with an Event on the Ingresses and the
// error in their status, while the other listener serves.
func (g *Ingress) Run(ctx context.Context) error {
	if err := g.ensureClass(ctx); err != nil {
		g.log().Warn("ingress: creating the default IngressClass", "err", err)
	}
	g.events = newRecorder(g.Client, "ingress-controller", g.log())
	g.kick = make(chan struct{}, 1)
	g.listenErr = map[string]string{}
	cert, err := selfSignedCert()
	if err != nil {
		return fmt.Errorf("ingress: making the default certificate: %w", err)
	}
	g.fallback = cert
	g.proxy = g.newReverseProxy()
	g.fwd = &forwarder{dial: g.Net.DialContext, bufs: g.proxy.BufferPool.(*bufferPool)}
	g.table.Store(&routeTable{})
	f := informers.NewSharedInformerFactory(g.Client, 0)
	ings := f.Networking().V1().Ingresses()
	svcs, eps, secrets := f.Core().V1().Services(), f.Core().V1().Endpoints(), f.Core().V1().Secrets()
	g.ingresses, g.services, g.endpoints, g.secrets = ings.Lister(), svcs.Lister(), eps.Lister(), secrets.Lister()
	kick := func(any) {
		select {
		case g.kick <- struct{}{}:
		default:
		}
	}
	for _, inf := range []cache.SharedIndexInformer{ings.Informer(), svcs.Informer(), eps.Informer(), secrets.Informer()} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: kick, UpdateFunc: func(_, o any) { kick(o) }, DeleteFunc: kick,
		}); err != nil {
			return err
		}
	}
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	g.rebuild(ctx)
	servers := []*http.Server{}
	var smu sync.Mutex
	serve := func(addr string, secure bool) {
		for first := true; ; first = false {
			ln, err := net.Listen("tcp", addr)
			if err == nil {
				g.setListenErr(addr, "")
				srv := &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
				smu.Lock()
				servers = append(servers, srv)
				smu.Unlock()
				if secure {
					srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: g.certificate}
					_ = srv.ServeTLS(ln, "", "")
				} else {
					_ = srv.Serve(ln)
				}
				return
			}
			if first {
				g.log().Warn("ingress: cannot listen; retrying every few seconds", "address", addr, "err", err)
			}
			g.setListenErr(addr, err.Error())
			kick(nil)
			select {
			case <-ctx.Done():
				return
			case <-time.After(3 * time.Second):
			}
		}
	}
	go serve(g.HTTPAddr, false)
	if g.HTTPSAddr != "" {
		go serve(g.HTTPSAddr, true)
	}
	g.log().Info("ingress controller serving", "http", g.HTTPAddr, "https", g.HTTPSAddr)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-g.kick:
			g.rebuild(ctx)
		case <-tick.C:
			g.reportStatus(ctx)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	smu.Lock()
	for _, srv := range servers {
		_ = srv.Shutdown(sctx)
	}
	smu.Unlock()
	f.Shutdown()
	return nil
}

// rebuild makes the routing table anew, reports the Ingresses' problems
// and updates their status.
func (g *Ingress) rebuild(ctx context.Context) {
	t, probs := g.build()
	g.table.Store(t)
	if msg := g.listenProblem(); msg != "" {
		ings, _ := g.ingresses.List(labels.Everything())
		for _, in := range ings {
			if g.ours(in) {
				probs = append(probs, problem{in, "FailedToListen", msg})
			}
		}
	}
	g.report(ctx, probs)
	g.reportStatus(ctx)
}

func (g *Ingress) setListenErr(addr, msg string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if msg == "" {
		delete(g.listenErr, addr)
	} else {
		g.listenErr[addr] = msg
	}
}

// listenProblem says which listen addresses are not served, "" if all.
func (g *Ingress) listenProblem() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, addr := range []string{g.HTTPAddr, g.HTTPSAddr} {
		if e, ok := g.listenErr[addr]; ok {
			out = append(out, fmt.Sprintf("the Ingress controller cannot listen on %s (%s); it retries every few seconds", addr, e))
		}
	}
	return strings.Join(out, "; ")
}

// ensureClass makes IngressClass pkg, the cluster default.
func (g *Ingress) ensureClass(ctx context.Context) error {
	_, err := g.Client.NetworkingV1().IngressClasses().Create(ctx, &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: IngressClassName, Annotations: map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}},
		Spec:       networkingv1.IngressClassSpec{Controller: "pkg.dev/ingress-controller"},
	}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// ours tells whether an Ingress is this controller's: class pkg, or no
// class while pkg is the default.
func (g *Ingress) ours(in *networkingv1.Ingress) bool {
	class := ""
	if in.Spec.IngressClassName != nil {
		class = *in.Spec.IngressClassName
	} else if v := in.Annotations["kubernetes.io/ingress.class"]; v != "" {
		class = v
	}
	return class == "" || class == IngressClassName
}

// ServeHTTP routes one request.
func (g *Ingress) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	be := g.table.Load().lookup(host, r.URL.Path)
	if be == nil {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	if r.TLS == nil && be.tlsHosts[host] && !be.noRedirect {
		target := "https://" + host
		if _, port, err := net.SplitHostPort(g.HTTPSAddr); err == nil && port != "443" {
			target += ":" + port
		}
		http.Redirect(w, r, target+r.URL.RequestURI(), http.StatusPermanentRedirect)
		return
	}
	if len(be.addrs) == 0 {
		http.Error(w, "503 Service Unavailable: "+be.err, http.StatusServiceUnavailable)
		return
	}
	t := target{addr: be.addrs[int(g.next.Add(1)%uint64(len(be.addrs)))], rewrite: be.rewrite}
	if canForward(r) {
		if err := g.fwd.forward(w, r, t); err != nil {
			http.Error(w, "502 Bad Gateway: "+err.Error(), http.StatusBadGateway)
		}
		return
	}
	g.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), targetKey{}, t)))
}

// targetKey carries a request's chosen endpoint to the reverse proxy.
type targetKey struct{}

type target struct {
	addr, rewrite string
}

// newReverseProxy makes the one reverse proxy every request goes
// through, with one pool of kept-alive connections to the backends.
func (g *Ingress) newReverseProxy() *httputil.ReverseProxy {
	transport := &http.Transport{
		DialContext:         g.Net.DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   false,
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			t, _ := pr.In.Context().Value(targetKey{}).(target)
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", t.addr
			if t.rewrite != "" {
				pr.Out.URL.Path = t.rewrite
				pr.Out.URL.RawPath = ""
			}
			pr.SetXForwarded()
			pr.Out.Header["X-Forwarded-Host"] = []string{pr.In.Host}
			pr.Out.Host = pr.In.Host
		},
		Transport:  transport,
		BufferPool: &bufferPool{},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "502 Bad Gateway: "+err.Error(), http.StatusBadGateway)
		},
	}
}

func portString(p networkingv1.ServiceBackendPort) string {
	if p.Name != "" {
		return p.Name
	}
	return strconv.Itoa(int(p.Number))
}

// bufferPool reuses the reverse proxy's copy buffers, which it would
// otherwise allocate (32 KiB) for every response.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

// certificate chooses the TLS certificate by SNI from the Secrets the
// Ingresses name in tls, or the controller's self-signed one.
func (g *Ingress) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if c, ok := g.table.Load().certs[strings.ToLower(hello.ServerName)]; ok {
		return c, nil
	}
	return g.fallback, nil
}

// selfSignedCert makes the certificate served for hosts without a usable
// TLS Secret, as ingress controllers serve a default one.
func selfSignedCert() (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "pkg ingress controller default certificate"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// portError is the status's error for a port that cannot be listened on,
// in the form the API asks of a controller's own values (DOMAIN/CamelCase);
// the Event says the rest.
func portError(msg string) string {
	if strings.Contains(msg, "address already in use") {
		return "pkg.dev/PortInUse"
	}
	return "pkg.dev/FailedToListen"
}

// reportStatus sets status.loadBalancer of this controller's Ingresses:
// 127.0.0.1 and the ports served, with the error of one that cannot be
// listened on, so that clients and helm --wait see them served.
func (g *Ingress) reportStatus(ctx context.Context) {
	want := networkingv1.IngressLoadBalancerIngress{IP: "127.0.0.1"}
	g.mu.Lock()
	for _, addr := range []string{g.HTTPAddr, g.HTTPSAddr} {
		_, port, err := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(port)
		if err != nil || n == 0 {
			continue
		}
		ps := networkingv1.IngressPortStatus{Port: int32(n), Protocol: corev1.ProtocolTCP}
		if e, ok := g.listenErr[addr]; ok {
			reason := portError(e)
			ps.Error = &reason
		}
		want.Ports = append(want.Ports, ps)
	}
	g.mu.Unlock()
	ings, _ := g.ingresses.List(labels.Everything())
	for _, in := range ings {
		if !g.ours(in) || (len(in.Status.LoadBalancer.Ingress) == 1 && apiequality.Semantic.DeepEqual(in.Status.LoadBalancer.Ingress[0], want)) {
			continue
		}
		cur := in.DeepCopy()
		cur.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{want}
		if _, err := g.Client.NetworkingV1().Ingresses(cur.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
			g.log().Debug("ingress status", "ingress", cur.Namespace+"/"+cur.Name, "err", err)
		}
	}
}
