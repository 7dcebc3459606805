package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"pkg.dev/pkg/orchestrator/store"
)

// BenchmarkListConfigMaps times one list of 10,000 ConfigMaps as JSON,
// server side only (the handler writing into a recorder).
func BenchmarkListConfigMaps(b *testing.B) {
	srv := newBenchServer(b)
	const n = 10000
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < n; i += 16 {
				body := fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-%05d","labels":{"app":"bench","tier":"load"}},"data":{"key":%q,"other":"value"}}`, i, strings.Repeat("v", 128))
				req := httptest.NewRequest(http.MethodPost, "/api/v1/namespaces/default/configmaps", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusCreated {
					b.Errorf("create: %d %s", rec.Code, rec.Body)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/namespaces/default/configmaps", nil)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("list: %d", rec.Code)
		}
		b.SetBytes(int64(rec.Body.Len()))
	}
}

// newBenchServer is an API server over a store of its own in a temporary
// directory, without controllers, both closed when the benchmark ends.
func newBenchServer(b *testing.B) *Server {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	srv, err := New(ctx, Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	return srv
}
