package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchObject returns a ConfigMap-like JSON object of about 600 bytes.
func benchObject(name string) []byte {
	return fmt.Appendf(nil, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":%q,"namespace":"bench",`+
		`"labels":{"app.kubernetes.io/name":"bench","app.kubernetes.io/instance":"bench-release",`+
		`"app.kubernetes.io/managed-by":"pkg"},"annotations":{"meta.helm.sh/release-name":"bench-release",`+
		`"meta.helm.sh/release-namespace":"bench"}},"data":{"config.yaml":"server:\n  port: 8080\n  `+
		`timeout: 30s\nlogging:\n  level: info\n  format: json\nfeatures:\n  alpha: false\n  beta: true\n",`+
		`"extra":"%0200d"}}`, name, 0)
}

// fill creates n objects under prefix with concurrent writers.
func fill(b *testing.B, s *Store, prefix string, n int) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				name := fmt.Sprintf("obj-%06d", i)
				if _, err := s.Create(context.Background(), prefix+name, benchObject(name)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkCreateParallel measures creates from many concurrent clients,
// each acknowledged after its transaction is synced to disk.
func BenchmarkCreateParallel(b *testing.B) {
	s := openTest(b, Options{})
	ctx := context.Background()
	var next atomic.Int64
	b.SetParallelism(32) // 32 clients per GOMAXPROCS
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			name := fmt.Sprintf("cm-%09d", next.Add(1))
			if _, err := s.Create(ctx, "/registry/configmaps/bench/"+name, benchObject(name)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "creates/s")
}

// BenchmarkCreateSerial measures one client creating objects one after
// another: each create waits for its own sync.
func BenchmarkCreateSerial(b *testing.B) {
	s := openTest(b, Options{})
	ctx := context.Background()
	i := 0
	start := time.Now()
	for b.Loop() {
		i++
		name := fmt.Sprintf("cm-%09d", i)
		if _, err := s.Create(ctx, "/registry/configmaps/bench/"+name, benchObject(name)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "creates/s")
}

// BenchmarkList10k lists 10,000 objects of about 600 bytes, at once and in
// pages of 500 as informers do, with 10,000 other objects in the store:
// plain config maps, and secrets that are decrypted on the way out.
func BenchmarkList10k(b *testing.B) {
	s := openTest(b, Options{SealedPrefixes: []string{"/registry/secrets/"}})
	fill(b, s, "/registry/configmaps/bench/", 10000)
	fill(b, s, "/registry/secrets/bench/", 10000)
	for _, prefix := range []string{"/registry/configmaps/", "/registry/secrets/"} {
		for _, limit := range []int64{0, 500} {
			b.Run(fmt.Sprintf("%s/limit=%d", prefix[len("/registry/"):len(prefix)-1], limit), func(b *testing.B) {
				for b.Loop() {
					listPages(b, s, prefix, limit, 10000)
				}
			})
		}
	}
}

// listPages lists prefix in pages of limit and checks the count.
func listPages(b *testing.B, s *Store, prefix string, limit int64, want int) {
	n := 0
	opts := ListOptions{Limit: limit}
	for {
		res, err := s.List(context.Background(), prefix, opts)
		if err != nil {
			b.Fatal(err)
		}
		n += len(res.Items)
		if res.Continue == "" {
			break
		}
		opts.Continue = res.Continue
	}
	if n != want {
		b.Fatalf("listed %d objects, want %d", n, want)
	}
}

// BenchmarkWatchLatency measures, for one client creating objects one
// after another, the time from calling Create to each watcher receiving the
// event (event-p50/p99) next to the time Create takes to return (ack-p50),
// with 1 and 100 watchers.
func BenchmarkWatchLatency(b *testing.B) {
	for _, watchers := range []int{1, 100} {
		b.Run(fmt.Sprintf("watchers=%d", watchers), func(b *testing.B) {
			s := openTest(b, Options{})
			ctx := context.Background()
			starts := make([]time.Time, 0, 1024)
			var acks []time.Duration
			received := make([][]time.Time, watchers)
			var wg sync.WaitGroup
			var ws []*Watcher
			for i := range watchers {
				w, err := s.Watch(ctx, "/registry/", 0)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(w.Stop)
				ws = append(ws, w)
				wg.Go(func() {
					for ev := range w.Events() {
						if ev.Type == EventBookmark {
							return
						}
						received[i] = append(received[i], time.Now())
					}
				})
			}
			i := 0
			for b.Loop() {
				i++
				name := fmt.Sprintf("cm-%09d", i)
				t0 := time.Now()
				if _, err := s.Create(ctx, "/registry/configmaps/bench/"+name, benchObject(name)); err != nil {
					b.Fatal(err)
				}
				acks = append(acks, time.Since(t0))
				starts = append(starts, t0)
			}
			b.StopTimer()
			// A bookmark after the last event ends each receiver.
			for _, w := range ws {
				w.Bookmark()
			}
			wg.Wait()
			var lat []time.Duration
			for _, r := range received {
				if len(r) != len(starts) {
					b.Fatalf("a watcher got %d events for %d creates", len(r), len(starts))
				}
				for j, at := range r {
					lat = append(lat, at.Sub(starts[j]))
				}
			}
			slices.Sort(lat)
			slices.Sort(acks)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "event-p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "event-p99-µs")
			b.ReportMetric(float64(acks[len(acks)/2].Microseconds()), "ack-p50-µs")
		})
	}
}
