package apiserver

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
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

// TestAbandonedRequestIsNoServerError: a request whose client went away
// is logged at debug level, not as an error of the server's.
func TestAbandonedRequestIsNoServerError(t *testing.T) {
	var logs bytes.Buffer
	ts := newTestServerWith(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	w := httptest.NewRecorder()
	ts.srv.fail(w, &store.Error{Op: "get", Key: "/registry/configmaps/default/x", Err: context.Canceled})
	ts.srv.fail(w, &store.Error{Op: "get", Key: "/registry/configmaps/default/y", Err: errors.New("disk on fire")})
	out := logs.String()
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "level=ERROR") && strings.Contains(line, "default/x") {
			t.Errorf("an abandoned request logged as an error:\n%s", out)
		}
	}
	if !strings.Contains(out, "level=DEBUG msg=\"api request abandoned\"") {
		t.Errorf("the abandoned request is not logged at debug level:\n%s", out)
	}
	if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "disk on fire") {
		t.Errorf("a real failure is not logged as an error:\n%s", out)
	}
}
