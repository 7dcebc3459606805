package scheduler

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"pkg.dev/pkg/internal/testcluster"
)

// failFirstBinding answers the first binding request with a 500 without
// sending it to the server.
type failFirstBinding struct {
	next   http.RoundTripper
	failed atomic.Bool
}

func (f *failFirstBinding) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/binding") && f.failed.CompareAndSwap(false, true) {
		body := `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"injected","reason":"InternalError","code":500}`
		return &http.Response{StatusCode: 500, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	}
	return f.next.RoundTrip(r)
}

// A binding written in the background that fails is forgotten: the Pod is
// scheduled again, and the node's room it was counted against is free
// for the next decision.
func TestSchedulerRetriesAFailedBinding(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an API server")
	}
	t.Parallel()
	tc := testcluster.Start(t)
	cs, err := kubernetes.NewForConfig(tc.Config)
	if err != nil {
		t.Fatal(err)
	}
	inject := &failFirstBinding{}
	cfg := rest.CopyConfig(tc.Config)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { inject.next = rt; return inject }
	schedCS, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// One node with room for exactly one of the two Pods.
	if _, err := cs.CoreV1().Nodes().Create(ctx, node("only", "1", "1Gi", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod("first", "600m", "", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	go func() { _ = New(schedCS, Options{}).Run(ctx) }()
	for {
		p, err := cs.CoreV1().Pods("default").Get(ctx, "first", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Spec.NodeName == "only" {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the Pod whose first binding failed was never bound")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !inject.failed.Load() {
		t.Fatal("no binding was failed: the test proved nothing")
	}
}
