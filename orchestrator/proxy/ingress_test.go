package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testcluster"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// selfSigned returns a certificate and key for host, PEM-encoded.
func selfSigned(t *testing.T, host string) ([]byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// TestIngress routes two hosts and two paths to two Services, serves TLS
// with a Secret's certificate chosen by SNI, redirects plain HTTP of a TLS
// host, rewrites a target, 404s what matches nothing, leaves another
// class's Ingress alone, and reports 127.0.0.1 in the status.
func TestIngress(t *testing.T) {
	if testing.Short() {
		t.Skip("makes network namespaces")
	}
	if os.Geteuid() != 0 {
		t.Skip("skipping: network namespaces need root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	netw := backends(t, ctx, "pkg-ingress-test", "10.251.8.1", "10.251.8.2")
	tc := testcluster.Start(t)
	cs, err := kubernetes.NewForConfig(tc.Config)
	if err != nil {
		t.Fatal(err)
	}
	for name, ip := range map[string]string{"web": "10.251.8.1", "api": "10.251.8.2"} {
		if _, err := cs.CoreV1().Services("default").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}, Selector: map[string]string{"app": name}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CoreV1().Endpoints("default").Create(ctx, &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: name},
			Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: ip}}, Ports: []corev1.EndpointPort{{Name: "http", Port: 8080}}}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	certPEM, keyPEM := selfSigned(t, "secure.test")
	if _, err := cs.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tls"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	prefix, exact := networkingv1.PathTypePrefix, networkingv1.PathTypeExact
	be := func(svc string) networkingv1.IngressBackend {
		return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Name: "http"}}}
	}
	rule := func(host string, paths ...networkingv1.HTTPIngressPath) networkingv1.IngressRule {
		return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}}
	}
	other := "nginx"
	for _, in := range []*networkingv1.Ingress{
		{ObjectMeta: metav1.ObjectMeta{Name: "main"}, Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{
			rule("app.test",
				networkingv1.HTTPIngressPath{Path: "/", PathType: &prefix, Backend: be("web")},
				networkingv1.HTTPIngressPath{Path: "/api", PathType: &prefix, Backend: be("api")},
				networkingv1.HTTPIngressPath{Path: "/exact", PathType: &exact, Backend: be("api")}),
			rule("other.test", networkingv1.HTTPIngressPath{Path: "/", PathType: &prefix, Backend: be("api")}),
		}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "secure"}, Spec: networkingv1.IngressSpec{
			TLS:   []networkingv1.IngressTLS{{Hosts: []string{"secure.test"}, SecretName: "tls"}},
			Rules: []networkingv1.IngressRule{rule("secure.test", networkingv1.HTTPIngressPath{Path: "/", PathType: &prefix, Backend: be("web")})}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "rewrite", Annotations: map[string]string{"nginx.ingress.kubernetes.io/rewrite-target": "/rewritten"}},
			Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{rule("rw.test", networkingv1.HTTPIngressPath{Path: "/old", PathType: &prefix, Backend: be("api")})}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "theirs"}, Spec: networkingv1.IngressSpec{IngressClassName: &other,
			Rules: []networkingv1.IngressRule{rule("nginx.test", networkingv1.HTTPIngressPath{Path: "/", PathType: &prefix, Backend: be("web")})}}},
	} {
		if _, err := cs.NetworkingV1().Ingresses("default").Create(ctx, in, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	httpAddr, httpsAddr := freeAddr(t), freeAddr(t)
	go func() {
		_ = (&Ingress{Client: cs, Net: netw, HTTPAddr: httpAddr, HTTPSAddr: httpsAddr}).Run(ctx)
	}()
	client := &http.Client{Timeout: 3 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: "secure.test"}}}
	get := func(base, host, path string) (int, string, *http.Response) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Host = host
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error(), nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp
	}
	plain, secure := "http://"+httpAddr, "https://"+httpsAddr
	for ctx.Err() == nil {
		if code, _, _ := get(plain, "app.test", "/"); code == 200 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cases := []struct {
		base, host, path string
		code             int
		body             string
	}{
		{plain, "app.test", "/", 200, "backend 10.251.8.1\n"},
		{plain, "app.test", "/page", 200, "backend 10.251.8.1 /page http\n"},
		{plain, "app.test", "/api/v1", 200, "backend 10.251.8.2 /api/v1 http\n"},
		{plain, "app.test", "/apix", 200, "backend 10.251.8.1 /apix http\n"},
		{plain, "app.test", "/exact", 200, "backend 10.251.8.2 /exact http\n"},
		{plain, "app.test", "/exact/more", 200, "backend 10.251.8.1 /exact/more http\n"},
		{plain, "other.test", "/x", 200, "backend 10.251.8.2 /x http\n"},
		{plain, "rw.test", "/old/thing", 200, "backend 10.251.8.2 /rewritten http\n"},
		{plain, "nowhere.test", "/", 404, "404 page not found\n"},
		{plain, "nginx.test", "/", 404, "404 page not found\n"},
		{secure, "secure.test", "/s", 200, "backend 10.251.8.1 /s https\n"},
	}
	for _, c := range cases {
		code, body, _ := get(c.base, c.host, c.path)
		if code != c.code || body != c.body {
			t.Errorf("%s %s%s: %d %q, want %d %q", c.base, c.host, c.path, code, body, c.code, c.body)
		}
	}
	if code, _, resp := get(plain, "secure.test", "/s"); code != http.StatusPermanentRedirect || resp == nil ||
		!strings.HasPrefix(resp.Header.Get("Location"), "https://secure.test") {
		t.Errorf("plain HTTP to a TLS host: %d, want a redirect to https", code)
	}
	for {
		in, err := cs.NetworkingV1().Ingresses("default").Get(ctx, "main", metav1.GetOptions{})
		if err == nil && len(in.Status.LoadBalancer.Ingress) == 1 && in.Status.LoadBalancer.Ingress[0].IP == "127.0.0.1" {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("status.loadBalancer never set")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if in, _ := cs.NetworkingV1().Ingresses("default").Get(ctx, "theirs", metav1.GetOptions{}); in != nil && len(in.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("another class's Ingress got a status: %v", in.Status.LoadBalancer)
	}
	if c, err := cs.NetworkingV1().IngressClasses().Get(ctx, IngressClassName, metav1.GetOptions{}); err != nil || c.Annotations[networkingv1.AnnotationIsDefaultIngressClass] != "true" {
		t.Errorf("IngressClass pkg: %v %v", c, err)
	}
}
