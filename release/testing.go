package release

import (
	"context"
	"fmt"
	"slices"
	"time"

	"pkg.dev/pkg/render"
)

// TestOptions tune Test.
type TestOptions struct {
	// Timeout bounds each test hook; 0 means DefaultTimeout.
	Timeout time.Duration
	// Include and Exclude filter the test hooks by name (`--filter
	// name=x`, `--filter '!name=x'`); empty Include means all.
	Include []string
	Exclude []string
}

// Test runs the test hooks of a release's last revision, as `helm test`
// does, recording each one's execution in the revision.
func (e *Env) Test(ctx context.Context, namespace, name string, o TestOptions) (*Release, error) {
	if err := render.ValidateReleaseName(name); err != nil {
		return nil, fmt.Errorf("release name %q: %w", name, err)
	}
	rel, err := e.Storage.Last(ctx, name)
	if err != nil {
		return nil, err
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// Run only the selected tests: hide the others for the run.
	all := rel.Hooks
	var run []*render.Hook
	for _, h := range all {
		if !slices.Contains(h.Events, render.HookTest) {
			run = append(run, h)
			continue
		}
		if len(o.Include) > 0 && !slices.Contains(o.Include, h.Name) {
			continue
		}
		if slices.Contains(o.Exclude, h.Name) {
			continue
		}
		run = append(run, h)
	}
	rel.Hooks = run
	err = e.runHooks(ctx, rel, render.HookTest, timeout)
	rel.Hooks = all
	e.record(ctx, rel)
	return rel, err
}
