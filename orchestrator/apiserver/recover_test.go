package apiserver

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPanicAnswersInternalError checks that a panic while handling a
// request answers 500 with an InternalError Status, as kube-apiserver
// does, and that the server goes on serving.
func TestPanicAnswersInternalError(t *testing.T) {
	t.Parallel()
	ts := newTestServerWith(t, func(c *Config) {
		c.Middleware = append(c.Middleware, func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/boom" {
					panic("boom")
				}
				next.ServeHTTP(w, r)
			})
		})
	})
	resp, err := http.Get(ts.http.URL + "/boom")
	if err != nil {
		t.Fatalf("the panic dropped the connection: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var st metav1.Status
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("body is not a Status: %v\n%s", err, body)
	}
	if resp.StatusCode != http.StatusInternalServerError || st.Reason != metav1.StatusReasonInternalError {
		t.Errorf("got %d %q, want 500 InternalError", resp.StatusCode, st.Reason)
	}
	resp, err = http.Get(ts.http.URL + "/version")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("server stopped serving after a panic: %v %v", err, resp)
	}
	resp.Body.Close()
}
