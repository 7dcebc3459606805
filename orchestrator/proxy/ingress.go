package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	netlisters "k8s.io/client-go/listers/networking/v1"
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
	classes   netlisters.IngressClassLister
	services  corelisters.ServiceLister
	endpoints corelisters.EndpointsLister
	secrets   corelisters.SecretLister
	next      atomic.Uint64

	transportOnce sync.Once
	transport     *http.Transport
}

// backendTransport is the connection pool to backends, shared by every
// request: connections to a Pod are kept alive and reused.
func (g *Ingress) backendTransport() *http.Transport {
	g.transportOnce.Do(func() {
		g.transport = &http.Transport{DialContext: g.Net.DialContext, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}
	})
	return g.transport
}

func (g *Ingress) log() *slog.Logger {
	if g.Log != nil {
		return g.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Run serves until ctx ends.
func (g *Ingress) Run(ctx context.Context) error {
	if err := g.ensureClass(ctx); err != nil {
		g.log().Warn("ingress: creating the default IngressClass", "err", err)
	}
	f := informers.NewSharedInformerFactory(g.Client, 0)
	g.ingresses = f.Networking().V1().Ingresses().Lister()
	g.classes = f.Networking().V1().IngressClasses().Lister()
	g.services = f.Core().V1().Services().Lister()
	g.endpoints = f.Core().V1().Endpoints().Lister()
	g.secrets = f.Core().V1().Secrets().Lister()
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", g.HTTPAddr)
	if err != nil {
		return fmt.Errorf("ingress on %s: %w", g.HTTPAddr, err)
	}
	go func() { _ = srv.Serve(ln) }()
	var tsrv *http.Server
	if g.HTTPSAddr != "" {
		tln, err := net.Listen("tcp", g.HTTPSAddr)
		if err != nil {
			g.log().Warn("ingress: no HTTPS listener", "address", g.HTTPSAddr, "err", err)
		} else {
			tsrv = &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second,
				TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: g.certificate}}
			go func() { _ = tsrv.ServeTLS(tln, "", "") }()
		}
	}
	go g.reportStatus(ctx)
	g.log().Info("ingress controller serving", "http", g.HTTPAddr, "https", g.HTTPSAddr)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if tsrv != nil {
		_ = tsrv.Shutdown(sctx)
	}
	f.Shutdown()
	return nil
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

// route is one path rule of one Ingress.
type route struct {
	ing     *networkingv1.Ingress
	host    string
	path    string
	exact   bool
	backend networkingv1.IngressBackend
}

// match finds the backend for a request: rules of the request's host
// (exact, then wildcard) before rules for any host; Exact paths before
// Prefix ones, the longest prefix first (by path elements); then a
// default backend.
func (g *Ingress) match(host, path string) (*networkingv1.Ingress, *networkingv1.IngressBackend) {
	ings, err := g.ingresses.List(labels.Everything())
	if err != nil {
		return nil, nil
	}
	sort.Slice(ings, func(i, j int) bool {
		return ings[i].CreationTimestamp.Before(&ings[j].CreationTimestamp) ||
			(ings[i].CreationTimestamp.Equal(&ings[j].CreationTimestamp) && ings[i].Namespace+"/"+ings[i].Name < ings[j].Namespace+"/"+ings[j].Name)
	})
	var routes []route
	for _, in := range ings {
		if !g.ours(in) {
			continue
		}
		for _, r := range in.Spec.Rules {
			if r.HTTP == nil {
				continue
			}
			for _, p := range r.HTTP.Paths {
				exact := p.PathType != nil && *p.PathType == networkingv1.PathTypeExact
				routes = append(routes, route{ing: in, host: r.Host, path: p.Path, exact: exact, backend: p.Backend})
			}
		}
	}
	best := -1
	score := func(r route) (int, int, int) {
		hs := 0
		switch {
		case r.host == host:
			hs = 3
		case strings.HasPrefix(r.host, "*.") && strings.HasSuffix(host, r.host[1:]) && !strings.Contains(strings.TrimSuffix(host, r.host[1:]), "."):
			hs = 2
		case r.host == "":
			hs = 1
		}
		ex := 0
		if r.exact {
			ex = 1
		}
		return hs, ex, len(r.path)
	}
	for i, r := range routes {
		if h, _, _ := score(r); h == 0 || !pathMatches(r, path) {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		h1, e1, l1 := score(r)
		h2, e2, l2 := score(routes[best])
		if h1 > h2 || (h1 == h2 && (e1 > e2 || (e1 == e2 && l1 > l2))) {
			best = i
		}
	}
	if best >= 0 {
		return routes[best].ing, &routes[best].backend
	}
	for _, in := range ings {
		if g.ours(in) && in.Spec.DefaultBackend != nil {
			return in, in.Spec.DefaultBackend
		}
	}
	return nil, nil
}

// pathMatches applies Exact and Prefix matching (ImplementationSpecific
// as Prefix): a prefix matches whole path elements, "/foo" matches
// "/foo" and "/foo/bar", not "/foobar".
func pathMatches(r route, path string) bool {
	p := r.path
	if p == "" {
		p = "/"
	}
	if r.exact {
		return path == p
	}
	if p == "/" {
		return true
	}
	p = strings.TrimSuffix(p, "/")
	return path == p || strings.HasPrefix(path, p+"/")
}

// ServeHTTP routes one request.
func (g *Ingress) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	in, be := g.match(strings.ToLower(host), r.URL.Path)
	if be == nil || be.Service == nil {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	if r.TLS == nil && g.hasTLS(in, host) && in.Annotations["nginx.ingress.kubernetes.io/ssl-redirect"] != "false" {
		target := "https://" + host
		if _, port, err := net.SplitHostPort(g.HTTPSAddr); err == nil && port != "443" {
			target += ":" + port
		}
		http.Redirect(w, r, target+r.URL.RequestURI(), http.StatusPermanentRedirect)
		return
	}
	addr, err := g.endpoint(in.Namespace, be.Service)
	if err != nil {
		http.Error(w, "503 Service Unavailable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	rewrite := in.Annotations["nginx.ingress.kubernetes.io/rewrite-target"]
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", addr
			if rewrite != "" {
				pr.Out.URL.Path = rewrite
				pr.Out.URL.RawPath = ""
			}
			pr.SetXForwarded()
			pr.Out.Header.Set("X-Forwarded-Host", r.Host)
			pr.Out.Header.Set("X-Forwarded-Proto", scheme)
			pr.Out.Host = r.Host
		},
		Transport: g.backendTransport(),
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "502 Bad Gateway: "+err.Error(), http.StatusBadGateway)
		},
	}
	rp.ServeHTTP(w, r)
}

