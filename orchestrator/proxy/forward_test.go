package proxy

import (
	"bufio"
	"context"
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
	"pkg.dev/pkg/orchestrator/node"
)

// TestIngressForwarding drives the Ingress's own HTTP/1.1 forwarding with
// what a plain GET does not: a request body, HEAD, a streamed (chunked)
// answer that must arrive piece by piece, a backend that closes its
// connection after answering, a kept-alive backend connection the backend
// dropped meanwhile (retried on a new one), X-Forwarded-For appended to
// the client's, no Go User-Agent added, and an Upgrade (a websocket's
// handshake) carried both ways.
func TestIngressForwarding(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const ip = "10.251.12.1"
	netw := &node.Network{NS: "pkg-ingress-fwd", Bridge: "pkgp2", CIDR: "10.251.0.0/16"}
	if err := netw.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = netw.Remove(context.Background()) })
	if err := ipn(ctx, "pkg-ingress-fwd", "addr", "add", ip+"/32", "dev", "lo"); err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	if err := netw.Do(func() error { var err error; ln, err = net.Listen("tcp", ip+":8080"); return err }); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		fmt.Fprintf(w, "%s %q xff=%q ua=%q", r.Method, b, r.Header.Get("X-Forwarded-For"), r.Header.Get("User-Agent"))
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		for _, piece := range []string{"one\n", "two\n"} {
			fmt.Fprint(w, piece)
			w.(http.Flusher).Flush()
			time.Sleep(300 * time.Millisecond)
		}
	})
	mux.HandleFunc("/closing", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		fmt.Fprint(w, "bye")
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "test" {
			http.Error(w, "no upgrade", http.StatusBadRequest)
			return
		}
		c, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprint(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		fmt.Fprint(brw, "echo "+line)
		brw.Flush()
	})
	// The backend drops idle kept-alive connections quickly.
	srv := &http.Server{Handler: mux, IdleTimeout: 200 * time.Millisecond}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })

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
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: ip}}, Ports: []corev1.EndpointPort{{Name: "http", Port: 8080}}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	prefix := networkingv1.PathTypePrefix
	if _, err := cs.NetworkingV1().Ingresses("default").Create(ctx, &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "fwd.test", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Name: "http"}}}}}}}}}}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	go func() { _ = (&Ingress{Client: cs, Net: netw, HTTPAddr: addr}).Run(ctx) }()

	client := &http.Client{Timeout: 5 * time.Second}
	do := func(method, path, body string, hdr map[string]string) (*http.Response, string, error) {
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		if body == "" {
			req.Body = nil
		}
		req.Host = "fwd.test"
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, string(b), err
	}
	for {
		if resp, _, err := do("GET", "/echo", "", nil); err == nil && resp.StatusCode == 200 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the Ingress never routed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, body, err := do("POST", "/echo", "payload", map[string]string{"X-Forwarded-For": "192.0.2.7", "User-Agent": ""}); err != nil ||
		body != `POST "payload" xff="192.0.2.7, 127.0.0.1" ua=""` {
		t.Errorf("POST with a body: %q %v", body, err)
	}
	if resp, body, err := do("HEAD", "/echo", "", nil); err != nil || resp.StatusCode != 200 || body != "" || resp.Header.Get("X-Method") != "HEAD" {
		t.Errorf("HEAD: %v %q %v", resp, body, err)
	}
	if _, body, err := do("GET", "/closing", "", nil); err != nil || body != "bye" {
		t.Errorf("a backend closing its connection: %q %v", body, err)
	}
	// The backend dropped the kept-alive connection meanwhile.
	time.Sleep(500 * time.Millisecond)
	for i := 0; i < 3; i++ {
		if _, body, err := do("GET", "/echo", "", nil); err != nil || !strings.HasPrefix(body, "GET") {
			t.Errorf("GET %d after the backend dropped idle connections: %q %v", i, body, err)
		}
	}
	// A stream arrives piece by piece: the first before the second is
	// written.
	req, _ := http.NewRequest("GET", "http://"+addr+"/stream", nil)
	req.Host = "fwd.test"
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	first, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || first != "one\n" || time.Since(start) > 250*time.Millisecond {
		t.Errorf("the stream's first piece: %q %v after %v (want it before the second is written, 300 ms on)", first, err, time.Since(start))
	}
	resp.Body.Close()
	// An upgrade, both ways.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprint(c, "GET /ws HTTP/1.1\r\nHost: fwd.test\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(c)
	up, err := http.ReadResponse(br, nil)
	if err != nil || up.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", up, err)
	}
	fmt.Fprint(c, "hello\n")
	if line, err := br.ReadString('\n'); err != nil || line != "echo hello\n" {
		t.Errorf("over the upgraded connection: %q %v", line, err)
	}
}
