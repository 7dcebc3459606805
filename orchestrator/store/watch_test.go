package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestWatchEvents(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	w, err := s.Watch(ctx, "/registry/pods/", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	mustCreate(t, s, "/registry/pods/a", "1")
	mustCreate(t, s, "/registry/services/a", "ignored")
	if _, err := s.Update(ctx, "/registry/pods/a", []byte("2"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, "/registry/pods/a", 0); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ADDED 2 /registry/pods/a=1",
		"MODIFIED 4 /registry/pods/a=2 prev=1@2",
		"DELETED 5 /registry/pods/a=2 prev=2@4",
	}
	for _, wantEv := range want {
		if got := describe(receive(t, w)); got != wantEv {
			t.Errorf("event %q, want %q", got, wantEv)
		}
	}
}

// TestWatchOrder checks that concurrent writers' events reach every watcher
// exactly once, in revision order, matching what the writers were told.
func TestWatchOrder(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	var watchers []*Watcher
	for range 3 {
		w, err := s.Watch(ctx, "/", 0)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		watchers = append(watchers, w)
	}
	const writers, each = 8, 40
	var mu sync.Mutex
	acked := map[int64]string{}
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				key := fmt.Sprintf("/o/%d/%d", g, i)
				kv, err := s.Create(ctx, key, []byte("v"))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[kv.ModRev] = key
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for i, w := range watchers {
		for rev := int64(initialRevision + 1); rev <= initialRevision+writers*each; rev++ {
			ev := receive(t, w)
			if ev.Rev != rev || ev.Type != EventAdded || ev.Object.Key != acked[rev] {
				t.Fatalf("watcher %d: got %s, want ADDED %d %s", i, describe(ev), rev, acked[rev])
			}
		}
	}
}

func TestWatchResume(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{HistorySize: 10})
	ctx := context.Background()
	for i := range 8 {
		mustCreate(t, s, fmt.Sprintf("/k/%d", i), "v")
	}
	tests := []struct {
		from    int64
		want    []int64 // revisions replayed before the live event 10
		wantErr error
	}{
		{from: 0},
		{from: 9},
		{from: 6, want: []int64{7, 8, 9}},
		{from: 2, want: []int64{3, 4, 5, 6, 7, 8, 9}},
		{from: -1, wantErr: ErrInvalid},
	}
	var ws []*Watcher
	for _, tt := range tests {
		w, err := s.Watch(ctx, "/k/", tt.from)
		if !errors.Is(err, tt.wantErr) {
			t.Fatalf("Watch from %d: err = %v, want %v", tt.from, err, tt.wantErr)
		}
		if err == nil {
			defer w.Stop()
		}
		ws = append(ws, w)
	}
	mustCreate(t, s, "/k/live", "v")
	for i, tt := range tests {
		if tt.wantErr != nil {
			continue
		}
		var got []int64
		for {
			ev := receive(t, ws[i])
			if ev.Rev == 10 {
				break
			}
			got = append(got, ev.Rev)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("from %d replayed %v, want %v", tt.from, got, tt.want)
		}
	}
}

func TestWatchCompacted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("full history", func(t *testing.T) {
		t.Parallel()
		s := openTest(t, Options{HistorySize: 5})
		for i := range 12 {
			mustCreate(t, s, fmt.Sprintf("/k/%d", i), "v")
		}
		// Revisions 9..13 are kept: watching from 8 on works.
		for from, ok := range map[int64]bool{7: false, 8: true, 13: true} {
			w, err := s.Watch(ctx, "/", from)
			if ok != (err == nil) {
				t.Errorf("Watch from %d: err = %v", from, err)
			}
			if err == nil {
				w.Stop()
			} else if !errors.Is(err, ErrCompacted) {
				t.Errorf("Watch from %d: err = %v, want ErrCompacted", from, err)
			}
		}
	})

	t.Run("Compact", func(t *testing.T) {
		t.Parallel()
		s := openTest(t, Options{})
		for i := range 6 {
			mustCreate(t, s, fmt.Sprintf("/k/%d", i), "v")
		}
		// Revisions 2..7 were written.
		if err := s.Compact(5); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Watch(ctx, "/", 4); !errors.Is(err, ErrCompacted) {
			t.Errorf("Watch from 4 after Compact(5): err = %v, want ErrCompacted", err)
		}
		w, err := s.Watch(ctx, "/", 5)
		if err != nil {
			t.Fatalf("Watch from 5 after Compact(5): %v", err)
		}
		defer w.Stop()
		if ev := receive(t, w); ev.Rev != 6 {
			t.Errorf("first event %s, want revision 6", describe(ev))
		}
		if err := s.Compact(2); err != nil {
			t.Errorf("compacting an older revision again: %v", err)
		}
		if err := s.Compact(8); !errors.Is(err, ErrInvalid) {
			t.Errorf("Compact(future): err = %v, want ErrInvalid", err)
		}
	})
}

