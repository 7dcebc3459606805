package apiserver

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"pkg.dev/pkg/orchestrator/store"
)

// racingStore writes an object once more, as a concurrent client would,
// right before the next conditional Update or Delete of a key under
// prefix, so that the server's write finds the object changed.
type racingStore struct {
	Store
	prefix string
	armed  atomic.Bool
	raced  atomic.Int32
}

func (r *racingStore) race(ctx context.Context, key string) {
	if !strings.HasPrefix(key, r.prefix) || !r.armed.CompareAndSwap(true, false) {
		return
	}
	if kv, err := r.Store.Get(ctx, key); err == nil {
		if _, err := r.Store.Update(ctx, key, kv.Value, kv.ModRev); err == nil {
			r.raced.Add(1)
		}
	}
}

func (r *racingStore) Update(ctx context.Context, key string, value []byte, rev int64) (store.KV, error) {
	r.race(ctx, key)
	return r.Store.Update(ctx, key, value, rev)
}

func (r *racingStore) Delete(ctx context.Context, key string, rev int64) (store.KV, error) {
	r.race(ctx, key)
	return r.Store.Delete(ctx, key, rev)
}

// newRacingServer is a test server over a racingStore.
func newRacingServer(t *testing.T) (*testServer, *racingStore) {
	t.Helper()
	var rs *racingStore
	ts := newTestServerWith(t, func(c *Config) {
		rs = &racingStore{Store: c.Store, prefix: "/registry/"}
		c.Store = rs
	})
	return ts, rs
}

// A DELETE is not refused because the object changed between the
// server's read and its write, as kube-apiserver's is not: the node
// agent's final delete of a Pod raced with a status update used to get
// a 409 and leave the Pod Terminating. With a resourceVersion
// precondition the caller asked for exactly that version, and the
// conflict stands.
func TestDeleteRetriesARacedWrite(t *testing.T) {
	t.Parallel()
	ts, rs := newRacingServer(t)
	ctx := context.Background()
	pods := ts.client.CoreV1().Pods("default")
	grace := int64(30)
	p, err := pods.Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.PodSpec{NodeName: "n1", TerminationGracePeriodSeconds: &grace, Containers: []corev1.Container{{Name: "c", Image: "x"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The graceful delete marks the Pod.
	rs.armed.Store(true)
	if err := pods.Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("graceful delete raced by a write: %v", err)
	}
	if got, _ := pods.Get(ctx, "web", metav1.GetOptions{}); got == nil || got.DeletionTimestamp == nil {
		t.Fatalf("the Pod is not marked for deletion: %+v", got)
	}
	// The agent's final delete, for this Pod's uid only.
	rs.armed.Store(true)
	zero := int64(0)
	if err := pods.Delete(ctx, "web", metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &p.UID}}); err != nil {
		t.Fatalf("final delete raced by a write: %v", err)
	}
	if _, err := pods.Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the Pod is still there after its final delete: %v", err)
	}
	// An object without grace: deleted at once.
	cms := ts.client.CoreV1().ConfigMaps("default")
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs.armed.Store(true)
	rv := cm.ResourceVersion
	if err := cms.Delete(ctx, "cfg", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv}}); !apierrors.IsConflict(err) {
		t.Fatalf("a delete pinned to a resourceVersion that a write replaced: %v, want a conflict", err)
	}
	rs.armed.Store(true)
	if err := cms.Delete(ctx, "cfg", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete raced by a write: %v", err)
	}
	if n := rs.raced.Load(); n != 4 {
		t.Errorf("the store raced %d writes, want 4", n)
	}
}

// A PUT without a resourceVersion is unconditional: a write landing
// between the server's read and its own is not a 409, as kube-apiserver
// retries it on the new state. With a resourceVersion the conflict stands.
func TestUnconditionalUpdateRetriesARacedWrite(t *testing.T) {
	t.Parallel()
	ts, rs := newRacingServer(t)
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg"}, Data: map[string]string{"k": "1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs.armed.Store(true)
	pinned := cm.DeepCopy()
	pinned.Data["k"] = "2"
	if _, err := cms.Update(ctx, pinned, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("an update pinned to a resourceVersion that a write replaced: %v, want a conflict", err)
	}
	rs.armed.Store(true)
	free := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg"}, Data: map[string]string{"k": "3"}}
	got, err := cms.Update(ctx, free, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("an update without a resourceVersion, raced by a write: %v", err)
	}
	if got.Data["k"] != "3" {
		t.Errorf("stored %v, want k=3", got.Data)
	}
	if n := rs.raced.Load(); n != 2 {
		t.Errorf("the store raced %d writes, want 2", n)
	}
}
