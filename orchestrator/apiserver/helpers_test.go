package apiserver

import (
	"context"
	"net/http/httptest"
	"testing"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"pkg.dev/pkg/orchestrator/store"
)

// testServer is an API server over a fresh store, served over HTTP.
type testServer struct {
	srv    *Server
	http   *httptest.Server
	config *rest.Config
	client kubernetes.Interface
	dyn    dynamic.Interface
}

// newTestServer starts a server for one test; it is closed with the test.
func newTestServer(t *testing.T) *testServer {
	t.Helper()
	return newTestServerWith(t, func(*Config) {})
}

// newTestServerWith is newTestServer with a hook to adjust the Config.
func newTestServerWith(t *testing.T, configure func(*Config)) *testServer {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), store.Options{SealedPrefixes: []string{"/registry/secrets/"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cfg := Config{Store: st}
	return serveStore(t, st, cfg, configure)
}

// newSmallHistoryServer starts a server over a store that keeps only two
// events of history.
func newSmallHistoryServer(t *testing.T) *testServer {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{HistorySize: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return serveStore(t, st, Config{Store: st}, func(*Config) {})
}

// serveStore builds a server from cfg and serves it over HTTP.
func serveStore(t *testing.T, st *store.Store, cfg Config, configure func(*Config)) *testServer {
	t.Helper()
	ctx := context.Background()
	cfg.Store = st
	configure(&cfg)
	srv, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	rc := &rest.Config{Host: hs.URL, QPS: -1}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{srv: srv, http: hs, config: rc, client: client, dyn: dyn}
}
