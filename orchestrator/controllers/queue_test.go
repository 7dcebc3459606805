package controllers

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/clock"
)

// TestQueueLogsRacesQuietly: a sync that lost a race with the informer
// cache (a conflict, creating what exists) is retried without a warning;
// any other failure is retried with one.
func TestQueueLogsRacesQuietly(t *testing.T) {
	var logs bytes.Buffer
	e := &env{log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), clock: clock.RealClock{}}
	gr := schema.GroupResource{Resource: "endpoints"}
	errs := map[string]error{
		"ns/exists":   apierrors.NewAlreadyExists(gr, "exists"),
		"ns/conflict": apierrors.NewConflict(gr, "conflict", errors.New("changed")),
		"ns/broken":   errors.New("broken"),
	}
	q := newQueue("test", e, func(_ context.Context, key string) error { return errs[key] })
	defer q.q.ShutDown()
	for _, k := range []string{"ns/exists", "ns/conflict", "ns/broken"} {
		q.add(k)
		if !q.next(context.Background()) {
			t.Fatal("queue shut down")
		}
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		warn := strings.Contains(line, "level=WARN")
		if (strings.Contains(line, "ns/exists") || strings.Contains(line, "ns/conflict")) && warn {
			t.Errorf("a race logged as a warning: %s", line)
		}
	}
	if !strings.Contains(logs.String(), "level=WARN msg=\"sync failed; retrying\" controller=test key=ns/broken") {
		t.Errorf("a real failure is not a warning:\n%s", logs.String())
	}
}
