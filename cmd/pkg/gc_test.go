package main

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestShortLivedGC: the collector's pace is relaxed for a short command,
// and given back once a collection finds a large live heap.
func TestShortLivedGC(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	shortLivedGC([]string{"cluster", "serve"})
	if p := debug.SetGCPercent(-1); p != 100 {
		t.Fatalf("GC percent %d for the server, want the default", p)
	}
	debug.SetGCPercent(100)
	shortLivedGC([]string{"rollback", "web"})
	if p := debug.SetGCPercent(-1); p != shortLivedGCPercent {
		t.Fatalf("GC percent %d after shortLivedGC, want %d", p, shortLivedGCPercent)
	}
	debug.SetGCPercent(shortLivedGCPercent)
	if l := debug.SetMemoryLimit(-1); l != shortLivedLimit {
		t.Fatalf("memory limit %d, want %d", l, shortLivedLimit)
	}
	// More than shortLivedMaxLive live through a collection: the default
	// pace comes back (the finalizer runs after the cycle, on its own
	// goroutine).
	big := make([][]byte, 0, 96)
	for range 96 {
		big = append(big, make([]byte, 1<<20))
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		p := debug.SetGCPercent(-1)
		debug.SetGCPercent(p)
		if p == 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GC percent still %d with %d MiB live", p, len(big))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if l := debug.SetMemoryLimit(-1); l == shortLivedLimit {
		t.Errorf("the memory limit was not given back")
	}
	runtime.KeepAlive(big)
}

// TestShortLivedGCLeavesUsersSetting: GOGC set by the user is kept.
func TestShortLivedGCLeavesUsersSetting(t *testing.T) {
	t.Setenv("GOGC", "150")
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	shortLivedGC([]string{"template", "x", "chart"})
	if p := debug.SetGCPercent(-1); p != 150 {
		t.Errorf("GC percent %d, want the user's 150", p)
	}
}
