package kube

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testcluster"
	"pkg.dev/pkg/release"
)

// env is one test's cluster and clients.
type env struct {
	t       *testing.T
	client  *Client
	typed   kubernetes.Interface
	dynamic dynamic.Interface
	logs    *logRecorder
}

// newEnv starts a fresh API server and a Client polling every 20ms.
func newEnv(t *testing.T) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("starts an API server; skipped under -short")
	}
	cl := testcluster.Start(t)
	logs := &logRecorder{}
	c, err := New(cl.Config, Options{Logger: slog.New(logs), PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	typed, err := kubernetes.NewForConfig(cl.Config)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cl.Config)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, client: c, typed: typed, dynamic: dyn, logs: logs}
}

// with returns e reporting to t (a subtest).
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// build builds a manifest in namespace default, failing the test on error.
func (e *env) build(manifest string) release.ResourceList {
	e.t.Helper()
	list, err := e.client.Build(ctx(e.t), manifest, "default")
	if err != nil {
		e.t.Fatalf("Build: %v", err)
	}
	return list
}

// create builds and creates a manifest.
func (e *env) create(manifest string) release.ResourceList {
	e.t.Helper()
	list := e.build(manifest)
	if _, err := e.client.Create(ctx(e.t), list); err != nil {
		e.t.Fatalf("Create: %v", err)
	}
	return list
}

// get reads the live object of r, nil if missing.
func (e *env) get(r *release.Resource) *unstructured.Unstructured {
	e.t.Helper()
	objs, err := e.client.Get(ctx(e.t), release.ResourceList{r})
	if err != nil {
		e.t.Fatalf("Get: %v", err)
	}
	return objs[0]
}

// setStatus writes status on r's live object through the status
// subresource, as a controller would.
func (e *env) setStatus(r *release.Resource, status map[string]any) {
	e.t.Helper()
	if err := e.writeStatus(ctx(e.t), r, status); err != nil {
		e.t.Fatal(err)
	}
}

// writeStatus is setStatus for goroutines: it returns its error.
func (e *env) writeStatus(ctx context.Context, r *release.Resource, status map[string]any) error {
	obj, err := e.client.resourceClient(r).Get(ctx, r.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	obj.Object["status"] = status
	if _, err := e.client.resourceClient(r).UpdateStatus(ctx, obj, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating the status of %s: %w", r, err)
	}
	return nil
}

// names lists the names of a resource list.
func names(list release.ResourceList) string {
	var s []string
	for _, r := range list {
		s = append(s, r.GVK.Kind+"/"+r.Name)
	}
	return strings.Join(s, " ")
}

// logRecorder is a slog.Handler keeping every message.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool {
		msg += " " + a.Key + "=" + a.Value.String()
		return true
	})
	l.mu.Lock()
	l.msgs = append(l.msgs, msg)
	l.mu.Unlock()
	return nil
}

// matching returns the recorded messages starting with prefix.
func (l *logRecorder) matching(prefix string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, m := range l.msgs {
		if strings.HasPrefix(m, prefix) {
			out = append(out, m)
		}
	}
	return out
}
