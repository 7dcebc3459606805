package release

import (
	"context"
	"errors"
	"fmt"

	"pkg.dev/pkg/render"
)

// RollbackOptions tune Rollback.
type RollbackOptions struct {
	ApplyOptions
	// Name and Namespace of the release.
	Name      string
	Namespace string
	// Revision to roll back to; 0 means the one before the last.
	Revision int
	// CleanupOnFail deletes the resources a failed rollback created.
	CleanupOnFail bool
}

// Rollback makes a new revision from an old one and moves the cluster to
// it, as `helm rollback` does. It is the incident path: it renders
// nothing, and only patches what differs.
func (e *Env) Rollback(ctx context.Context, o RollbackOptions) (*Release, error) {
	if err := render.ValidateReleaseName(o.Name); err != nil {
		return nil, fmt.Errorf("prepareRollback: Release name is invalid: %s", o.Name)
	}
	if o.DryRun == DryRunNone {
		unlock, err := e.lock(ctx, o.Namespace, o.Name)
		if err != nil {
			return nil, err
		}
		defer unlock()
		if err := e.recoverPending(ctx, o.Name, "rollback"); err != nil {
			return nil, err
		}
	}
	return e.rollbackLocked(ctx, o)
}

func (e *Env) rollbackLocked(ctx context.Context, o RollbackOptions) (*Release, error) {
	if o.Revision < 0 {
		return nil, errors.New("invalid release revision number")
	}
	h, err := e.Storage.History(ctx, o.Name)
	if err != nil {
		return nil, err
	}
	current := h[len(h)-1]
	want := o.Revision
	if want == 0 {
		want = current.Version - 1
	}
	var prev *Release
	for _, r := range h {
		if r.Version == want {
			prev = r
		}
	}
	if prev == nil {
		return nil, fmt.Errorf("release has no %d version", want)
	}
	target := &Release{
		Name:      o.Name,
		Namespace: current.Namespace,
		Chart:     prev.Chart,
		Config:    prev.Config,
		Manifest:  prev.Manifest,
		Hooks:     prev.Hooks,
		Version:   current.Version + 1,
		Labels:    prev.Labels,
		Info: &Info{
			FirstDeployed: current.Info.FirstDeployed,
			LastDeployed:  Time{Time: e.now()},
			Status:        StatusPendingRollback,
			Notes:         prev.Info.Notes,
			Description:   fmt.Sprintf("Rollback to %d", want),
		},
	}
	if o.Description != "" {
		target.Info.Description = o.Description
	}
	if o.DryRun != DryRunNone {
		return target, nil
	}
	if err := e.Storage.Create(ctx, target); err != nil {
		return nil, fmt.Errorf("recording release %q: %w", o.Name, err)
	}
	if err := e.performRollback(ctx, current, target, o); err != nil {
		return target, err
	}
	if err := e.Storage.Update(ctx, target); err != nil {
		return target, fmt.Errorf("recording release %q as deployed: %w", o.Name, err)
	}
	return target, nil
}

func (e *Env) performRollback(ctx context.Context, current, target *Release, o RollbackOptions) error {
	currentRes, err := e.Target.Build(ctx, current.Manifest, current.Namespace)
	if err != nil {
		return fmt.Errorf("unable to build kubernetes objects from current release manifest: %w", err)
	}
	targetRes, err := e.Target.Build(ctx, target.Manifest, target.Namespace)
	if err != nil {
		return fmt.Errorf("unable to build kubernetes objects from new release manifest: %w", err)
	}
	if !o.NoHooks {
		if err := e.runHooks(ctx, target, render.HookPreRollback, o.timeout()); err != nil {
			return err
		}
	}
	setOwnership(targetRes, target.Name, target.Namespace)
	result, err := e.Target.Update(ctx, currentRes, targetRes, UpdateOptions{Force: o.Force, Keep: keepPolicy})
	if err != nil {
		msg := fmt.Sprintf("Rollback %q failed: %s", target.Name, err)
		current.Info.Status = StatusSuperseded
		target.Info.Status = StatusFailed
		target.Info.Description = msg
		e.record(ctx, current)
		e.record(ctx, target)
		if o.CleanupOnFail && result != nil && len(result.Created) > 0 {
			if _, errs := e.Target.Delete(ctx, result.Created, DeleteOptions{}); len(errs) > 0 {
				return fmt.Errorf("an error occurred while cleaning up resources. original rollback error: %s: %w", err, errors.Join(errs...))
			}
		}
		return err
	}
	if o.Wait {
		if err := e.wait(ctx, targetRes, o.ApplyOptions); err != nil {
			target.Info.Status = StatusFailed
			target.Info.Description = fmt.Sprintf("Release %q failed: %s", target.Name, err)
			e.record(ctx, current)
			e.record(ctx, target)
			return fmt.Errorf("release %s failed: %w", target.Name, err)
		}
	}
	if !o.NoHooks {
		if err := e.runHooks(ctx, target, render.HookPostRollback, o.timeout()); err != nil {
			return err
		}
	}
	h, err := e.Storage.History(ctx, target.Name)
	if err != nil {
		return err
	}
	for _, r := range h {
		if r.Version != target.Version && r.Info.Status == StatusDeployed {
			r.Info.Status = StatusSuperseded
			e.record(ctx, r)
		}
	}
	target.Info.Status = StatusDeployed
	return nil
}
