package kube

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"pkg.dev/pkg/release"
)

const hookJob = `apiVersion: batch/v1
kind: Job
metadata: {name: pre-install}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
`

func TestWatchUntilReady(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	complete := map[string]any{"succeeded": int64(1), "conditions": []any{
		map[string]any{"type": "Complete", "status": "True"},
	}}
	failed := map[string]any{"failed": int64(7), "conditions": []any{
		map[string]any{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"},
	}}
	tests := []struct {
		name     string
		manifest string
		status   map[string]any // written while the watch runs; nil: never
		want     string         // error text; "" for success
	}{
		{"job completes", hookJob, complete, ""},
		{"job fails", hookJob, failed, "job pre-install failed: BackoffLimitExceeded"},
		{"pod succeeds", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: busybox}]\n", map[string]any{"phase": "Succeeded"}, ""},
		{"pod fails", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: busybox}]\n", map[string]any{"phase": "Failed"}, "pod p failed"},
		{"other kinds at once", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", nil, ""},
		{"job times out", hookJob, nil, "timed out after 200ms"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			ns := "hook" + string(rune('a'+i))
			if err := e.client.EnsureNamespace(ctx(t), ns); err != nil {
				t.Fatal(err)
			}
			list, err := e.client.Build(ctx(t), tt.manifest, ns)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.client.Create(ctx(t), list); err != nil {
				t.Fatal(err)
			}
			wrote := make(chan error, 1)
			if tt.status != nil {
				go func() {
					time.Sleep(100 * time.Millisecond) // let the watch start
					wrote <- e.writeStatus(context.Background(), list[0], tt.status)
				}()
			} else {
				wrote <- nil
			}
			defer func() {
				if err := <-wrote; err != nil {
					t.Error(err)
				}
			}()
			timeout := 10 * time.Second
			if tt.status == nil {
				timeout = 200 * time.Millisecond
			}
			err = e.client.WatchUntilReady(ctx(t), list, timeout)
			if w := e.logs.matching("cannot watch"); len(w) > 0 {
				t.Errorf("fell back to polling: %q", w)
			}
			if tt.want == "" {
				if err != nil {
					t.Fatalf("WatchUntilReady: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("WatchUntilReady = %v, want an error with %q", err, tt.want)
			}
			var jf *JobFailedError
			if strings.HasPrefix(tt.name, "job fails") && !errors.As(err, &jf) {
				t.Errorf("error %v is no *JobFailedError", err)
			}
			if strings.Contains(tt.name, "times out") && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
			}
		})
	}
}

// A hook Job deleted while watched counts as done, as in Helm.
func TestWatchUntilReadyDeleted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	list := e.create(hookJob)
	deleted := make(chan []error, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, errs := e.client.Delete(context.Background(), list, release.DeleteOptions{})
		deleted <- errs
	}()
	defer func() {
		if errs := <-deleted; len(errs) > 0 {
			t.Error(errs)
		}
	}()
	if err := e.client.WatchUntilReady(ctx(t), list, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}
