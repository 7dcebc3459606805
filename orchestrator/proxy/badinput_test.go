package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testcluster"
)

// waitEvent waits for a Warning Event with reason on the named object and
// returns its message.
func waitEvent(t *testing.T, ctx context.Context, cs kubernetes.Interface, kind, name, reason string) string {
	t.Helper()
	for {
		evs, err := cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + name})
		if err == nil {
			for _, e := range evs.Items {
				if e.Reason == reason && e.InvolvedObject.Kind == kind && e.Type == corev1.EventTypeWarning {
					return e.Message
				}
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("no %s Event on %s %s", reason, kind, name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestIngressBadInput: an Ingress naming a missing Service, a TLS Secret
// with a broken certificate, a rule another Ingress already defines, and
// an HTTP port taken on the host each get a clear Event (the port's error
// is also in status.loadBalancer), while everything else keeps routing;
// when the port frees, the controller takes it.
func TestIngressBadInput(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	netw := backends(t, ctx, "pkg-ingress-bad", "10.251.10.1")
	tc := testcluster.Start(t)
	cs, err := kubernetes.NewForConfig(tc.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Services("default").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Endpoints("default").Create(ctx, &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "10.251.10.1"}}, Ports: []corev1.EndpointPort{{Name: "http", Port: 8080}}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "broken"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"), corev1.TLSPrivateKeyKey: []byte("nope")}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	prefix := networkingv1.PathTypePrefix
	be := func(svc string) networkingv1.IngressBackend {
		return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Name: "http"}}}
	}
	rule := func(host string, paths ...networkingv1.HTTPIngressPath) networkingv1.IngressRule {
		return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}}
	}
	for _, in := range []*networkingv1.Ingress{
		{ObjectMeta: metav1.ObjectMeta{Name: "good"}, Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{
			rule("app.test", networkingv1.HTTPIngressPath{Path: "/", PathType: &prefix, Backend: be("web")})}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "missing"}, Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{
			rule("app.test", networkingv1.HTTPIngressPath{Path: "/gone", PathType: &prefix, Backend: be("nosuch")})}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "badtls"}, Spec: networkingv1.IngressSpec{
			TLS:   []networkingv1.IngressTLS{{Hosts: []string{"secure.test"}, SecretName: "broken"}},
			Rules: []networkingv1.IngressRule{rule("secure.test", networkingv1.HTTPIngressPath{Path: "/", PathType: &prefix, Backend: be("web")})}}},
	} {
		if _, err := cs.NetworkingV1().Ingresses("default").Create(ctx, in, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Created a second later, so that "good" is older and keeps the rule.
	time.Sleep(1100 * time.Millisecond)
	if _, err := cs.NetworkingV1().Ingresses("default").Create(ctx, &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "overlap"},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{rule("app.test", networkingv1.HTTPIngressPath{Path: "/", PathType: &prefix, Backend: be("nosuch")})}}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The HTTP port is taken on the host when the controller starts.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr, httpsAddr := taken.Addr().String(), freeAddr(t)
	go func() { _ = (&Ingress{Client: cs, Net: netw, HTTPAddr: httpAddr, HTTPSAddr: httpsAddr}).Run(ctx) }()

	msg := waitEvent(t, ctx, cs, "Ingress", "missing", "ServiceNotFound")
	if !strings.Contains(msg, `"nosuch"`) || !strings.Contains(msg, `path "/gone"`) {
		t.Errorf("ServiceNotFound message: %s", msg)
	}
	if msg := waitEvent(t, ctx, cs, "Ingress", "badtls", "InvalidTLSSecret"); !strings.Contains(msg, "default/broken") {
		t.Errorf("InvalidTLSSecret message: %s", msg)
	}
	if msg := waitEvent(t, ctx, cs, "Ingress", "overlap", "OverlappingRule"); !strings.Contains(msg, "default/good") {
		t.Errorf("OverlappingRule message: %s", msg)
	}
	if msg := waitEvent(t, ctx, cs, "Ingress", "good", "FailedToListen"); !strings.Contains(msg, httpAddr) {
		t.Errorf("FailedToListen message: %s", msg)
	}
	// The port's error is in the status too.
	for {
		in, err := cs.NetworkingV1().Ingresses("default").Get(ctx, "good", metav1.GetOptions{})
		if err == nil && len(in.Status.LoadBalancer.Ingress) == 1 {
			var errs []string
			for _, p := range in.Status.LoadBalancer.Ingress[0].Ports {
				if p.Error != nil {
					errs = append(errs, fmt.Sprint(p.Port, ": ", *p.Error))
				}
			}
			if len(errs) == 1 {
				if !strings.HasSuffix(errs[0], ": pkg.dev/PortInUse") {
					t.Errorf("port error in the status: %s", errs[0])
				}
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("no port error in the status: %v", in.Status.LoadBalancer)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// HTTPS keeps routing meanwhile: the good rule, with the controller's
	// own certificate for the host whose Secret is broken; the missing
	// Service's path answers 503.
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func(url, host string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Host = host
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("https://"+httpsAddr+"/x", "app.test"); code != 200 || body != "backend 10.251.10.1 /x https\n" {
		t.Errorf("app.test over HTTPS: %d %q", code, body)
	}
	if code, body := get("https://"+httpsAddr+"/gone", "app.test"); code != 503 || !strings.Contains(body, "nosuch") {
		t.Errorf("the missing Service's path: %d %q", code, body)
	}
	conn, err := tls.Dial("tcp", httpsAddr, &tls.Config{InsecureSkipVerify: true, ServerName: "secure.test"})
	if err != nil {
		t.Fatalf("TLS to the host with the broken Secret: %v", err)
	}
	if cn := conn.ConnectionState().PeerCertificates[0].Subject.CommonName; !strings.Contains(cn, "default certificate") {
		t.Errorf("certificate for secure.test: %q, want the controller's default", cn)
	}
	conn.Close()

	// The port frees: the controller takes it within a few seconds, and
	// the older Ingress keeps the overlapping rule.
	taken.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := get("http://"+httpAddr+"/", "app.test")
		if code == 200 {
			if body != "backend 10.251.10.1\n" {
				t.Errorf("app.test/ (overlapping rule): %q", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the freed HTTP port was not taken: %d %s", code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// A standing problem is one Event, not one per change.
	evs, err := cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=missing"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs.Items {
		if e.Reason == "ServiceNotFound" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d ServiceNotFound Events on Ingress missing, want 1", n)
	}
}

// TestServiceBadInput: a Service whose selector matches no Pod and a
// LoadBalancer whose node port is taken on the host each get a clear
// Event (the port's error also in status.loadBalancer); the other
// Services keep answering, and the node port is served once it frees.
func TestServiceBadInput(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	netw := backends(t, ctx, "pkg-proxy-bad", "10.251.11.1")
	tc := testcluster.Start(t)
	cs, err := kubernetes.NewForConfig(tc.Config)
	if err != nil {
		t.Fatal(err)
	}
	// A node port in use on the host: take a free one of the node port
	// range, then ask for it.
	var taken net.Listener
	var port int32
	for port = 31990; taken == nil && port < 32767; port++ {
		taken, _ = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	}
	if taken == nil {
		t.Fatal("no free port in 31990-32767")
	}
	port--
	defer taken.Close()
	mk := func(name string, typ corev1.ServiceType, nodePort int32, selector map[string]string, eps bool) {
		t.Helper()
		if _, err := cs.CoreV1().Services("default").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.ServiceSpec{Type: typ, Selector: selector, Ports: []corev1.ServicePort{{Name: "http", Port: 80, NodePort: nodePort}}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if eps {
			if _, err := cs.CoreV1().Endpoints("default").Create(ctx, &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: name},
				Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "10.251.11.1"}}, Ports: []corev1.EndpointPort{{Name: "http", Port: 8080}}}}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk("lonely", corev1.ServiceTypeClusterIP, 0, map[string]string{"app": "nobody"}, false)
	mk("clash", corev1.ServiceTypeLoadBalancer, port, nil, true)
	mk("fine", corev1.ServiceTypeNodePort, 0, nil, true)
	go func() { _ = (&Proxy{Client: cs, Net: netw}).Run(ctx) }()

	if msg := waitEvent(t, ctx, cs, "Service", "clash", "FailedToListen"); !strings.Contains(msg, taken.Addr().String()) || !strings.Contains(msg, "in use") {
		t.Errorf("FailedToListen message: %s", msg)
	}
	if msg := waitEvent(t, ctx, cs, "Service", "lonely", "SelectorMatchesNothing"); !strings.Contains(msg, "app=nobody") {
		t.Errorf("SelectorMatchesNothing message: %s", msg)
	}
	fine, err := cs.CoreV1().Services("default").Get(ctx, "fine", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	get := func(port int32) (string, error) {
		resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	if body, err := get(fine.Spec.Ports[0].NodePort); err != nil || body != "backend 10.251.11.1\n" {
		t.Errorf("another Service's node port: %q %v", body, err)
	}
	// The LoadBalancer's status says which port fails, and why.
	lbStatus := func() string {
		s, err := cs.CoreV1().Services("default").Get(ctx, "clash", metav1.GetOptions{})
		if err != nil || len(s.Status.LoadBalancer.Ingress) != 1 || len(s.Status.LoadBalancer.Ingress[0].Ports) != 1 {
			return fmt.Sprint("no status: ", err)
		}
		ps := s.Status.LoadBalancer.Ingress[0].Ports[0]
		if ps.Error == nil {
			return fmt.Sprint(ps.Port, " ok")
		}
		return fmt.Sprint(ps.Port, " ", *ps.Error)
	}
	for want := fmt.Sprint(port, " pkg.dev/PortInUse"); lbStatus() != want; {
		if ctx.Err() != nil {
			t.Fatalf("LoadBalancer status %q, want %q", lbStatus(), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	taken.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		body, err := get(port)
		if err == nil && body == "backend 10.251.11.1\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the freed node port %d was not served: %q %v", port, body, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for want := fmt.Sprint(port, " ok"); lbStatus() != want; {
		if ctx.Err() != nil {
			t.Fatalf("LoadBalancer status %q once the port freed, want %q", lbStatus(), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
