package apiserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestInProcessTransport drives the API server through client-go over the
// in-process transport: writes, reads, a watch that streams events as
// they happen and whose handler ends when the client stops it, and an
// error answer.
func TestInProcessTransport(t *testing.T) {
	ts := newTestServer(t)
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: "http://in-process", QPS: -1, Transport: InProcessTransport(ts.srv)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cms := cs.CoreV1().ConfigMaps("default")
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Data: map[string]string{"k": "v"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := cms.Get(ctx, "a", metav1.GetOptions{})
	if err != nil || got.Data["k"] != "v" {
		t.Fatalf("get: %v %v", got, err)
	}
	if _, err := cms.Get(ctx, "missing", metav1.GetOptions{}); err == nil || !strings.Contains(err.Error(), `"missing" not found`) {
		t.Fatalf("get of a missing object: %v", err)
	}

	before := runtime.NumGoroutine()
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: got.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got.Data["k"] = strings.Repeat("x", i+1)
		if _, err := cms.Update(ctx, got, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-w.ResultChan():
			cm, _ := ev.Object.(*corev1.ConfigMap)
			if ev.Type != watch.Modified || cm == nil || cm.Data["k"] != got.Data["k"] {
				t.Fatalf("event %d: %s %v", i, ev.Type, ev.Object)
			}
			got = cm
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d did not arrive", i)
		}
	}
	w.Stop()
	// The watch's handler (and the stream's goroutines) end with it.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after the watch stopped, %d before it", n, before)
	}
}

// TestInProcessTransportAbortAndCancel: a handler that aborts its answer,
// or panics, ends the body with an error and the process goes on; a
// request whose context ends before the handler answers returns that
// error, and the handler, which then writes more than the buffer holds,
// is not left waiting for a reader.
func TestInProcessTransportAbortAndCancel(t *testing.T) {
	handlerDone := make(chan struct{})
	rt := InProcessTransport(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/abort":
			_, _ = w.Write([]byte("partial"))
			panic(http.ErrAbortHandler)
		case "/panic":
			_, _ = w.Write([]byte("partial"))
			panic("a bug")
		case "/hang":
			<-r.Context().Done()
			chunk := make([]byte, 1<<20)
			for range 2 * maxInProcessBuffered >> 20 {
				_, _ = w.Write(chunk)
			}
			close(handlerDone)
		}
	}))
	for _, path := range []string{"/abort", "/panic"} {
		req, _ := http.NewRequest(http.MethodGet, "http://in-process"+path, nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		if string(body) != "partial" || !errors.Is(err, errInProcessAborted) {
			t.Errorf("%s: %q, %v", path, body, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://in-process/hang", nil)
	if _, err := rt.RoundTrip(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a request whose context ended: %v", err)
	}
	select {
	case <-handlerDone:
	case <-time.After(10 * time.Second):
		t.Error("the handler of an abandoned request is still waiting to write")
	}
}

// TestInProcessTransportHoldsBackAWriter: a reader that does not read
// holds the handler's writes back once a few megabytes wait, as a socket
// would, and reading lets them through.
func TestInProcessTransportHoldsBackAWriter(t *testing.T) {
	wrote := make(chan int, 1)
	rt := InProcessTransport(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 1<<20)
		n := 0
		for range 32 {
			if _, err := w.Write(chunk); err != nil {
				break
			}
			n++
			select {
			case wrote <- n:
			default:
			}
		}
	}))
	req, _ := http.NewRequest(http.MethodGet, "http://in-process/", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	var last int
	for len(wrote) > 0 {
		last = <-wrote
	}
	if last >= 32 {
		t.Errorf("the handler wrote all 32 MiB with nobody reading")
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n != 32<<20 {
		t.Errorf("read %d bytes, %v; want 32 MiB", n, err)
	}
	_ = resp.Body.Close()
}
