package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// routeTable is the Ingress controller's view of its Ingresses, built
// once per change of an Ingress, Service, Endpoints or Secret rather than
// on every request: routes by host, each list best first, with their
// backends' ready endpoints resolved, and the TLS certificates parsed.
type routeTable struct {
	byHost    map[string][]*route // exact host
	wildcards []*route            // "*.suffix" hosts, best first
	anyHost   []*route            // rules without a host
	fallback  *backend            // the oldest default backend
	certs     map[string]*tls.Certificate
}

// route is one path rule of one Ingress.
type route struct {
	host  string // "" for any host; "*.example.com" for a wildcard
	path  string
	exact bool
	be    *backend
	order int // the rule's place among all rules, oldest Ingress first
}

// backend is where a route sends requests, resolved.
type backend struct {
	ing        *networkingv1.Ingress
	addrs      []string // ready endpoints, ip:port
	err        string   // why there is none, answered with 503
	rewrite    string
	tlsHosts   map[string]bool
	noRedirect bool
}

// lookup finds the route for a request: the request's exact host first,
// then wildcards, then rules for any host; within each, the first that
// matches (lists are sorted Exact before Prefix, longest path first);
// then the default backend.
func (t *routeTable) lookup(host, path string) *backend {
	for _, r := range t.byHost[host] {
		if r.matches(path) {
			return r.be
		}
	}
	for _, r := range t.wildcards {
		suffix := r.host[1:] // ".example.com"
		if strings.HasSuffix(host, suffix) && !strings.Contains(host[:len(host)-len(suffix)], ".") && r.matches(path) {
			return r.be
		}
	}
	for _, r := range t.anyHost {
		if r.matches(path) {
			return r.be
		}
	}
	return t.fallback
}

// matches applies Exact and Prefix matching (ImplementationSpecific as
// Prefix): a prefix matches whole path elements, "/foo" matches "/foo"
// and "/foo/bar", not "/foobar".
func (r *route) matches(path string) bool {
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
	return path == p || (strings.HasPrefix(path, p) && path[len(p)] == '/')
}

// better orders routes of one host group: Exact before Prefix, then the
// longer path, then the older rule.
func better(a, b *route) bool {
	if a.exact != b.exact {
		return a.exact
	}
	if len(a.path) != len(b.path) {
		return len(a.path) > len(b.path)
	}
	return a.order < b.order
}

// problem is something wrong with one Ingress, reported as an Event.
type problem struct {
	ing    *networkingv1.Ingress
	reason string
	msg    string
}

