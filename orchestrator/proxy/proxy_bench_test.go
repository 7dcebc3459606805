package proxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testcluster"
)

// BenchmarkPaths times one HTTP request on a kept-alive connection to a
// backend in the cluster network three ways: directly, through the
// Service's cluster IP (the proxy), and through the Ingress on the host's
// loopback; it reports the median latency of each (the goal:
// under 10% added at the median).
func BenchmarkPaths(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("skipping: network namespaces need root")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	netw := backends(&testing.T{}, ctx, "pkg-bench-net", "10.251.9.1")
	defer func() { _ = exec.Command("ip", "netns", "del", "pkg-bench-net").Run() }()
	tc := testcluster.Start(b)
	cs, err := kubernetes.NewForConfig(tc.Config)
	if err != nil {
		b.Fatal(err)
	}
	svc, err := cs.CoreV1().Services("default").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}, Selector: map[string]string{"a": "b"}}}, metav1.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := cs.CoreV1().Endpoints("default").Create(ctx, &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "10.251.9.1"}}, Ports: []corev1.EndpointPort{{Name: "http", Port: 8080}}}}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	prefix := networkingv1.PathTypePrefix
	if _, err := cs.NetworkingV1().Ingresses("default").Create(ctx, &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "web.test", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Name: "http"}}}}}}}}}}},
		metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	httpAddr := ln.Addr().String()
	ln.Close()
	go func() { _ = (&Ingress{Client: cs, Net: netw, HTTPAddr: httpAddr}).Run(ctx) }()
	inNet := &http.Client{Transport: &http.Transport{DialContext: netw.DialContext}}
	onHost := &http.Client{Transport: &http.Transport{}}
	// The Service proxy runs in one mode at a time: each cluster IP path
	// starts its own and stops it after.
	var stopProxy context.CancelFunc = func() {}
	proxyMode := func(mode string) func() {
		return func() {
			stopProxy()
			var pctx context.Context
			pctx, stopProxy = context.WithCancel(ctx)
			go func() { _ = (&Proxy{Client: cs, Net: netw, Mode: mode}).Run(pctx) }()
		}
	}
	type path struct {
		name   string
		setup  func()
		client *http.Client
		url    string
		host   string
	}
	paths := []path{
		{"direct", nil, inNet, "http://10.251.9.1:8080/", ""},
		{"clusterIP-userspace", proxyMode(ModeUserspace), inNet, "http://" + svc.Spec.ClusterIP + "/", ""},
		{"ingress", nil, onHost, "http://" + httpAddr + "/", "web.test"},
	}
	if _, err := exec.LookPath("nft"); err == nil {
		paths = append(paths, path{"clusterIP-nftables", proxyMode(ModeNftables), inNet, "http://" + svc.Spec.ClusterIP + "/", ""})
	}
	do := func(c *http.Client, url, host string) error {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if host != "" {
			req.Host = host
		}
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return io.ErrUnexpectedEOF
		}
		return nil
	}
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			if p.setup != nil {
				p.setup()
				time.Sleep(300 * time.Millisecond) // the old proxy's listeners closed
			}
			deadline := time.Now().Add(10 * time.Second)
			for do(p.client, p.url, p.host) != nil {
				if time.Now().After(deadline) {
					b.Fatalf("%s never answered", p.name)
				}
				time.Sleep(20 * time.Millisecond)
			}
			b.ResetTimer()
			lat := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				s := time.Now()
				if err := do(p.client, p.url, p.host); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(s))
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		})
	}
}
