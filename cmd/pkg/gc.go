package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// Most pkg commands (a rollback, a status, a template) live well under a
// second with a few megabytes of live heap, and at the collector's default
// pace (a cycle each time the heap doubles, from 4 MB) they run five or
// six collections on the way. shortLivedGC lets the heap grow to five
// times its live size instead, under a soft limit of 256 MiB, and gives
// the default pace back for good after two seconds (the orchestrator's
// server, port-forwards, --wait) or once a collection finds more than
// 64 MiB live (a large repository index), so long and large work keeps
// its footprint. GOGC or GOMEMLIMIT set by the user wins, and the
// orchestrator's server ("pkg cluster serve") keeps the default pace from
// its start, where its start-up memory is measured and trimmed.
const (
	shortLivedGCPercent = 400
	shortLivedLimit     = 256 << 20
	shortLivedMaxLive   = 64 << 20
	shortLivedFor       = 2 * time.Second
)

func shortLivedGC(args []string) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" || serving(args) {
		return
	}
	prevPercent := debug.SetGCPercent(shortLivedGCPercent)
	prevLimit := debug.SetMemoryLimit(shortLivedLimit)
	var mu sync.Mutex
	done := false
	restore := func() {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			done = true
			debug.SetGCPercent(prevPercent)
			debug.SetMemoryLimit(prevLimit)
		}
	}
	time.AfterFunc(shortLivedFor, restore)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	// A finalizer runs after each collection that frees its object: it
	// looks at the live heap and arms the next one.
	var watch func(*gcSentinel)
	watch = func(*gcSentinel) {
		metrics.Read(sample)
		if v := sample[0].Value; v.Kind() == metrics.KindUint64 && v.Uint64() > shortLivedMaxLive {
			restore()
		}
		mu.Lock()
		stop := done
		mu.Unlock()
		if !stop {
			runtime.SetFinalizer(new(gcSentinel), watch)
		}
	}
	runtime.SetFinalizer(new(gcSentinel), watch)
}

// gcSentinel is the object whose finalizer runs after a collection. It
// holds a pointer so that it is never one of the tiny allocations that
// share a block, whose finalizers may not run.
type gcSentinel struct {
	_ *int
	_ [8]byte
}

// serving tells whether args run the orchestrator's server.
func serving(args []string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "cluster" && args[i+1] == "serve" {
			return true
		}
	}
	return false
}