// build makes the table from the listers and lists what is wrong with
// the Ingresses: backends whose Service or port is missing, TLS Secrets
// missing or broken, rules that another rule shadows.
func (g *Ingress) build() (*routeTable, []problem) {
	t := &routeTable{byHost: map[string][]*route{}, certs: map[string]*tls.Certificate{}}
	var probs []problem
	ings, err := g.ingresses.List(labels.Everything())
	if err != nil {
		return t, nil
	}
	sort.Slice(ings, func(i, j int) bool {
		a, b := ings[i], ings[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	type ruleKey struct {
		host, path string
		exact      bool
	}
	owner := map[ruleKey]*networkingv1.Ingress{}
	order := 0
	for _, in := range ings {
		if !g.ours(in) {
			continue
		}
		tlsHosts := map[string]bool{}
		for _, tl := range in.Spec.TLS {
			for _, h := range tl.Hosts {
				tlsHosts[strings.ToLower(h)] = true
			}
			cert, p := g.loadCert(in, tl)
			if p != nil {
				probs = append(probs, *p)
			}
			for _, h := range tl.Hosts {
				if _, taken := t.certs[strings.ToLower(h)]; cert != nil && !taken {
					t.certs[strings.ToLower(h)] = cert
				}
			}
		}
		mk := func(b *networkingv1.IngressBackend, where string) *backend {
			be := &backend{ing: in, rewrite: in.Annotations["nginx.ingress.kubernetes.io/rewrite-target"],
				tlsHosts: tlsHosts, noRedirect: in.Annotations["nginx.ingress.kubernetes.io/ssl-redirect"] == "false"}
			reason := ""
			be.addrs, reason, be.err = g.resolve(in.Namespace, b)
			if reason != "" {
				probs = append(probs, problem{in, reason, fmt.Sprintf("%s: %s; its requests are answered 503 Service Unavailable", where, be.err)})
			}
			return be
		}
		if in.Spec.DefaultBackend != nil && t.fallback == nil {
			t.fallback = mk(in.Spec.DefaultBackend, "default backend")
		}
		for _, r := range in.Spec.Rules {
			if r.HTTP == nil {
				continue
			}
			host := strings.ToLower(r.Host)
			for _, p := range r.HTTP.Paths {
				exact := p.PathType != nil && *p.PathType == networkingv1.PathTypeExact
				path := p.Path
				if path == "" {
					path = "/"
				}
				where := fmt.Sprintf("rule host %q path %q", r.Host, path)
				k := ruleKey{host, path, exact}
				if prev := owner[k]; prev != nil {
					who := "an earlier rule of this Ingress"
					if prev.UID != in.UID {
						who = fmt.Sprintf("Ingress %s/%s, created earlier", prev.Namespace, prev.Name)
					}
					probs = append(probs, problem{in, "OverlappingRule", fmt.Sprintf("%s (%s) is also defined by %s, which takes its traffic; this rule is ignored", where, pathTypeOf(p), who)})
					continue
				}
				owner[k] = in
				rt := &route{host: host, path: path, exact: exact, be: mk(&p.Backend, where), order: order}
				order++
				switch {
				case host == "":
					t.anyHost = append(t.anyHost, rt)
				case strings.HasPrefix(host, "*."):
					t.wildcards = append(t.wildcards, rt)
				default:
					t.byHost[host] = append(t.byHost[host], rt)
				}
			}
		}
	}
	sortRoutes := func(rs []*route) { sort.SliceStable(rs, func(i, j int) bool { return better(rs[i], rs[j]) }) }
	for _, rs := range t.byHost {
		sortRoutes(rs)
	}
	// Wildcards: the longer (more specific) suffix first.
	sort.SliceStable(t.wildcards, func(i, j int) bool {
		a, b := t.wildcards[i], t.wildcards[j]
		if len(a.host) != len(b.host) {
			return len(a.host) > len(b.host)
		}
		return better(a, b)
	})
	sortRoutes(t.anyHost)
	return t, probs
}

func pathTypeOf(p networkingv1.HTTPIngressPath) string {
	if p.PathType == nil {
		return string(networkingv1.PathTypeImplementationSpecific)
	}
	return string(*p.PathType)
}

// resolve finds the ready endpoints of an Ingress backend; reason names
// a configuration problem (an Event), err says why there is no endpoint.
func (g *Ingress) resolve(ns string, b *networkingv1.IngressBackend) ([]string, string, string) {
	if b.Service == nil {
		return nil, "UnsupportedBackend", "only Service backends are supported, not resource backends"
	}
	svc, err := g.services.Services(ns).Get(b.Service.Name)
	if err != nil {
		return nil, "ServiceNotFound", fmt.Sprintf("backend Service %q does not exist in namespace %s", b.Service.Name, ns)
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if (b.Service.Port.Name != "" && p.Name == b.Service.Port.Name) || (b.Service.Port.Number != 0 && p.Port == b.Service.Port.Number) {
			sp = p
		}
	}
	if sp == nil {
		return nil, "ServicePortNotFound", fmt.Sprintf("backend Service %s/%s has no port %s", ns, b.Service.Name, portString(b.Service.Port))
	}
	addrs := endpointsOf(g.endpoints, ns, svc.Name, *sp)
	if len(addrs) == 0 {
		return nil, "", fmt.Sprintf("service %s/%s has no ready endpoints", ns, b.Service.Name)
	}
	return addrs, "", ""
}

// loadCert parses the certificate of one tls entry.
func (g *Ingress) loadCert(in *networkingv1.Ingress, tl networkingv1.IngressTLS) (*tls.Certificate, *problem) {
	if tl.SecretName == "" {
		return nil, nil
	}
	s, err := g.secrets.Secrets(in.Namespace).Get(tl.SecretName)
	if apierrors.IsNotFound(err) {
		return nil, &problem{in, "TLSSecretNotFound", fmt.Sprintf("TLS Secret %s/%s for hosts %s does not exist; they are served with the controller's self-signed certificate", in.Namespace, tl.SecretName, strings.Join(tl.Hosts, ", "))}
	}
	if err != nil {
		return nil, nil
	}
	cert, err := tls.X509KeyPair(s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		return nil, &problem{in, "InvalidTLSSecret", fmt.Sprintf("TLS Secret %s/%s for hosts %s: %s and %s do not make a certificate: %v; they are served with the controller's self-signed certificate",
			in.Namespace, tl.SecretName, strings.Join(tl.Hosts, ", "), corev1.TLSCertKey, corev1.TLSPrivateKeyKey, err)}
	}
	return &cert, nil
}

// report records the problems as Events, and forgets those that cleared
// so that they are reported again if they come back.
func (g *Ingress) report(ctx context.Context, probs []problem) {
	now := map[types.UID]map[string]bool{}
	for _, p := range probs {
		if now[p.ing.UID] == nil {
			now[p.ing.UID] = map[string]bool{}
		}
		now[p.ing.UID][p.reason+"\x00"+p.msg] = true
		g.events.warn(ctx, p.ing, "Ingress", "networking.k8s.io/v1", p.reason, p.msg)
	}
	listening := g.listenProblem() == ""
	ings, _ := g.ingresses.List(labels.Everything())
	for _, in := range ings {
		g.events.retain(in.UID, func(reason, msg string) bool {
			return now[in.UID][reason+"\x00"+msg] || (reason == "FailedToListen" && !listening)
		})
	}
}
