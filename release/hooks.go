package release

import (
	"context"
	"fmt"
	"slices"
	"time"

	"pkg.dev/pkg/render"
)

// runHooks runs the hooks of one event, lowest weight first, each created
// and then waited for (Jobs to completion, Pods to success), applying the
// hook delete policies as Helm does. The record is written as each hook
// starts, so that `status` shows what ran.
func (e *Env) runHooks(ctx context.Context, rel *Release, event render.HookEvent, timeout time.Duration) error {
	var run []*render.Hook
	for _, h := range rel.Hooks {
		if slices.Contains(h.Events, event) {
			run = append(run, h)
		}
	}
	if len(run) == 0 {
		return nil
	}
	render.SortHooksByWeight(run)
	for i, h := range run {
		// A hook without a delete policy is replaced on its next run.
		if len(h.DeletePolicies) == 0 {
			h.DeletePolicies = []render.HookDeletePolicy{render.HookBeforeHookCreation}
		}
		if err := e.deleteHook(ctx, rel, h, render.HookBeforeHookCreation, timeout); err != nil {
			return err
		}
		res, err := e.Target.Build(ctx, h.Manifest, rel.Namespace)
		if err != nil {
			return fmt.Errorf("unable to build kubernetes object for %s hook %s: %w", event, h.Path, err)
		}
		e.say(fmt.Sprintf("running %s hook %s (%s %q)", event, h.Path, h.Kind, h.Name))
		h.LastRun = render.HookExecution{StartedAt: Time{Time: e.now()}, Phase: render.HookPhaseRunning}
		e.record(ctx, rel)
		h.LastRun.Phase = render.HookPhaseUnknown
		if _, err := e.Target.Create(ctx, res); err != nil {
			h.LastRun.CompletedAt = Time{Time: e.now()}
			h.LastRun.Phase = render.HookPhaseFailed
			return fmt.Errorf("warning: Hook %s %s failed: %w", event, h.Path, err)
		}
		err = e.Target.WatchUntilReady(ctx, res, timeout)
		h.LastRun.CompletedAt = Time{Time: e.now()}
		if err != nil {
			h.LastRun.Phase = render.HookPhaseFailed
			if derr := e.deleteHook(ctx, rel, h, render.HookFailed, timeout); derr != nil {
				e.debug("deleting failed hook", "hook", h.Path, "err", derr)
			}
			// Hooks that ran before this one succeeded.
			for _, done := range run[:i] {
				if derr := e.deleteHook(ctx, rel, done, render.HookSucceeded, timeout); derr != nil {
					return derr
				}
			}
			return err
		}
		h.LastRun.Phase = render.HookPhaseSucceeded
	}
	// Every hook succeeded: delete those that ask for it, in order.
	for _, h := range run {
		if err := e.deleteHook(ctx, rel, h, render.HookSucceeded, timeout); err != nil {
			return err
		}
	}
	return nil
}

// deleteHook deletes a hook's resource if it has the policy, and waits for
// it to be gone.
func (e *Env) deleteHook(ctx context.Context, rel *Release, h *render.Hook, policy render.HookDeletePolicy, timeout time.Duration) error {
	if !slices.Contains(h.DeletePolicies, policy) {
		return nil
	}
	res, err := e.Target.Build(ctx, h.Manifest, rel.Namespace)
	if err != nil {
		return fmt.Errorf("unable to build kubernetes object for deleting hook %s: %w", h.Path, err)
	}
	if _, errs := e.Target.Delete(ctx, res, DeleteOptions{}); len(errs) > 0 {
		return fmt.Errorf("deleting hook %s: %w", h.Path, errs[0])
	}
	return e.Target.WaitForDelete(ctx, res, timeout)
}
