package apiserver

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A watch from a resourceVersion just ahead of the store's (a client
// holding the version of a write acknowledged a moment before the
// store's watchers heard of it) waits for the store to catch up, as
// kube-apiserver's watch cache does, instead of failing at once.
func TestWatchFromVersionNotYetPublished(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	next := s.srv.cfg.Store.Revision() + 1
	type result struct {
		code int
		line string
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get(s.http.URL + "/api/v1/namespaces?watch=true&resourceVersion=" + strconv.FormatInt(next, 10))
		if err != nil {
			got <- result{line: err.Error()}
			return
		}
		defer resp.Body.Close()
		line, _ := bufio.NewReader(resp.Body).ReadString('\n')
		got <- result{resp.StatusCode, line}
	}()
	time.Sleep(100 * time.Millisecond) // the watch is waiting
	if c, st := s.do(t, "POST", "/api/v1/namespaces", "", `{"metadata":{"name":"fresh"}}`); c != 201 {
		t.Fatalf("create: %d %+v", c, st)
	}
	// The namespace's revision is next: the watch starts after it, so the
	// next event it sees is the one below.
	if c, st := s.do(t, "POST", "/api/v1/namespaces", "", `{"metadata":{"name":"fresher"}}`); c != 201 {
		t.Fatalf("create: %d %+v", c, st)
	}
	select {
	case r := <-got:
		if r.code != 200 || !strings.Contains(r.line, `"fresher"`) {
			t.Fatalf("watch answered %d %q", r.code, r.line)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the watch delivered nothing")
	}
}
