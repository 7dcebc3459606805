package release

import (
	"context"
	"log/slog"
	"time"
)

// Env is what every action works with: where history lives, the cluster,
// the clock and where to say what is happening. cmd/ builds one.
type Env struct {
	// Storage keeps the release history. Required.
	Storage *Storage
	// Target is the cluster. Required for actions that apply resources.
	Target Target
	// Locker serializes operations on one release; nil disables locking.
	Locker Locker
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// Log receives debug logging; nil discards it.
	Log *slog.Logger
	// Progress, if set, receives one line at a time of what a long
	// operation is doing (hooks, waits, recoveries).
	Progress func(msg string)
}

func (e *Env) now() time.Time {
	if e.Clock != nil {
		return e.Clock()
	}
	return time.Now()
}

func (e *Env) say(msg string) {
	if e.Progress != nil {
		e.Progress(msg)
	}
}

func (e *Env) debug(msg string, args ...any) {
	if e.Log != nil {
		e.Log.Debug(msg, args...)
	}
}

// record writes r's current state, logging (not failing) on error, as the
// action has a more important error to report in that case.
func (e *Env) record(ctx context.Context, r *Release) {
	if err := e.Storage.Update(ctx, r); err != nil {
		e.debug("recording release", "name", r.Name, "revision", r.Version, "err", err)
	}
}

// lock takes the release's lock, or returns a no-op unlock without a
// Locker.
func (e *Env) lock(ctx context.Context, namespace, name string) (func(), error) {
	if e.Locker == nil {
		return func() {}, nil
	}
	return e.Locker.Lock(ctx, namespace, name)
}
