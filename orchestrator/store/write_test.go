package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
)

func TestCRUD(t *testing.T) {
	t.Parallel()
	type step struct {
		op      string // create, update, delete, get
		key     string
		value   string
		expect  int64 // expected mod revision for update and delete
		wantErr error
		want    KV // compared when wantErr is nil
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"create then get", []step{
			{op: "create", key: "/k", value: "v1", want: KV{Key: "/k", Value: []byte("v1"), CreateRev: 2, ModRev: 2}},
			{op: "get", key: "/k", want: KV{Key: "/k", Value: []byte("v1"), CreateRev: 2, ModRev: 2}},
		}},
		{"create twice", []step{
			{op: "create", key: "/k", value: "v1", want: KV{Key: "/k", Value: []byte("v1"), CreateRev: 2, ModRev: 2}},
			{op: "create", key: "/k", value: "v2", wantErr: ErrAlreadyExists},
			{op: "get", key: "/k", want: KV{Key: "/k", Value: []byte("v1"), CreateRev: 2, ModRev: 2}},
		}},
		{"get missing", []step{
			{op: "get", key: "/nope", wantErr: ErrNotFound},
		}},
		{"update keeps create revision", []step{
			{op: "create", key: "/k", value: "v1", want: KV{Key: "/k", Value: []byte("v1"), CreateRev: 2, ModRev: 2}},
			{op: "create", key: "/other", value: "x", want: KV{Key: "/other", Value: []byte("x"), CreateRev: 3, ModRev: 3}},
			{op: "update", key: "/k", value: "v2", expect: 2, want: KV{Key: "/k", Value: []byte("v2"), CreateRev: 2, ModRev: 4}},
			{op: "get", key: "/k", want: KV{Key: "/k", Value: []byte("v2"), CreateRev: 2, ModRev: 4}},
		}},
		{"unconditional update", []step{
			{op: "create", key: "/k", value: "v1", want: KV{Key: "/k", Value: []byte("v1"), CreateRev: 2, ModRev: 2}},
			{op: "update", key: "/k", value: "v2", want: KV{Key: "/k", Value: []byte("v2"), CreateRev: 2, ModRev: 3}},
		}},
		{"stale update conflicts", []step{
			{op: "create", key: "/k", value: "v1", want: KV{Key: "/k", Value: []byte("v1"), CreateRev: 2, ModRev: 2}},
			{op: "update", key: "/k", value: "v2", expect: 2, want: KV{Key: "/k", Value: []byte("v2"), CreateRev: 2, ModRev: 3}},
			{op: "update", key: "/k", value: "v3", expect: 2, wantErr: ErrConflict},
			{op: "get", key: "/k", want: KV{Key: "/k", Value: []byte("v2"), CreateRev: 2, ModRev: 3}},
		}},
		{"update missing", []step{
			{op: "update", key: "/k", value: "v", wantErr: ErrNotFound},
		}},
		{"delete returns last value at deletion revision", []step{
			{op: "create", key: "/k", value: "v1", want: KV{Key: "/k", Value: []byte("v1"), CreateRev: 2, ModRev: 2}},
			{op: "delete", key: "/k", expect: 2, want: KV{Key: "/k", Value: []byte("v1"), CreateRev: 2, ModRev: 3}},
			{op: "get", key: "/k", wantErr: ErrNotFound},
			{op: "delete", key: "/k", wantErr: ErrNotFound},
		}},
		{"stale delete conflicts", []step{
			{op: "create", key: "/k", value: "v1", want: KV{Key: "/k", Value: []byte("v1"), CreateRev: 2, ModRev: 2}},
			{op: "update", key: "/k", value: "v2", want: KV{Key: "/k", Value: []byte("v2"), CreateRev: 2, ModRev: 3}},
			{op: "delete", key: "/k", expect: 2, wantErr: ErrConflict},
			{op: "get", key: "/k", want: KV{Key: "/k", Value: []byte("v2"), CreateRev: 2, ModRev: 3}},
		}},
		{"recreate after delete", []step{
			{op: "create", key: "/k", value: "v1", want: KV{Key: "/k", Value: []byte("v1"), CreateRev: 2, ModRev: 2}},
			{op: "delete", key: "/k", want: KV{Key: "/k", Value: []byte("v1"), CreateRev: 2, ModRev: 3}},
			{op: "create", key: "/k", value: "v2", want: KV{Key: "/k", Value: []byte("v2"), CreateRev: 4, ModRev: 4}},
		}},
		{"empty value", []step{
			{op: "create", key: "/k", value: "", want: KV{Key: "/k", Value: []byte{}, CreateRev: 2, ModRev: 2}},
			{op: "get", key: "/k", want: KV{Key: "/k", Value: []byte{}, CreateRev: 2, ModRev: 2}},
		}},
		{"invalid arguments", []step{
			{op: "create", key: "", value: "v", wantErr: ErrInvalid},
			{op: "update", key: "/k", value: "v", expect: -1, wantErr: ErrInvalid},
			{op: "create", key: "/k", value: "v", want: KV{Key: "/k", Value: []byte("v"), CreateRev: 2, ModRev: 2}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := openTest(t, Options{})
			ctx := context.Background()
			for i, st := range tt.steps {
				var got KV
				var err error
				switch st.op {
				case "create":
					got, err = s.Create(ctx, st.key, []byte(st.value))
				case "update":
					got, err = s.Update(ctx, st.key, []byte(st.value), st.expect)
				case "delete":
					got, err = s.Delete(ctx, st.key, st.expect)
				case "get":
					got, err = s.Get(ctx, st.key)
				}
				if st.wantErr != nil {
					if !errors.Is(err, st.wantErr) {
						t.Fatalf("step %d %s %s: err = %v, want %v", i, st.op, st.key, err, st.wantErr)
					}
					var se *Error
					if !errors.As(err, &se) || se.Op != st.op || se.Key != st.key {
						t.Fatalf("step %d: error %#v does not name op %s and key %q", i, err, st.op, st.key)
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d %s %s: %v", i, st.op, st.key, err)
				}
				if fmt.Sprint(got) != fmt.Sprint(st.want) || string(got.Value) != string(st.want.Value) {
					t.Fatalf("step %d %s %s = %+v, want %+v", i, st.op, st.key, got, st.want)
				}
			}
		})
	}
}

func TestConflictMessage(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	mustCreate(t, s, "/k", "v")
	_, err := s.Update(context.Background(), "/k", []byte("w"), 7)
	want := `update "/k": conflict: the object has been modified: it is at revision 2, not 7`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
}

// TestOptimisticCounter increments one counter from many goroutines with
// read-modify-write loops; only correct conflict detection keeps every
// increment.
func TestOptimisticCounter(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	mustCreate(t, s, "/counter", "0")
	const workers, each = 8, 15
	var wg sync.WaitGroup
	var conflicts sync.Map
	for w := range workers {
		wg.Go(func() {
			for range each {
				for {
					kv, err := s.Get(ctx, "/counter")
					if err != nil {
						t.Error(err)
						return
					}
					n, _ := strconv.Atoi(string(kv.Value))
					_, err = s.Update(ctx, "/counter", []byte(strconv.Itoa(n+1)), kv.ModRev)
					if errors.Is(err, ErrConflict) {
						conflicts.Store(w, true)
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					break
				}
			}
		})
	}
	wg.Wait()
	kv, err := s.Get(ctx, "/counter")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(kv.Value), strconv.Itoa(workers*each); got != want {
		t.Errorf("counter = %s, want %s", got, want)
	}
	if got, want := kv.ModRev, int64(initialRevision+1+workers*each); got != want {
		t.Errorf("counter ModRev = %d, want %d (conflicting writes must not bump the revision)", got, want)
	}
	if got := s.Revision(); got != kv.ModRev {
		t.Errorf("Revision() = %d, want %d", got, kv.ModRev)
	}
}

// TestConcurrentCreatesGetDistinctRevisions checks that grouped commits
// hand out each revision once.
func TestConcurrentCreatesGetDistinctRevisions(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{MaxBatch: 16})
	const n = 300
	revs := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			kv, err := s.Create(context.Background(), fmt.Sprintf("/k/%03d", i), []byte("v"))
			if err != nil {
				t.Error(err)
				return
			}
			revs[i] = kv.ModRev
		})
	}
	wg.Wait()
	seen := make(map[int64]bool)
	for i, r := range revs {
		if r <= initialRevision || r > initialRevision+n || seen[r] {
			t.Fatalf("create %d got revision %d (out of range or duplicate)", i, r)
		}
		seen[r] = true
	}
	if s.Revision() != initialRevision+n {
		t.Errorf("Revision() = %d, want %d", s.Revision(), initialRevision+n)
	}
}

