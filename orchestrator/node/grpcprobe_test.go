package node

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The gRPC probe against grpc-go's own health server: SERVING passes,
// NOT_SERVING and an unknown service fail with the kubelet's wording, and
// so do a closed port, a server that is not gRPC and one that never
// answers.
func TestGRPCProbeAgainstGRPCHealthServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("db", healthpb.HealthCheckResponse_NOT_SERVING)
	s := grpc.NewServer()
	healthpb.RegisterHealthServer(s, hs)
	go func() { _ = s.Serve(l) }()
	t.Cleanup(s.Stop)
	addr := l.Addr().String()

	dial := (&net.Dialer{}).DialContext
	check := func(addr, service string, timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return grpcCheck(ctx, dial, addr, service, timeout)
	}
	if err := check(addr, "", time.Second); err != nil {
		t.Errorf("the server as a whole is SERVING, the probe says: %v", err)
	}
	if err := check(addr, "db", time.Second); err == nil || err.Error() != `service unhealthy (responded with "NOT_SERVING")` {
		t.Errorf("NOT_SERVING: %v", err)
	}
	if err := check(addr, "nosuch", time.Second); err == nil || err.Error() != "health rpc probe failed: rpc error: code = NotFound desc = unknown service" {
		t.Errorf("an unknown service: %v", err)
	}
	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	if err := check(addr, "", time.Second); err == nil || !strings.Contains(err.Error(), "NOT_SERVING") {
		t.Errorf("after the server turned NOT_SERVING: %v", err)
	}

	// A closed port.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	if err := check(closedAddr, "", time.Second); err == nil || !strings.Contains(err.Error(), "failed to connect service") {
		t.Errorf("a closed port: %v", err)
	}

	// An HTTP/1 server: no gRPC there.
	h1, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hello")) })}
	go func() { _ = srv.Serve(h1) }()
	t.Cleanup(func() { srv.Close() })
	if err := check(h1.Addr().String(), "", time.Second); err == nil {
		t.Error("an HTTP/1 server passed the gRPC probe")
	}

	// A server that accepts and never answers: the probe's timeout.
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mute.Close() })
	go func() {
		for {
			c, err := mute.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	start := time.Now()
	if err := check(mute.Addr().String(), "", 300*time.Millisecond); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("a mute server: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the probe took %v with a 300 ms timeout", d)
	}
}

// grpcServingStatus reads the status field among others and refuses
// what is not one whole message.
func TestGRPCServingStatus(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		want uint64
		err  bool
	}{
		{[]byte{0, 0, 0, 0, 2, 0x08, 1}, 1, false},
		{[]byte{0, 0, 0, 0, 0}, 0, false},                             // empty: UNKNOWN
		{[]byte{0, 0, 0, 0, 6, 0x12, 2, 'h', 'i', 0x08, 2}, 2, false}, // an unknown field first
		{[]byte{0, 0, 0, 0, 4, 0x08, 1}, 0, true},                     // cut short
		{[]byte{1, 0, 0, 0, 2, 0x08, 1}, 0, true},                     // compressed
		{[]byte{0, 0, 0}, 0, true},
	} {
		got, err := grpcServingStatus(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("grpcServingStatus(%v) = %d, %v", c.in, got, err)
		}
	}
}

// A gRPC readiness probe on a real Pod: the container serving SERVING
// turns Ready; one answering NOT_SERVING stays unready, with the
// kubelet's Unhealthy Event; a gRPC liveness probe against a service the
// server does not know restarts the container.
func TestGRPCProbesOnPods(t *testing.T) {
	e, ctx := newRunnerEnv(t)
	mk := func(name string, args []string, readiness, liveness *corev1.Probe) {
		t.Helper()
		_, err := e.cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{
				Name: "c", Image: "testapp:1", Args: args,
				ReadinessProbe: readiness, LivenessProbe: liveness,
			}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	grpcProbe := func(service string) *corev1.Probe {
		p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9090}}, PeriodSeconds: 1, FailureThreshold: 2}
		if service != "" {
			p.GRPC.Service = &service
		}
		return p
	}
	mk("serving", []string{"-grpc", ":9090"}, grpcProbe("app"), nil)
	mk("notserving", []string{"-grpc", ":9090", "-grpc-status", "NOT_SERVING"}, grpcProbe(""), nil)
	mk("unknown", []string{"-grpc", ":9090"}, nil, grpcProbe("nosuch"))

	waitPod(t, ctx, e, "serving", "serving Ready by its gRPC probe", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodRunning && ready(p)
	})
	waitPod(t, ctx, e, "unknown", "unknown restarted by its gRPC liveness probe", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount >= 1
	})
	if p := e.pod(t, ctx, "notserving"); ready(p) || p.Status.Phase != corev1.PodRunning {
		t.Errorf("notserving: phase %s, ready %v; want Running and not ready", p.Status.Phase, ready(p))
	}
	want := `Readiness probe failed: service unhealthy (responded with "NOT_SERVING")`
	// Events come listed by name, not time, and a probe that runs while
	// the container's server is still starting (or restarting) fails
	// with a refused connection first: one of them must say why.
	if evs := podEvents(t, ctx, e, "notserving", "Unhealthy"); !hasEventMessage(evs, want) {
		t.Errorf("notserving's Unhealthy events: %+v; want one saying %q", evs, want)
	}
	want = "Liveness probe failed: health rpc probe failed: rpc error: code = NotFound desc = unknown service"
	if evs := podEvents(t, ctx, e, "unknown", "Unhealthy"); !hasEventMessage(evs, want) {
		t.Errorf("unknown's Unhealthy events: %+v; want one saying %q", evs, want)
	}
}

func hasEventMessage(evs []corev1.Event, msg string) bool {
	for _, ev := range evs {
		if ev.Message == msg {
			return true
		}
	}
	return false
}
