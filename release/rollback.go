package release

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

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
	// RecreatePods deletes the Pods of the updated workloads, as Helm's
	// --recreate-pods, so that they start again even where the rollback
	// left their template unchanged; a failure there is reported, not
	// fatal.
	RecreatePods bool
}

// Rollback makes a new revision from an old one and moves the cluster to
// it, as `helm rollback` does. It is the incident path: it renders
// nothing, and only patches what differs.
func (e *Env) Rollback(ctx context.Context, o RollbackOptions) (*Release, error) {
	if err := render.ValidateReleaseName(o.Name); err != nil {
		return nil, fmt.Errorf("prepareRollback: Release name is invalid: %s", o.Name)
	}
	var h []*Release
	if o.DryRun == DryRunNone {
		if p, ok := e.Target.(Prefetcher); ok {
			p.Prefetch(ctx)
		}
		unlock, err := e.lock(ctx, o.Namespace, o.Name)
		if err != nil {
			return nil, err
		}
		defer unlock()
		if h, err = e.recoverPending(ctx, o.Name, "rollback"); err != nil {
			return nil, err
		}
		if len(h) == 0 {
			return nil, ErrNotFound
		}
	}
	return e.rollbackLocked(ctx, o, h)
}

// rollbackLocked rolls back holding the lock; h is the history just read
// (nil: read it).
func (e *Env) rollbackLocked(ctx context.Context, o RollbackOptions, h []*Release) (*Release, error) {
	if o.Revision < 0 {
		return nil, errors.New("invalid release revision number")
	}
	if h == nil {
		var err error
		if h, err = e.Storage.History(ctx, o.Name); err != nil {
			return nil, err
		}
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
	if prev.Info != nil && prev.Info.Status == StatusFailed {
		// As Helm, the revision asked for (by default the one before the
		// last) is the target; but in an incident, rolling back to a
		// revision that itself failed is rarely what was meant.
		good := 0
		for _, r := range h {
			if r.Version != current.Version && r.Info != nil && (r.Info.Status == StatusSuperseded || r.Info.Status == StatusDeployed) {
				good = max(good, r.Version)
			}
		}
		msg := fmt.Sprintf("WARNING: revision %d failed when it was applied; rolling back to it as asked", want)
		if good > 0 {
			msg += fmt.Sprintf(" (the last earlier revision that succeeded is %d: pkg rollback %s %d)", good, o.Name, good)
		}
		e.say(msg)
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
	// The resources are mapped, and the live objects read, while the new
	// revision is recorded: the incident path waits for the slower of the
	// two instead of their sum. Live objects are read ahead only when no
	// pre-rollback hook runs first and may change them.
	hooks := !o.NoHooks && hasHooks(target, render.HookPreRollback)
	pctx, cancel := context.WithCancel(ctx)
	planned := make(chan rollbackPlan, 1)
	go func() { planned <- e.planRollback(pctx, current, target, !hooks) }()
	if err := e.Storage.CreateAfter(ctx, target, h); err != nil {
		cancel()
		<-planned
		return nil, fmt.Errorf("recording release %q: %w", o.Name, err)
	}
	e.debug("rollback: revision recorded", "revision", target.Version)
	plan := <-planned
	cancel()
	if err := e.performRollback(ctx, plan, current, target, h, o); err != nil {
		// A hook that failed, or an interrupt, leaves no pending
		// revision behind (Helm leaves one, which blocks the next
		// command until someone repairs it).
		if target.Info.Status == StatusPendingRollback {
			target.Info.Status = StatusFailed
			target.Info.Description = fmt.Sprintf("Rollback %q failed: %s", target.Name, err)
			e.record(ctx, target)
		}
		return target, err
	}
	return target, nil
}

// rollbackPlan is what a rollback reads from the cluster before it
// changes anything.
type rollbackPlan struct {
	current, target ResourceList
	// live holds target's live objects (nil when not read ahead).
	live []*unstructured.Unstructured
	err  error
}

// planRollback maps both revisions' manifests to resources and, with
// readLive, reads the target's live objects.
func (e *Env) planRollback(ctx context.Context, current, target *Release, readLive bool) rollbackPlan {
	var p rollbackPlan
	if p.current, p.err = e.buildDeployed(ctx, current, current.Namespace); p.err != nil {
		p.err = fmt.Errorf("unable to build kubernetes objects from current release manifest: %w", p.err)
		return p
	}
	if p.target, p.err = e.Target.Build(ctx, target.Manifest, target.Namespace); p.err != nil {
		p.err = fmt.Errorf("unable to build kubernetes objects from new release manifest: %w", p.err)
		return p
	}
	setOwnership(p.target, target.Name, target.Namespace)
	if readLive {
		// A failed read is not fatal: Update reads each object again.
		if live, err := e.Target.Get(ctx, p.target); err == nil {
			p.live = live
		} else {
			e.debug("rollback: reading the live objects ahead failed; reading them while applying", "error", err)
		}
	}
	return p
}

// hasHooks tells whether rel has a hook for event.
func hasHooks(rel *Release, event render.HookEvent) bool {
	for _, h := range rel.Hooks {
		if slices.Contains(h.Events, event) {
			return true
		}
	}
	return false
}

func (e *Env) performRollback(ctx context.Context, plan rollbackPlan, current, target *Release, h []*Release, o RollbackOptions) error {
	if plan.err != nil {
		return plan.err
	}
	currentRes, targetRes := plan.current, plan.target
	if !o.NoHooks {
		if err := e.runHooks(ctx, target, render.HookPreRollback, o.timeout()); err != nil {
			return err
		}
	}
	e.debug("rollback: resources built", "current", len(currentRes), "target", len(targetRes), "readAhead", plan.live != nil)
	result, err := e.Target.Update(ctx, currentRes, targetRes, UpdateOptions{Force: o.Force, Keep: keepPolicy, Live: plan.live})
	if err != nil {
		ctx, cancel := e.settle(ctx, o.timeout())
		defer cancel()
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
	if o.RecreatePods {
		if r, ok := e.Target.(PodRecreator); ok {
			if err := r.RecreatePods(ctx, result.Updated); err != nil {
				e.say(fmt.Sprintf("recreating pods: %s", err))
			}
		}
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
	// h was read under the lock: its deployed revisions are still the
	// deployed ones. They are superseded while the new revision is marked
	// deployed, in parallel: the incident path waits for as little as it
	// can.
	var superseded []*Release
	for _, r := range h {
		if r.Version != target.Version && r.Info.Status == StatusDeployed {
			r.Info.Status = StatusSuperseded
			superseded = append(superseded, r)
		}
	}
	var wg sync.WaitGroup
	for _, r := range superseded {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.record(ctx, r)
		}()
	}
	target.Info.Status = StatusDeployed
	err = e.Storage.Update(ctx, target)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("recording release %q as deployed: %w", target.Name, err)
	}
	return nil
}
