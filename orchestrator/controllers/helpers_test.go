package controllers

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testcluster"
)

// start serves a fresh API server, runs the named controllers against it
// until the test ends and returns a client and a namespace to work in.
func start(t *testing.T, opts Options) (kubernetes.Interface, string) {
	t.Helper()
	tc := testcluster.Start(t)
	client := kubernetes.NewForConfigOrDie(tc.Config)
	ctx, cancel := context.WithCancel(context.Background())
	if opts.Logger == nil && os.Getenv("PKG_TEST_LOG") != "" {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, tc.Config, opts) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return after its context ended")
		}
	})
	ns := "test"
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	return client, ns
}

// eventually polls cond every 20ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ok, err := cond()
		if ok {
			return
		}
		last = err
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s (last error: %v)", timeout, what, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kubelet stands in for the node agents that do not exist yet: it marks
// Pods Running and Ready (or finished) through the status subresource,
// when the test asks or, when started, on its own after a delay.
type kubelet struct {
	client kubernetes.Interface
	ns     string
	ips    atomic.Int32
	// hold, when it returns true for a Pod, keeps the automatic loop
	// from making it ready.
	mu   sync.Mutex
	hold func(*corev1.Pod) bool
}

func newKubelet(client kubernetes.Interface, ns string) *kubelet {
	return &kubelet{client: client, ns: ns}
}

// setHold replaces the automatic loop's hold function.
func (k *kubelet) setHold(f func(*corev1.Pod) bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.hold = f
}

// auto makes every pending Pod ready delay after it was created, until
// the test ends.
func (k *kubelet) auto(t *testing.T, delay time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	// Creation timestamps have whole seconds: time Pods from when this
	// loop first sees them.
	seen := map[types.UID]time.Time{}
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			pods, err := k.client.CoreV1().Pods(k.ns).List(ctx, metav1.ListOptions{})
			if err == nil {
				k.mu.Lock()
				hold := k.hold
				k.mu.Unlock()
				for i := range pods.Items {
					p := &pods.Items[i]
					first, ok := seen[p.UID]
					if !ok {
						first = time.Now()
						seen[p.UID] = first
					}
					if p.Status.Phase != corev1.PodPending || p.DeletionTimestamp != nil || time.Since(first) < delay {
						continue
					}
					if hold != nil && hold(p) {
						continue
					}
					_ = k.setPhase(ctx, p, corev1.PodRunning, true)
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(15 * time.Millisecond):
			}
		}
	}()
}

// ready marks the named Pod Running and Ready (or not).
func (k *kubelet) ready(t *testing.T, name string, ready bool) {
	t.Helper()
	ctx := context.Background()
	for range 10 {
		p, err := k.client.CoreV1().Pods(k.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("getting pod %s: %v", name, err)
		}
		err = k.setPhase(ctx, p, corev1.PodRunning, ready)
		if err == nil {
			return
		}
		if !apierrors.IsConflict(err) {
			t.Fatalf("setting status of pod %s: %v", name, err)
		}
	}
	t.Fatalf("setting status of pod %s: too many conflicts", name)
}

// finish marks the named Pod Succeeded or Failed.
func (k *kubelet) finish(t *testing.T, name string, phase corev1.PodPhase) {
	t.Helper()
	ctx := context.Background()
	p, err := k.client.CoreV1().Pods(k.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("getting pod %s: %v", name, err)
	}
	if err := k.setPhase(ctx, p, phase, false); err != nil {
		t.Fatalf("setting phase of pod %s: %v", name, err)
	}
}

func (k *kubelet) setPhase(ctx context.Context, p *corev1.Pod, phase corev1.PodPhase, ready bool) error {
	now := metav1.Now()
	p = p.DeepCopy()
	p.Status.Phase = phase
	if p.Status.PodIP == "" {
		n := k.ips.Add(1)
		p.Status.PodIP = fmt.Sprintf("10.244.%d.%d", n/250, n%250+1)
		p.Status.PodIPs = []corev1.PodIP{{IP: p.Status.PodIP}}
		p.Status.StartTime = &now
	}
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	set := func(typ corev1.PodConditionType, s corev1.ConditionStatus) {
		for i := range p.Status.Conditions {
			if p.Status.Conditions[i].Type == typ {
				if p.Status.Conditions[i].Status != s {
					p.Status.Conditions[i].Status = s
					p.Status.Conditions[i].LastTransitionTime = now
				}
				return
			}
		}
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: typ, Status: s, LastTransitionTime: now})
	}
	set(corev1.PodScheduled, corev1.ConditionTrue)
	set(corev1.PodInitialized, corev1.ConditionTrue)
	set(corev1.ContainersReady, st)
	set(corev1.PodReady, st)
	_, err := k.client.CoreV1().Pods(k.ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	return err
}

// podTemplate is a minimal Pod template labelled app=name.
func podTemplate(name, image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: image,
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		}}},
	}
}

func ptr[T any](v T) *T { return &v }

// listPods lists the namespace's Pods matching selector.
func listPods(t *testing.T, client kubernetes.Interface, ns, selector string) []corev1.Pod {
	t.Helper()
	l, err := client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatalf("listing pods: %v", err)
	}
	return l.Items
}

// eventsFor lists the reasons and messages of the Events about name.
func eventsFor(t *testing.T, client kubernetes.Interface, ns, name string) []string {
	t.Helper()
	l, err := client.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{FieldSelector: "involvedObject.name=" + name})
	if err != nil {
		t.Fatalf("listing events: %v", err)
	}
	var out []string
	for _, e := range l.Items {
		out = append(out, e.Reason+": "+e.Message)
	}
	return out
}
