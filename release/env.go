package release

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"pkg.dev/pkg/render"
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
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := e.Storage.Update(ctx, r); err != nil {
		e.debug("recording release", "name", r.Name, "revision", r.Version, "err", err)
	}
}

// recordTimeout bounds the writing of a revision's outcome, which goes on
// after the operation's context has ended (an interrupt, a deadline): the
// history must say what happened rather than keep a pending revision.
const recordTimeout = 10 * time.Second

// settle returns the context a failed operation finishes in (recording
// the failure, cleaning up, rolling back with --atomic): ctx while it
// lasts; once it has ended, as when the user pressed Ctrl-C or sent
// SIGTERM, a new one of at most timeout, as Helm still marks an
// interrupted operation failed (and rolls it back with --atomic). A
// second interrupt kills the process; the revision it leaves pending is
// recovered by the next command.
func (e *Env) settle(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return context.WithCancel(ctx)
	}
	e.say("interrupted: recording the failure before exiting")
	return context.WithTimeout(context.WithoutCancel(ctx), timeout)
}

// lock takes the release's lock, or returns a no-op unlock without a
// Locker.
func (e *Env) lock(ctx context.Context, namespace, name string) (func(), error) {
	if e.Locker == nil {
		return func() {}, nil
	}
	e.debug("taking the release lock", "namespace", namespace, "name", name)
	unlock, err := e.Locker.Lock(ctx, namespace, name)
	e.debug("release lock taken", "err", err)
	return unlock, err
}

// buildDeployed builds the manifest of a revision already applied (the
// current one of an upgrade or rollback, the one an uninstall deletes).
// Where the cluster no longer serves an object's API version (removed by
// a Kubernetes upgrade), the object is read in the version the cluster
// serves for its kind, or, when it serves the kind in none (a CRD
// deleted), left out, since nothing of it can be there; each with a word.
// Helm refuses to go on there, and its users rewrite the stored release
// (helm-mapkubeapis). The manifest being applied is built strictly: that
// one must map.
func (e *Env) buildDeployed(ctx context.Context, rel *Release, namespace string) (ResourceList, error) {
	sb, ok := e.Target.(ServedBuilder)
	if !ok {
		return e.Target.Build(ctx, rel.Manifest, namespace)
	}
	list, unserved, err := sb.BuildServed(ctx, rel.Manifest, namespace)
	for _, u := range unserved {
		e.say(fmt.Sprintf("revision %d of %q: %s", rel.Version, rel.Name, u))
	}
	return list, err
}

// lookup picks the lookup function a render uses: the caller's, else the
// target's, except in a client dry run, which does not read the cluster.
func (e *Env) lookup(ctx context.Context, given render.LookupFunc, dry DryRun) render.LookupFunc {
	if given != nil || dry == DryRunClient {
		return given
	}
	if l, ok := e.Target.(Looker); ok {
		return l.Lookup(ctx)
	}
	return nil
}

// postRender runs the post-renderer, if any, over a manifest.
func postRender(ctx context.Context, pr func(context.Context, string) (string, error), manifest string) (string, error) {
	if pr == nil {
		return manifest, nil
	}
	out, err := pr(ctx, manifest)
	if err != nil {
		return "", fmt.Errorf("error while running post render on files: %w", err)
	}
	return out, nil
}
