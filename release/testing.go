package release

import (
	"context"
	"fmt"
	"io"
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

// TestLogs writes the logs of a release's test Pods, by hook weight, each
// headed "POD LOGS: NAME" as `helm test --logs` prints them.
func (e *Env) TestLogs(ctx context.Context, rel *Release, o TestOptions, w io.Writer) error {
	lr, ok := e.Target.(PodLogReader)
	if !ok {
		return fmt.Errorf("this cluster client cannot read Pod logs")
	}
	hooks := append([]*render.Hook(nil), rel.Hooks...)
	render.SortHooksByWeight(hooks)
	for _, h := range hooks {
		if !slices.Contains(h.Events, render.HookTest) || h.Kind != "Pod" {
			continue
		}
		if slices.Contains(o.Exclude, h.Name) || (len(o.Include) > 0 && !slices.Contains(o.Include, h.Name)) {
			continue
		}
		fmt.Fprintf(w, "POD LOGS: %s\n", h.Name)
		if err := lr.PodLogs(ctx, rel.Namespace, h.Name, w); err != nil {
			return fmt.Errorf("unable to get pod logs for %s: %w", h.Name, err)
		}
		fmt.Fprintln(w)
	}
	return nil
}