// endpoint picks a ready endpoint of the backend Service's port.
func (g *Ingress) endpoint(ns string, b *networkingv1.IngressServiceBackend) (string, error) {
	svc, err := g.services.Services(ns).Get(b.Name)
	if err != nil {
		return "", fmt.Errorf("service %s/%s not found", ns, b.Name)
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if (b.Port.Name != "" && p.Name == b.Port.Name) || (b.Port.Number != 0 && p.Port == b.Port.Number) {
			sp = p
		}
	}
	if sp == nil {
		return "", fmt.Errorf("service %s/%s has no port %s", ns, b.Name, portString(b.Port))
	}
	ep, err := g.endpoints.Endpoints(ns).Get(b.Name)
	if err != nil {
		return "", fmt.Errorf("service %s/%s has no endpoints", ns, b.Name)
	}
	var addrs []string
	for _, ss := range ep.Subsets {
		for _, p := range ss.Ports {
			if p.Name != sp.Name && len(ss.Ports) > 1 {
				continue
			}
			for _, a := range ss.Addresses {
				addrs = append(addrs, net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
			}
		}
	}
	if len(addrs) == 0 {
		return "", fmt.Errorf("service %s/%s has no ready endpoints", ns, b.Name)
	}
	return addrs[int(g.next.Add(1))%len(addrs)], nil
}

func portString(p networkingv1.ServiceBackendPort) string {
	if p.Name != "" {
		return p.Name
	}
	return strconv.Itoa(int(p.Number))
}

// hasTLS tells whether the Ingress serves host over TLS.
func (g *Ingress) hasTLS(in *networkingv1.Ingress, host string) bool {
	for _, t := range in.Spec.TLS {
		for _, h := range t.Hosts {
			if h == host {
				return true
			}
		}
	}
	return false
}

// certificate chooses the TLS certificate by SNI from the Secrets the
// Ingresses name in tls.
func (g *Ingress) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	ings, err := g.ingresses.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	for _, in := range ings {
		if !g.ours(in) {
			continue
		}
		for _, t := range in.Spec.TLS {
			for _, h := range t.Hosts {
				if h != hello.ServerName {
					continue
				}
				s, err := g.secrets.Secrets(in.Namespace).Get(t.SecretName)
				if err != nil {
					return nil, fmt.Errorf("TLS Secret %s/%s: %w", in.Namespace, t.SecretName, err)
				}
				cert, err := tls.X509KeyPair(s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey])
				if err != nil {
					return nil, fmt.Errorf("TLS Secret %s/%s: %w", in.Namespace, t.SecretName, err)
				}
				return &cert, nil
			}
		}
	}
	return nil, errors.New("no certificate for " + hello.ServerName)
}

// reportStatus sets status.loadBalancer of this controller's Ingresses to
// 127.0.0.1, so clients and helm --wait see them served.
func (g *Ingress) reportStatus(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		ings, _ := g.ingresses.List(labels.Everything())
		for _, in := range ings {
			if !g.ours(in) || (len(in.Status.LoadBalancer.Ingress) == 1 && in.Status.LoadBalancer.Ingress[0].IP == "127.0.0.1") {
				continue
			}
			cur := in.DeepCopy()
			cur.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "127.0.0.1"}}
			if _, err := g.Client.NetworkingV1().Ingresses(cur.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
				g.log().Debug("ingress status", "ingress", cur.Namespace+"/"+cur.Name, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
