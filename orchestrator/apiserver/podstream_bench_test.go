package apiserver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"

	"pkg.dev/pkg/orchestrator/store"
)

// BenchmarkPortForward measures a 64-byte request and its answer carried
// to a loopback echo server standing in for the Pod: directly, and
// through pods/portforward and client-go's forwarder (what kubectl and
// pkg port-forward run) over plain SPDY and over SPDY in a websocket, on
// one kept connection ("reuse") and on a new connection each time
// ("connect", a new stream pair and dial each).
//
//	go test ./orchestrator/apiserver -run '^$' -bench BenchmarkPortForward
func BenchmarkPortForward(b *testing.B) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	ctx := context.Background()
	st, err := store.Open(ctx, b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	srv, err := New(ctx, Config{Store: st, PodPortForward: func(ctx context.Context, _ *corev1.Pod, _ int32) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", echo.Addr().String())
	}})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	cfg := &rest.Config{Host: hs.URL, QPS: -1}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	p, err := cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "x"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	p.Status.Phase = corev1.PodRunning
	if _, err := cs.CoreV1().Pods("default").UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		b.Fatal(err)
	}
	url := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace("default").Name("web").SubResource("portforward").URL()
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		b.Fatal(err)
	}
	tunnel, err := portforward.NewSPDYOverWebsocketDialer(url, cfg)
	if err != nil {
		b.Fatal(err)
	}
	targets := []struct {
		name   string
		dialer httpstream.Dialer
	}{
		{"direct", nil},
		{"spdy", spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, url)},
		{"websocket", tunnel},
	}
	msg := make([]byte, 63)
	for i := range msg {
		msg[i] = 'x'
	}
	msg = append(msg, '\n')
	for _, tgt := range targets {
		addr := echo.Addr().String()
		if tgt.dialer != nil {
			stop, ready := make(chan struct{}), make(chan struct{})
			fw, err := portforward.NewOnAddresses(tgt.dialer, []string{"127.0.0.1"}, []string{"0:80"}, stop, ready, io.Discard, io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			go func() { _ = fw.ForwardPorts() }()
			<-ready
			ports, err := fw.GetPorts()
			if err != nil {
				b.Fatal(err)
			}
			addr = fmt.Sprintf("127.0.0.1:%d", ports[0].Local)
			defer close(stop)
		}
		roundTrip := func(c net.Conn, r *bufio.Reader) {
			if _, err := c.Write(msg); err != nil {
				b.Fatal(err)
			}
			if _, err := r.ReadSlice('\n'); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(tgt.name+"/reuse", func(b *testing.B) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			r := bufio.NewReader(c)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				roundTrip(c, r)
			}
		})
		b.Run(tgt.name+"/connect", func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					b.Fatal(err)
				}
				roundTrip(c, bufio.NewReader(c))
				c.Close()
			}
		})
	}
}
