package kube

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"pkg.dev/pkg/release"
)

// progress records what a wait reported.
type progress struct {
	mu    sync.Mutex
	calls int
	last  map[string]string // resource -> reason
}

func (p *progress) record(pending []release.Pending) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	p.last = map[string]string{}
	for _, x := range pending {
		p.last[x.Resource.GVK.Kind+"/"+x.Resource.Name] = x.Reason
	}
}

// await blocks until the last report says key waits for a reason holding
// want ("" means key is no longer reported).
func (p *progress) await(t *testing.T, key, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		reason, ok := p.last[key]
		calls := p.calls
		p.mu.Unlock()
		if calls > 0 && ((want == "" && !ok) || (want != "" && ok && strings.Contains(reason, want))) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t.Fatalf("never reported %s as %q; last report %v", key, want, p.last)
}

const waitManifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - {name: web, image: nginx}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: 80}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: m, image: busybox}
---
apiVersion: v1
kind: Pod
metadata: {name: solo}
spec:
  containers:
  - {name: c, image: busybox}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
`

// The resources become ready one by one, as controllers would make them;
// each poll reports what is still pending and why.
func TestWaitBecomesReady(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	list := e.create(waitManifest)
	dep, pvc, job, pod := list[0], list[1], list[3], list[4]
	p := &progress{}
	done := make(chan error, 1)
	go func() {
		done <- e.client.Wait(ctx(t), list, release.WaitOptions{Timeout: 20 * time.Second, Jobs: true, Progress: p.record})
	}()

	p.await(t, "Deployment/web", "new ReplicaSet does not exist yet")
	p.await(t, "PersistentVolumeClaim/data", "not bound")
	p.await(t, "Job/migrate", "0 of 1 completions succeeded")
	p.await(t, "Pod/solo", "not ready")
	p.await(t, "Service/web", "")
	p.await(t, "ConfigMap/cfg", "")

	rs := e.newReplicaSetFor(dep)
	e.setStatus(rs, map[string]any{"replicas": int64(2), "readyReplicas": int64(1), "observedGeneration": rs.Object.GetGeneration()})
	e.setStatus(dep, map[string]any{"observedGeneration": e.get(dep).GetGeneration()})
	p.await(t, "Deployment/web", "1 of 2 expected pods ready")
	e.setStatus(rs, map[string]any{"replicas": int64(2), "readyReplicas": int64(2), "availableReplicas": int64(2), "observedGeneration": rs.Object.GetGeneration()})
	p.await(t, "Deployment/web", "")

	e.setStatus(pvc, map[string]any{"phase": "Bound"})
	p.await(t, "PersistentVolumeClaim/data", "")
	e.setStatus(job, map[string]any{"succeeded": int64(1)})
	p.await(t, "Job/migrate", "")
	select {
	case err := <-done:
		t.Fatalf("Wait returned %v before the pod was ready", err)
	default:
	}
	e.setStatus(pod, map[string]any{"phase": "Running", "conditions": []any{map[string]any{"type": "Ready", "status": "True"}}})
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return once everything was ready")
	}
}

// newReplicaSetFor creates the ReplicaSet a Deployment controller would:
// owned by the Deployment, with its pod template.
func (e *env) newReplicaSetFor(dep *release.Resource) *release.Resource {
	e.t.Helper()
	live := e.get(dep)
	tmpl, _, _ := unstructured.NestedMap(live.Object, "spec", "template")
	sel, _, _ := unstructured.NestedMap(live.Object, "spec", "selector")
	_ = unstructured.SetNestedField(tmpl, "abc123", "metadata", "labels", "pod-template-hash")
	rs := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "ReplicaSet",
		"metadata": map[string]any{
			"name":      dep.Name + "-abc123",
			"namespace": dep.Namespace,
			"labels":    map[string]any{"app": "web", "pod-template-hash": "abc123"},
		},
		"spec": map[string]any{"replicas": int64(2), "selector": sel, "template": tmpl},
	}}
	rs.SetOwnerReferences([]metav1.OwnerReference{{
		APIVersion: "apps/v1", Kind: "Deployment", Name: dep.Name, UID: live.GetUID(),
		Controller: ptr(true), BlockOwnerDeletion: ptr(true),
	}})
	body, err := rs.MarshalJSON()
	if err != nil {
		e.t.Fatal(err)
	}
	list := e.build(string(body))
	if _, err := e.client.Create(ctx(e.t), list); err != nil {
		e.t.Fatal(err)
	}
	list[0].Object = e.get(list[0])
	return list[0]
}

func ptr[T any](v T) *T { return &v }

func TestWaitTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	list := e.create("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n")
	p := &progress{}
	start := time.Now()
	err := e.client.Wait(ctx(t), list, release.WaitOptions{Timeout: 300 * time.Millisecond, Progress: p.record})
	var te *WaitTimeoutError
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v, want a *WaitTimeoutError wrapping context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Wait took %v for a 300ms timeout", elapsed)
	}
	want := `timed out after 300ms waiting for 1 resource(s) to be ready: PersistentVolumeClaim "data" in namespace "default": not bound`
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want it to start %q", err, want)
	}
	if p.calls < 2 {
		t.Errorf("progress called %d times, want one per poll", p.calls)
	}
}

func TestWaitFailsAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name     string
		manifest string
		status   map[string]any
		jobs     bool
		want     string
	}{
		{"failed job", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  backoffLimit: 1\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: busybox}]\n",
			map[string]any{"failed": int64(2)}, true, "job is failed: default/j"},
		{"missing object", "", nil, false, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var list release.ResourceList
			if tt.manifest == "" {
				list = e.build("apiVersion: v1\nkind: Service\nmetadata: {name: ghost}\nspec: {ports: [{port: 80}]}\n")
			} else {
				list = e.create(tt.manifest)
				e.setStatus(list[0], tt.status)
			}
			err := e.client.Wait(ctx(t), list, release.WaitOptions{Timeout: 10 * time.Second, Jobs: tt.jobs})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Wait = %v, want an error with %q", err, tt.want)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Wait waited for its timeout: %v", err)
			}
		})
	}
}

func TestWaitForDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	list := e.create("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  finalizers: [example.com/hold]\n")
	if _, errs := e.client.Delete(ctx(t), list, release.DeleteOptions{}); len(errs) > 0 {
		t.Fatal(errs)
	}
	err := e.client.WaitForDelete(ctx(t), list, 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "example.com/hold") {
		t.Fatalf("WaitForDelete = %v, want a timeout naming the finalizer", err)
	}
	done := make(chan error, 1)
	go func() { done <- e.client.WaitForDelete(ctx(t), list, 10*time.Second) }()
	live := e.get(list[0])
	live.SetFinalizers(nil)
	if _, err := e.client.resourceClient(list[0]).Update(ctx(t), live, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
