package cluster

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStartFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		command []string
		timeout time.Duration
		want    string
	}{
		{"exits at once", []string{"/bin/sh", "-c", "echo boom: address already in use >&2; exit 3"}, 10 * time.Second, "boom: address already in use"},
		{"never serves", []string{"/bin/sh", "-c", "echo waiting; exec sleep 30"}, 500 * time.Millisecond, "waiting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "data")
			var progress strings.Builder
			_, err := Start(context.Background(), StartOptions{DataDir: dir, Command: tc.command, Timeout: tc.timeout, Progress: &progress})
			var se *StartError
			if !errors.As(err, &se) {
				t.Fatalf("Start = %v; want a *StartError", err)
			}
			if se.Tail != tc.want || !strings.Contains(err.Error(), se.Log) {
				t.Errorf("Start error %q: tail %q, want %q", err, se.Tail, tc.want)
			}
			if !strings.HasPrefix(progress.String(), "Starting pkg cluster (pid ") {
				t.Errorf("progress %q", progress.String())
			}
		})
	}
}

func TestStartRefusesRunning(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	r := serve(t, dir)
	_, err := Start(context.Background(), StartOptions{DataDir: dir, Command: []string{"/bin/false"}})
	var re *RunningError
	if !errors.As(err, &re) || re.URL != r.state.URL || re.PID != r.state.PID {
		t.Fatalf("Start = %v; want a *RunningError naming %d and %s", err, r.state.PID, r.state.URL)
	}
}

func TestStopNotRunning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := Stop(context.Background(), dir, time.Second, nil); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Stop = %v; want ErrNotRunning", err)
	}
}
