package controllers

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// expectationTTL is how long a controller waits for the informer to show
// its own creations and deletions before it trusts the cache anyway.
const expectationTTL = 5 * time.Minute

// expectations count, per controller key, the Pods a controller created or
// deleted that its informer has not shown yet, so that a sync does not act
// twice on a stale cache.
type expectations struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]*expectation
}

type expectation struct {
	adds    int
	deletes map[types.UID]bool
	at      time.Time
}

func newExpectations(now func() time.Time) *expectations {
	return &expectations{now: now, m: map[string]*expectation{}}
}

// expect records that key is about to create adds Pods and delete the Pods
// with the given uids.
func (e *expectations) expect(key string, adds int, deletes []types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := &expectation{adds: adds, deletes: map[types.UID]bool{}, at: e.now()}
	for _, u := range deletes {
		x.deletes[u] = true
	}
	e.m[key] = x
}

// created lowers key's expected creations by one (a creation seen, or one
// that failed).
func (e *expectations) created(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x := e.m[key]; x != nil && x.adds > 0 {
		x.adds--
	}
}

// deleted marks the deletion of uid as seen.
func (e *expectations) deleted(key string, uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x := e.m[key]; x != nil {
		delete(x.deletes, uid)
	}
}

// satisfied reports whether key has nothing in flight (or waited long
// enough).
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.m[key]
	return x == nil || (x.adds <= 0 && len(x.deletes) == 0) || e.now().Sub(x.at) > expectationTTL
}

// forget drops key's expectations.
func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
