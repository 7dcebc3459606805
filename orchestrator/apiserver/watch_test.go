package apiserver

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"

	"pkg.dev/pkg/orchestrator/store"
)

// nextEvent waits for one watch event.
func nextEvent(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no watch event")
	}
	return watch.Event{}
}

func TestWatch(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")
	first, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a", Labels: map[string]string{"w": "yes"}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("from resourceVersion with selector", func(t *testing.T) {
		w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: first.ResourceVersion, LabelSelector: "w=yes"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		b, _ := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "b", Labels: map[string]string{"w": "yes"}}}, metav1.CreateOptions{})
		if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "ignored"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		b.Data = map[string]string{"x": "1"}
		if b, err = cms.Update(ctx, b, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		b.Labels = nil // leaves the selection: reported as a deletion
		if _, err := cms.Update(ctx, b, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, want := range []watch.EventType{watch.Added, watch.Modified, watch.Deleted} {
			ev := nextEvent(t, w)
			cm, ok := ev.Object.(*corev1.ConfigMap)
			if ev.Type != want || !ok || cm.Name != "b" {
				t.Fatalf("got %s %#v, want %s of b", ev.Type, ev.Object, want)
			}
		}
	})

	t.Run("initial state and delete", func(t *testing.T) {
		w, err := cms.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=a"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if ev := nextEvent(t, w); ev.Type != watch.Added {
			t.Fatalf("first event %s", ev.Type)
		}
		if err := cms.Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		ev := nextEvent(t, w)
		if cm, _ := ev.Object.(*corev1.ConfigMap); ev.Type != watch.Deleted || cm == nil || cm.ResourceVersion == first.ResourceVersion {
			t.Fatalf("got %s %#v", ev.Type, ev.Object)
		}
	})

	t.Run("sendInitialEvents", func(t *testing.T) {
		w, err := cms.Watch(ctx, metav1.ListOptions{
			SendInitialEvents: new(true), AllowWatchBookmarks: true,
			ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		for {
			ev := nextEvent(t, w)
			if ev.Type == watch.Bookmark {
				cm := ev.Object.(*corev1.ConfigMap)
				if cm.Annotations[initialEventsEndAnnotation] != "true" {
					t.Fatalf("bookmark without annotation: %#v", cm)
				}
				break
			}
			if ev.Type != watch.Added {
				t.Fatalf("initial event %s", ev.Type)
			}
		}
	})
}

func TestWatchCompacted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), store.Options{HistorySize: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := New(ctx, Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1", nil)
	rec := &recorder{header: http.Header{}}
	srv.ServeHTTP(rec, req)
	var ev struct {
		Type   string
		Object metav1.Status
	}
	if err := json.Unmarshal(rec.body, &ev); err != nil {
		t.Fatalf("%v: %s", err, rec.body)
	}
	if ev.Type != "ERROR" || ev.Object.Code != http.StatusGone || ev.Object.Reason != metav1.StatusReasonExpired {
		t.Fatalf("got %s", rec.body)
	}
	if !apierrors.IsResourceExpired(&apierrors.StatusError{ErrStatus: ev.Object}) {
		t.Fatal("not recognised as expired")
	}
}

// recorder is a minimal http.ResponseWriter for handlers that stream.
type recorder struct {
	header http.Header
	code   int
	body   []byte
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(code int)        { r.code = code }
func (r *recorder) Write(b []byte) (int, error) { r.body = append(r.body, b...); return len(b), nil }

func TestInformer(t *testing.T) {
	t.Parallel()
	var watchList atomic.Bool
	ts := newTestServerWith(t, func(c *Config) {
		c.Middleware = append(c.Middleware, func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("sendInitialEvents") == "true" {
					watchList.Store(true)
				}
				next.ServeHTTP(w, r)
			})
		})
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cms := ts.client.CoreV1().ConfigMaps("default")
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "pre"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	factory := informers.NewSharedInformerFactoryWithOptions(ts.client, 0, informers.WithNamespace("default"))
	inf := factory.Core().V1().ConfigMaps().Informer()
	var mu sync.Mutex
	var seen []string
	note := func(s string) {
		mu.Lock()
		seen = append(seen, s)
		mu.Unlock()
	}
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { note("add " + o.(*corev1.ConfigMap).Name) },
		UpdateFunc: func(_, o any) { note("update " + o.(*corev1.ConfigMap).Name) },
		DeleteFunc: func(o any) {
			if cm, ok := o.(*corev1.ConfigMap); ok {
				note("delete " + cm.Name)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	syncCtx, syncCancel := context.WithTimeout(ctx, 10*time.Second)
	defer syncCancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), inf.HasSynced) {
		t.Fatal("informer never synced")
	}
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "new"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data = map[string]string{"a": "b"}
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "new", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if !watchList.Load() {
		t.Error("client-go did not use a watch-list (sendInitialEvents) request")
	}
	want := []string{"add pre", "add new", "update new", "delete new"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		got := append([]string(nil), seen...)
		mu.Unlock()
		if len(got) >= len(want) {
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("events %v, want %v", got, want)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("events %v, want %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWatchBookmarks(t *testing.T) {
	t.Parallel()
	ts := newTestServerWith(t, func(c *Config) { c.BookmarkInterval = 20 * time.Millisecond })
	ctx := context.Background()
	list, err := ts.client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := ts.client.CoreV1().Pods("default").Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion, AllowWatchBookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ev := nextEvent(t, w)
	if p, ok := ev.Object.(*corev1.Pod); ev.Type != watch.Bookmark || !ok || p.ResourceVersion != list.ResourceVersion {
		t.Fatalf("got %s %#v", ev.Type, ev.Object)
	}
}

func TestMetadataClient(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	if _, err := ts.client.AppsV1().Deployments("default").Create(ctx, deployment("web", 1), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	mc, err := metadata.NewForConfig(ts.config)
	if err != nil {
		t.Fatal(err)
	}
	deps := mc.Resource(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}).Namespace("default")
	list, err := deps.List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 || list.Items[0].Name != "web" || list.Items[0].Kind != "PartialObjectMetadata" {
		t.Fatalf("list: %v %+v", err, list)
	}
	got, err := deps.Get(ctx, "web", metav1.GetOptions{})
	if err != nil || got.UID == "" {
		t.Fatalf("get: %v %+v", err, got)
	}
	w, err := deps.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if ev := nextEvent(t, w); ev.Type != watch.Added || ev.Object.(*metav1.PartialObjectMetadata).Name != "web" {
		t.Fatalf("event %s %#v", ev.Type, ev.Object)
	}
}
