package scheduler

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testcluster"
)

// BenchmarkScheduleThroughAPI measures scheduling as kube-scheduler's
// scheduler_perf does: a real API server (ours, over its bbolt store,
// fsync on), Nodes and Pods created through it, and the scheduler
// running against it with informers, binding through the binding
// subresource. The figure is Pods bound per second, from the scheduler's
// start to the last binding seen through the API.
//
//	go test ./orchestrator/scheduler -run '^$' -bench ScheduleThroughAPI -benchtime 1x
func BenchmarkScheduleThroughAPI(b *testing.B) {
	for _, tc := range []struct {
		name              string
		nodes, init, pods int
	}{
		// scheduler_perf's SchedulingBasic shape.
		{"SchedulingBasic/500Nodes/500InitPods/1000Pods", 500, 500, 1000},
		// The shape.
		{"100Nodes/5000Pods", 100, 0, 5000},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var rate float64
			for range b.N {
				rate = scheduleThroughAPI(b, tc.nodes, tc.init, tc.pods)
			}
			b.ReportMetric(rate, "pods/s")
		})
	}
}

func scheduleThroughAPI(b *testing.B, nodes, initPods, pods int) float64 {
	b.StopTimer()
	c := testcluster.Start(b)
	cfg := *c.Config
	cfg.QPS, cfg.Burst = -1, 0
	cs, err := kubernetes.NewForConfig(&cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	parallel(b, nodes, func(i int) error {
		n := node(fmt.Sprintf("node-%04d", i), "32", "256Gi", map[string]string{"topology.kubernetes.io/zone": fmt.Sprintf("z%d", i%3)})
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
		_, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
		return err
	})
	// Pods already bound, as scheduler_perf's init pods.
	parallel(b, initPods, func(i int) error {
		p := pod(fmt.Sprintf("init-%05d", i), "100m", "128Mi", map[string]string{"app": "init"})
		p.Spec.NodeName = fmt.Sprintf("node-%04d", i%nodes)
		_, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{})
		return err
	})
	parallel(b, pods, func(i int) error {
		_, err := cs.CoreV1().Pods("default").Create(ctx, pod(fmt.Sprintf("p-%05d", i), "100m", "128Mi", map[string]string{"app": "bench"}), metav1.CreateOptions{})
		return err
	})
	// Bindings are counted from a watch, as they reach the API.
	list, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=bench", Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	w, err := cs.CoreV1().Pods("default").Watch(ctx, metav1.ListOptions{LabelSelector: "app=bench", ResourceVersion: list.ResourceVersion})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	s := New(cs, Options{})
	b.StartTimer()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	bound := map[string]bool{}
	timeout := time.After(5 * time.Minute)
	for len(bound) < pods {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				b.Fatal("the watch ended")
			}
			if p, ok := ev.Object.(*corev1.Pod); ok && p.Spec.NodeName != "" {
				bound[p.Name] = true
			}
		case <-timeout:
			b.Fatalf("%d of %d Pods bound after 5 minutes", len(bound), pods)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	<-done
	return float64(pods) / elapsed.Seconds()
}

// parallel runs f(0..n-1) on 16 goroutines and fails on the first error.
func parallel(b *testing.B, n int, f func(int) error) {
	b.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}
