// Package testcluster serves the bundled orchestrator's API server in
// process for tests of the layers above it, which then talk to it exactly
// as to a real cluster: through a rest.Config or a kubeconfig file.
package testcluster

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/rest"

	"pkg.dev/pkg/orchestrator/apiserver"
	"pkg.dev/pkg/orchestrator/store"
)

// Cluster is one in-process API server over a store in a temporary folder.
type Cluster struct {
	// URL is the server's address (plain HTTP on loopback, no auth).
	URL string
	// Config is a client-go configuration for the server.
	Config *rest.Config
	// Kubeconfig is the path of a kubeconfig file whose current context
	// ("pkg", namespace "default") points at the server.
	Kubeconfig string
}

// Start serves a fresh API server until the test ends.
func Start(t testing.TB) *Cluster {
	t.Helper()
	return StartWith(t, nil)
}

// StartWith is Start with a hook that adjusts the server's Config (a
// PodLogs source, say).
func StartWith(t testing.TB, configure func(*apiserver.Config)) *Cluster {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "store"), store.Options{SealedPrefixes: []string{"/registry/secrets/"}})
	if err != nil {
		t.Fatalf("opening the test cluster's store: %v", err)
	}
	cfg := apiserver.Config{Store: st}
	if configure != nil {
		configure(&cfg)
	}
	srv, err := apiserver.New(ctx, cfg)
	if err != nil {
		_ = st.Close()
		t.Fatalf("starting the test cluster's API server: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		_ = st.Close()
	})
	kc := filepath.Join(dir, "kubeconfig")
	body := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: pkg
  cluster:
    server: %s
contexts:
- name: pkg
  context:
    cluster: pkg
    user: pkg
    namespace: default
current-context: pkg
users:
- name: pkg
  user: {}
`, hs.URL)
	if err := os.WriteFile(kc, []byte(body), 0o600); err != nil {
		t.Fatalf("writing the test cluster's kubeconfig: %v", err)
	}
	return &Cluster{URL: hs.URL, Config: &rest.Config{Host: hs.URL, QPS: -1}, Kubeconfig: kc}
}
