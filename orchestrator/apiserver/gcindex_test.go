package apiserver

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"pkg.dev/pkg/orchestrator/store"
)

func TestGCIndexResolve(t *testing.T) {
	t.Parallel()
	s := newTestServer(t).srv
	tests := []struct {
		key, resource, group, ns, name string
		ok                             bool
	}{
		{key: "/registry/configmaps/default/a", resource: "configmaps", ns: "default", name: "a", ok: true},
		{key: "/registry/namespaces/kube-system", resource: "namespaces", name: "kube-system", ok: true},
		{key: "/registry/apps/deployments/x/d", resource: "deployments", group: "apps", ns: "x", name: "d", ok: true},
		{key: "/registry/pods/apps/p", resource: "pods", ns: "apps", name: "p", ok: true},
		{key: "/registry/configmaps/default", ok: false},
		{key: "/registry/no-such/default/a", ok: false},
		{key: "/elsewhere/configmaps/default/a", ok: false},
	}
	x := newGCIndex()
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			res, ns, name, ok := x.resolve(s, tt.key)
			if ok != tt.ok {
				t.Fatalf("ok %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if res.Resource != tt.resource || res.Group != tt.group || ns != tt.ns || name != tt.name {
				t.Fatalf("got %s/%s %q %q, want %s/%s %q %q", res.Group, res.Resource, ns, name, tt.group, tt.resource, tt.ns, tt.name)
			}
		})
	}
}

func TestGCIndexMaintained(t *testing.T) {
	t.Parallel()
	s := newTestServer(t).srv
	x := newGCIndex()
	kv := func(key, value string) store.KV { return store.KV{Key: key, Value: []byte(value)} }
	owner := kv("/registry/configmaps/a/owner", `{"metadata":{"name":"owner","namespace":"a","uid":"u1"}}`)
	dep := kv("/registry/configmaps/a/dep", `{"metadata":{"name":"dep","namespace":"a","uid":"u2","ownerReferences":[{"uid":"u1"}]}}`)
	for _, o := range []store.KV{owner, dep} {
		x.put(o.Key, x.entry(s, o))
	}
	if len(x.deps["u1"]) != 1 || !x.has("u1") || !x.has("u2") || len(x.byNS["a"]) != 2 {
		t.Fatalf("index after puts: deps %v uids %v ns %v", x.deps, x.byUID, x.byNS)
	}
	// The dependent is released and marked for deletion.
	x.put(dep.Key, x.entry(s, kv(dep.Key, `{"metadata":{"name":"dep","namespace":"a","uid":"u2","deletionTimestamp":"2026-01-01T00:00:00Z"}}`)))
	if len(x.deps) != 0 || !x.objs[dep.Key].deleting {
		t.Fatalf("index after update: deps %v entry %+v", x.deps, x.objs[dep.Key])
	}
	x.remove(dep.Key)
	x.remove(owner.Key)
	if len(x.objs)+len(x.byUID)+len(x.deps)+len(x.byNS) != 0 {
		t.Fatalf("index not empty: %v %v %v %v", x.objs, x.byUID, x.deps, x.byNS)
	}
}

// TestCollectorAfterDroppedWatch runs the collector over a store that
// drops slow watchers and resyncs often: it re-lists and keeps collecting.
func TestCollectorAfterDroppedWatch(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{WatchBuffer: 1, HistorySize: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ts := serveStore(t, st, Config{Store: st}, func(c *Config) { c.GCResyncPeriod = 50 * time.Millisecond })
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")
	owner, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 60
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := w; i < n; i += 6 {
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("dep-%02d", i), OwnerReferences: ownedBy("v1", "ConfigMap", "owner", owner.UID)}}
				if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := cms.Delete(ctx, "owner", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the dependents to follow their owner", func() bool {
		l, err := cms.List(ctx, metav1.ListOptions{})
		return err == nil && len(l.Items) == 0
	})
	if _, err := cms.Get(ctx, "owner", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("owner: %v", err)
	}
}