// TestWatchSlowWatcher checks that a watcher that does not read is dropped
// with an error while writers carry on.
func TestWatchSlowWatcher(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{WatchBuffer: 4})
	ctx := context.Background()
	slow, err := s.Watch(ctx, "/", 0)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := s.Watch(ctx, "/", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Stop()
	// The fast watcher keeps up (the writes wait for it), the slow one
	// never reads; no write may wait for it.
	for i := range 20 {
		done := make(chan error, 1)
		go func() {
			_, err := s.Create(ctx, fmt.Sprintf("/k/%02d", i), []byte("v"))
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a write is blocked by a slow watcher")
		}
		if ev := receive(t, fast); ev.Rev != int64(i+2) {
			t.Fatalf("fast watcher got %s, want revision %d", describe(ev), i+2)
		}
	}
	// The slow watcher gets the four events its buffer held, then an
	// error at the revision that did not fit, then the end.
	var got []string
	var last Event
	for ev := range slow.Events() {
		got = append(got, fmt.Sprintf("%s %d", ev.Type, ev.Rev))
		last = ev
	}
	want := []string{"ADDED 2", "ADDED 3", "ADDED 4", "ADDED 5", "ERROR 6"}
	if !slices.Equal(got, want) {
		t.Fatalf("slow watcher got %v, want %v", got, want)
	}
	if !errors.Is(last.Err, ErrCompacted) {
		t.Errorf("error event %v does not wrap ErrCompacted", last.Err)
	}
	t.Log(last.Err)
	slow.Stop() // harmless after the drop
}

func TestWatchBookmark(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	w, err := s.Watch(context.Background(), "/pods/", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	w.Bookmark()
	mustCreate(t, s, "/pods/a", "v")
	mustCreate(t, s, "/other/b", "v")
	w.Bookmark()
	var got []string
	for range 3 {
		ev := receive(t, w)
		got = append(got, fmt.Sprintf("%s %d", ev.Type, ev.Rev))
	}
	want := []string{"BOOKMARK 1", "ADDED 2", "BOOKMARK 3"}
	if !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

func TestWatchEnds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		end     func(s *Store, w *Watcher, cancel func())
		wantErr error // of the last event; nil means none
	}{
		{"Stop", func(_ *Store, w *Watcher, _ func()) { w.Stop() }, nil},
		{"context", func(_ *Store, _ *Watcher, cancel func()) { cancel() }, nil},
		{"Close", func(s *Store, _ *Watcher, _ func()) { s.Close() }, ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := openTest(t, Options{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w, err := s.Watch(ctx, "/", 0)
			if err != nil {
				t.Fatal(err)
			}
			mustCreate(t, s, "/a", "v")
			tt.end(s, w, cancel)
			var evs []Event
			timeout := time.After(10 * time.Second)
			for open := true; open; {
				select {
				case ev, ok := <-w.Events():
					if ok {
						evs = append(evs, ev)
					}
					open = ok
				case <-timeout:
					t.Fatal("channel not closed")
				}
			}
			if len(evs) == 0 || evs[0].Type != EventAdded {
				t.Fatalf("events %v lost the queued event", evs)
			}
			last := evs[len(evs)-1]
			if tt.wantErr == nil && len(evs) != 1 {
				t.Errorf("extra events %v", evs[1:])
			}
			if tt.wantErr != nil && (last.Type != EventError || !errors.Is(last.Err, tt.wantErr)) {
				t.Errorf("last event %s %v, want an error wrapping %v", last.Type, last.Err, tt.wantErr)
			}
			w.Bookmark() // nothing after the end
			w.Stop()
		})
	}
}

func TestEventTypeString(t *testing.T) {
	t.Parallel()
	for typ, want := range map[EventType]string{
		EventAdded: "ADDED", EventModified: "MODIFIED", EventDeleted: "DELETED",
		EventBookmark: "BOOKMARK", EventError: "ERROR", 0: "EventType(0)",
	} {
		if got := typ.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(typ), got, want)
		}
	}
}
