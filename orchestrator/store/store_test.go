package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// openTest opens a store in a fresh directory and closes it when the test
// ends.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	return openDir(t, t.TempDir(), opts)
}

// openDir opens a store in dir and closes it when the test ends.
func openDir(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// mustCreate creates key with value and returns the object.
func mustCreate(t testing.TB, s *Store, key, value string) KV {
	t.Helper()
	kv, err := s.Create(context.Background(), key, []byte(value))
	if err != nil {
		t.Fatalf("Create(%s): %v", key, err)
	}
	return kv
}

// receive returns the next event of w, failing the test after a timeout.
func receive(t testing.TB, w *Watcher) Event {
	t.Helper()
	select {
	case ev, ok := <-w.Events():
		if !ok {
			t.Fatalf("watch channel closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatalf("no event within 10s")
	}
	return Event{}
}

// describe renders an event compactly for comparisons.
func describe(ev Event) string {
	s := fmt.Sprintf("%s %d %s=%s", ev.Type, ev.Rev, ev.Object.Key, ev.Object.Value)
	if ev.Prev != nil {
		s += fmt.Sprintf(" prev=%s@%d", ev.Prev.Value, ev.Prev.ModRev)
	}
	return s
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
		is   error
	}{
		{&Error{Op: OpGet, Key: "/a/b", Err: ErrNotFound}, `get "/a/b": not found`, ErrNotFound},
		{&Error{Op: OpCompact, Err: ErrInvalid}, `compact: invalid argument`, ErrInvalid},
		{&LockedError{Dir: "/data", PID: 42}, "data dir /data is in use by another pkg cluster (pid 42)", ErrLocked},
		{&LockedError{Dir: "/data"}, "data dir /data is in use by another pkg cluster", ErrLocked},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			if !errors.Is(tt.err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", tt.err, tt.is)
			}
		})
	}
}
