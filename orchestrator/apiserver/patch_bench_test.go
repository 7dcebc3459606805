package apiserver

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkPatchDeployment times one strategic-merge patch of a
// Deployment's pod template, the write a Helm upgrade or rollback sends
// for each workload, server side only (no controllers running).
func BenchmarkPatchDeployment(b *testing.B) {
	srv := newBenchServer(b)
	do := func(method, path, ctype, body string, want int) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
	}
	do(http.MethodPost, "/apis/apps/v1/namespaces/default/deployments", "application/json",
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app.kubernetes.io/managed-by":"Helm"},"annotations":{"meta.helm.sh/release-name":"r","meta.helm.sh/release-namespace":"default"}},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"},"annotations":{"rev":"0"}},"spec":{"containers":[{"name":"web","image":"busybox:1.36","args":["httpd","-f","-p","8080"]}]}}}}`,
		http.StatusCreated)
	i := 0
	for b.Loop() {
		i++
		do(http.MethodPatch, "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=pkg", "application/strategic-merge-patch+json",
			fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"rev":"%d"}}}}}`, i), http.StatusOK)
	}
}
