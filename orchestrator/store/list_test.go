package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// listAll pages through prefix with limit and returns the keys and values
// seen, as "key=value", and the revisions each page reported. It checks
// that each page's Remaining counts the items the following pages hold.
func listAll(t *testing.T, s *Store, prefix string, limit int64) ([]string, []int64) {
	t.Helper()
	var items []string
	var revs []int64
	var seen, remaining []int64 // items up to and after each page
	defer func() {
		for i := range seen {
			if want := int64(len(items)) - seen[i]; remaining[i] != want {
				t.Errorf("page %d of %q: Remaining %d, want %d", i, prefix, remaining[i], want)
			}
		}
	}()
	opts := ListOptions{Limit: limit}
	for {
		res, err := s.List(context.Background(), prefix, opts)
		if err != nil {
			t.Fatalf("List(%q, %+v): %v", prefix, opts, err)
		}
		if limit > 0 && int64(len(res.Items)) > limit {
			t.Fatalf("page of %d items exceeds limit %d", len(res.Items), limit)
		}
		for _, kv := range res.Items {
			items = append(items, kv.Key+"="+string(kv.Value))
		}
		revs = append(revs, res.Rev)
		seen, remaining = append(seen, int64(len(items))), append(remaining, res.Remaining)
		if res.Continue == "" {
			return items, revs
		}
		opts.Continue = res.Continue
	}
}

func TestListPages(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	var want []string
	for i := range 10 {
		key := fmt.Sprintf("/registry/pods/ns/p%02d", i)
		mustCreate(t, s, key, fmt.Sprint(i))
		want = append(want, fmt.Sprintf("%s=%d", key, i))
	}
	// Neighbours that a prefix must not pick up.
	mustCreate(t, s, "/registry/pods/ns2/p", "x")
	mustCreate(t, s, "/registry/pods/nt", "x")
	mustCreate(t, s, "/registry/pod", "x")

	tests := []struct {
		prefix string
		limit  int64
		want   []string
		pages  int
	}{
		{"/registry/pods/ns/", 0, want, 1},
		{"/registry/pods/ns/", 1, want, 10},
		{"/registry/pods/ns/", 3, want, 4},
		{"/registry/pods/ns/", 5, want, 2},
		{"/registry/pods/ns/", 10, want, 1},
		{"/registry/pods/ns/", 100, want, 1},
		{"/registry/pods/ns/p05", 0, want[5:6], 1},
		{"/registry/pods/none/", 2, nil, 1},
		{"/registry/pods/ns2/", 0, []string{"/registry/pods/ns2/p=x"}, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s limit %d", tt.prefix, tt.limit), func(t *testing.T) {
			t.Parallel()
			got, revs := listAll(t, s, tt.prefix, tt.limit)
			if !slices.Equal(got, tt.want) {
				t.Errorf("items = %v, want %v", got, tt.want)
			}
			if len(revs) != tt.pages {
				t.Errorf("%d pages, want %d", len(revs), tt.pages)
			}
			for _, r := range revs {
				if r != 14 {
					t.Errorf("page revision %d, want 14", r)
				}
			}
		})
	}
	all, _ := listAll(t, s, "", 4)
	if len(all) != 13 {
		t.Errorf("listing everything returned %d items, want 13", len(all))
	}
}

