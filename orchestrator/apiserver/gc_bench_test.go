package apiserver

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkCreateWithCollector times creates of ConfigMaps owned by a
// ConfigMap while the garbage collector runs, over a store already
// holding 5,000 owned objects, and reports creates per second and the
// CPU the process used per create (as the Go runtime estimates it: user
// code plus garbage collection).
func BenchmarkCreateWithCollector(b *testing.B) {
	srv := newBenchServer(b)
	post := func(body string) (int, string) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/namespaces/default/configmaps", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	code, out := post(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"owner"}}`)
	if code != http.StatusCreated {
		b.Fatalf("owner: %d %s", code, out)
	}
	o, err := decodeObject([]byte(out))
	if err != nil {
		b.Fatal(err)
	}
	uid := str(o, "metadata", "uid")
	var seq atomic.Int64
	create := func() error {
		i := seq.Add(1)
		body := fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-%07d","ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"owner","uid":%q}]},"data":{"k":"v"}}`, i, uid)
		if code, out := post(body); code != http.StatusCreated {
			return fmt.Errorf("create: %d %s", code, out)
		}
		return nil
	}
	for range 5000 {
		if err := create(); err != nil {
			b.Fatal(err)
		}
	}
	b.SetParallelism(4)
	b.ResetTimer()
	cpu0 := cpuSeconds()
	began := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := create(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(began)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "creates/s")
	b.ReportMetric((cpuSeconds()-cpu0)*1e6/float64(b.N), "cpu-us/create")
}

// cpuSeconds returns the CPU time the process has used so far, as the Go
// runtime estimates it.
func cpuSeconds() float64 {
	samples := []metrics.Sample{{Name: "/cpu/classes/user:cpu-seconds"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(samples)
	var total float64
	for _, s := range samples {
		if s.Value.Kind() == metrics.KindFloat64 {
			total += s.Value.Float64()
		}
	}
	return total
}