func TestRestartPersists(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "/a", "1")
	mustCreate(t, s, "/b", "2")
	if _, err := s.Update(ctx, "/a", []byte("1b"), 2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, "/b", 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Get(ctx, "/a"); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close: err = %v, want ErrClosed", err)
	}
	if _, err := s.Create(ctx, "/c", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Create after Close: err = %v, want ErrClosed", err)
	}

	s = openDir(t, dir, Options{})
	if got := s.Revision(); got != 5 {
		t.Fatalf("Revision after restart = %d, want 5", got)
	}
	kv, err := s.Get(ctx, "/a")
	if err != nil || string(kv.Value) != "1b" || kv.CreateRev != 2 || kv.ModRev != 4 {
		t.Fatalf("Get(/a) = %+v, %v; want 1b created at 2, modified at 4", kv, err)
	}
	if _, err := s.Get(ctx, "/b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(/b) err = %v, want ErrNotFound", err)
	}
	if kv := mustCreate(t, s, "/c", "3"); kv.ModRev != 6 {
		t.Fatalf("first write after restart got revision %d, want 6", kv.ModRev)
	}
	// The history is not persisted: only the current revision can be
	// watched from.
	if _, err := s.Watch(ctx, "/", 3); !errors.Is(err, ErrCompacted) {
		t.Fatalf("Watch from a revision before the restart: err = %v, want ErrCompacted", err)
	}
}

func TestCanceledContext(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := map[string]func() error{
		"create": func() error { _, err := s.Create(ctx, "/k", nil); return err },
		"update": func() error { _, err := s.Update(ctx, "/k", nil, 0); return err },
		"delete": func() error { _, err := s.Delete(ctx, "/k", 0); return err },
		"get":    func() error { _, err := s.Get(ctx, "/k"); return err },
		"list":   func() error { _, err := s.List(ctx, "/", ListOptions{}); return err },
		"watch":  func() error { _, err := s.Watch(ctx, "/", 0); return err },
		"open":   func() error { _, err := Open(ctx, t.TempDir(), Options{}); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(); !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
		})
	}
	if s.Revision() != initialRevision {
		t.Errorf("a canceled write was committed")
	}
}