// TestListContinueShowsPinnedRevision changes the data between pages: the
// following pages must show it as it was when the first page was read.
func TestListContinueShowsPinnedRevision(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	for i := range 10 {
		mustCreate(t, s, fmt.Sprintf("/p/%02d", i), "v0")
	}
	before, _ := listAll(t, s, "/p/", 0)

	first, err := s.List(ctx, "/p/", ListOptions{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	// Change keys before, at and after the page boundary.
	if _, err := s.Update(ctx, "/p/01", []byte("v1"), 0); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"/p/04", "/p/07"} {
		if _, err := s.Update(ctx, k, []byte("v1"), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(ctx, k, []byte("v2"), 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"/p/05", "/p/09"} {
		if _, err := s.Delete(ctx, k, 0); err != nil {
			t.Fatal(err)
		}
	}
	mustCreate(t, s, "/p/055", "new")
	mustCreate(t, s, "/p/99", "new")
	mustCreate(t, s, "/p/06x", "new")
	if _, err := s.Delete(ctx, "/p/06x", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, "/p/08", 0); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "/p/08", "recreated")

	got := []string{}
	for _, kv := range first.Items {
		got = append(got, kv.Key+"="+string(kv.Value))
	}
	opts := ListOptions{Limit: 3, Continue: first.Continue}
	for opts.Continue != "" {
		res, err := s.List(ctx, "/p/", opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Rev != first.Rev {
			t.Fatalf("continued page at revision %d, want %d", res.Rev, first.Rev)
		}
		for _, kv := range res.Items {
			if kv.ModRev > first.Rev {
				t.Errorf("%s has ModRev %d after the pinned revision %d", kv.Key, kv.ModRev, first.Rev)
			}
			got = append(got, kv.Key+"="+string(kv.Value))
		}
		if want := int64(len(before) - len(got)); res.Remaining != want {
			t.Errorf("continued page: Remaining %d, want %d of the pinned revision", res.Remaining, want)
		}
		opts.Continue = res.Continue
	}
	if !slices.Equal(got, before) {
		t.Errorf("paged list = %v\nwant the snapshot %v", got, before)
	}
	now, _ := listAll(t, s, "/p/", 0)
	if slices.Equal(now, before) {
		t.Fatalf("the changes did not change the data; the test proves nothing")
	}
}

// TestListConsistentUnderConcurrentWrites pages through a prefix while
// writers keep changing it, and checks every paged list against the state
// at its pinned revision, rebuilt from a watch of all changes.
func TestListConsistentUnderConcurrentWrites(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{HistorySize: 100000})
	ctx := context.Background()
	w, err := s.Watch(ctx, "/", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for i := range 60 {
		if i%2 == 0 {
			mustCreate(t, s, fmt.Sprintf("/c/%02d", i), "initial")
		}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("/c/%02d", r.IntN(60))
				var err error
				switch r.IntN(3) {
				case 0:
					_, err = s.Create(ctx, key, fmt.Appendf(nil, "g%d-%d", g, n))
				case 1:
					_, err = s.Update(ctx, key, fmt.Appendf(nil, "g%d-%d", g, n), 0)
				case 2:
					_, err = s.Delete(ctx, key, 0)
				}
				if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrAlreadyExists) {
					t.Error(err)
					return
				}
			}
		})
	}

	type listing struct {
		rev   int64
		items []string
	}
	// waitWrites waits until n more writes have been committed, so that
	// the data changes between pages.
	waitWrites := func(n int64) {
		target := s.Revision() + n
		for s.Revision() < target {
			select {
			case <-time.After(time.Millisecond):
			case <-ctx.Done():
			}
		}
	}
	var lists []listing
	for range 15 {
		waitWrites(3)
		l := listing{rev: -1}
		opts := ListOptions{Limit: 4}
		for {
			res, err := s.List(ctx, "/c/", opts)
			if err != nil {
				t.Fatal(err)
			}
			if l.rev == -1 {
				l.rev = res.Rev
			} else if res.Rev != l.rev {
				t.Fatalf("pages of one list at revisions %d and %d", l.rev, res.Rev)
			}
			for _, kv := range res.Items {
				l.items = append(l.items, kv.Key+"="+string(kv.Value))
			}
			if res.Continue == "" {
				break
			}
			opts.Continue = res.Continue
			waitWrites(5)
		}
		lists = append(lists, l)
	}
	first, last := lists[0].rev, s.Revision()
	close(stop)
	wg.Wait()

	// Replay the watch up to each listing's revision.
	state := map[string]string{}
	rev := int64(initialRevision)
	for _, l := range lists {
		for rev < l.rev {
			ev := receive(t, w)
			if ev.Rev != rev+1 {
				t.Fatalf("watch jumped from revision %d to %d", rev, ev.Rev)
			}
			rev = ev.Rev
			if ev.Type == EventDeleted {
				delete(state, ev.Object.Key)
			} else {
				state[ev.Object.Key] = string(ev.Object.Value)
			}
		}
		var want []string
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range state {
				if strings.HasPrefix(k, "/c/") && !yield(k) {
					return
				}
			}
		}) {
			want = append(want, k+"="+state[k])
		}
		if !slices.Equal(l.items, want) {
			t.Fatalf("list at revision %d = %v\nwant %v", l.rev, l.items, want)
		}
	}
	t.Logf("%d lists checked across revisions %d..%d", len(lists), first, last)
}

func TestListContinueErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("compacted by Compact", func(t *testing.T) {
		t.Parallel()
		s := openTest(t, Options{})
		for i := range 5 {
			mustCreate(t, s, fmt.Sprintf("/p/%d", i), "v")
		}
		first, err := s.List(ctx, "/p/", ListOptions{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		mustCreate(t, s, "/p/9", "v")
		// Compacting up to the pinned revision keeps it servable.
		if err := s.Compact(first.Rev); err != nil {
			t.Fatal(err)
		}
		if _, err := s.List(ctx, "/p/", ListOptions{Limit: 2, Continue: first.Continue}); err != nil {
			t.Fatalf("continue at the compacted revision itself: %v", err)
		}
		if err := s.Compact(first.Rev + 1); err != nil {
			t.Fatal(err)
		}
		_, err = s.List(ctx, "/p/", ListOptions{Limit: 2, Continue: first.Continue})
		if !errors.Is(err, ErrCompacted) {
			t.Fatalf("err = %v, want ErrCompacted", err)
		}
	})

	t.Run("compacted by a full history", func(t *testing.T) {
		t.Parallel()
		s := openTest(t, Options{HistorySize: 4})
		for i := range 5 {
			mustCreate(t, s, fmt.Sprintf("/p/%d", i), "v")
		}
		first, err := s.List(ctx, "/p/", ListOptions{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			mustCreate(t, s, fmt.Sprintf("/q/%d", i), "v")
		}
		if _, err := s.List(ctx, "/p/", ListOptions{Limit: 2, Continue: first.Continue}); err != nil {
			t.Fatalf("continue with the history still holding the revision: %v", err)
		}
		mustCreate(t, s, "/q/x", "v")
		_, err = s.List(ctx, "/p/", ListOptions{Limit: 2, Continue: first.Continue})
		if !errors.Is(err, ErrCompacted) {
			t.Fatalf("err = %v, want ErrCompacted", err)
		}
	})

	t.Run("unchanged data needs no history", func(t *testing.T) {
		t.Parallel()
		s := openTest(t, Options{HistorySize: 1})
		for i := range 5 {
			mustCreate(t, s, fmt.Sprintf("/p/%d", i), "v")
		}
		got, _ := listAll(t, s, "/p/", 2)
		if len(got) != 5 {
			t.Fatalf("got %v", got)
		}
	})

	s := openTest(t, Options{})
	mustCreate(t, s, "/p/1", "v")
	bad := []struct {
		name, token string
		limit       int64
	}{
		{"not base64", "!!!", 1},
		{"garbage", "AAAA", 1},
		{"future revision", encodeContinue(continueToken{Rev: 99, Start: "1"}), 1},
		{"negative limit", "", -1},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.List(ctx, "/p/", ListOptions{Limit: tt.limit, Continue: tt.token})
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}
