package release

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/render"
)

// UpgradeOptions tune Upgrade.
type UpgradeOptions struct {
	ApplyOptions
	// Name and Namespace of the release.
	Name      string
	Namespace string
	// Values says how the previous revision's values carry over.
	Values ValuesMode
	// CleanupOnFail deletes the resources a failed upgrade created.
	CleanupOnFail bool
	// TakeOwnership adopts existing resources new to the release.
	TakeOwnership bool
	// Labels are merged over the previous revision's labels; an empty
	// value deletes a label.
	Labels map[string]string
	RenderOptions
	// Install installs the release when it has no history (upgrade -i),
	// with Install's options.
	Install *InstallOptions
}

// Upgrade renders c as the next revision of a release and moves the
// cluster to it with a three-way merge, as `helm upgrade` does. A release
// left pending by a command that was killed is recovered first (its
// revision marked failed, saying so) instead of blocking every later
// command; a release whose only revisions failed is upgraded from the last
// of them.
func (e *Env) Upgrade(ctx context.Context, c *chart.Chart, vals map[string]any, o UpgradeOptions) (*Release, error) {
	if err := render.ValidateReleaseName(o.Name); err != nil {
		return nil, fmt.Errorf("release name %q: %w", o.Name, err)
	}
	if vals == nil {
		vals = map[string]any{}
	}
	if o.Atomic {
		o.Wait = true
	}
	dry := o.DryRun != DryRunNone
	if o.Install != nil {
		if _, err := e.Storage.History(ctx, o.Name); errors.Is(err, ErrNotFound) {
			io := *o.Install
			io.ApplyOptions = o.ApplyOptions
			io.Name, io.Namespace = o.Name, o.Namespace
			io.RenderOptions = o.RenderOptions
			return e.Install(ctx, c, vals, io)
		}
	}
	var h []*Release
	if !dry {
		unlock, err := e.lock(ctx, o.Namespace, o.Name)
		if err != nil {
			return nil, err
		}
		defer unlock()
		if h, err = e.recoverPending(ctx, o.Name, "upgrade"); err != nil {
			return nil, err
		}
	} else {
		var err error
		if h, err = e.Storage.History(ctx, o.Name); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	if len(h) == 0 {
		return nil, fmt.Errorf("%q %w", o.Name, ErrNoDeployed)
	}
	last := h[len(h)-1]
	if last.Info.Status.IsPending() {
		return nil, ErrInProgress
	}
	current := last
	if last.Info.Status != StatusDeployed {
		current = lastDeployed(h)
		if current == nil {
			if last.Info.Status != StatusFailed && last.Info.Status != StatusSuperseded {
				return nil, fmt.Errorf("%q %w", o.Name, ErrNoDeployed)
			}
			current = last
		}
	}
	if err := checkLabels(o.Labels); err != nil {
		return nil, err
	}
	c = c.Clone()
	vals, err := upgradeValues(c, current, vals, o.Values)
	if err != nil {
		return nil, err
	}
	res, err := e.render(ctx, c, vals, o.Name, o.Namespace, last.Version+1, o.DryRun, o.RenderOptions)
	if err != nil {
		return nil, err
	}
	up := &Release{
		Name:      o.Name,
		Namespace: o.Namespace,
		Chart:     StoredChart(c),
		Config:    vals,
		Manifest:  res.Manifest,
		Hooks:     res.Hooks,
		Version:   last.Version + 1,
		Labels:    mergeLabels(last.Labels, o.Labels),
		Info: &Info{
			FirstDeployed: current.Info.FirstDeployed,
			LastDeployed:  Time{Time: e.now()},
			Status:        StatusPendingUpgrade,
			Description:   "Preparing upgrade",
			Notes:         res.Notes,
		},
	}
	currentRes, err := e.buildDeployed(ctx, current, o.Namespace)
	if err != nil {
		return nil, fmt.Errorf("unable to build kubernetes objects from current release manifest: %w", err)
	}
	target, err := e.Target.Build(ctx, up.Manifest, o.Namespace)
	if err != nil {
		return nil, fmt.Errorf("unable to build kubernetes objects from new release manifest: %w", err)
	}
	setOwnership(target, up.Name, up.Namespace)
	if _, err := adoptable(ctx, e.Target, difference(target, currentRes), up.Name, up.Namespace, o.TakeOwnership); err != nil {
		return nil, fmt.Errorf("Unable to continue with update: %w", err)
	}
	if dry {
		up.Info.Description = "Dry run complete"
		return up, nil
	}
	// The live objects are read while the new revision is recorded, unless
	// a pre-upgrade hook runs first and may change them.
	var live chan []*unstructured.Unstructured
	if o.NoHooks || !hasHooks(up, render.HookPreUpgrade) {
		live = make(chan []*unstructured.Unstructured, 1)
		go func() {
			objs, err := e.Target.Get(ctx, target)
			if err != nil {
				e.debug("upgrade: reading the live objects ahead failed; reading them while applying", "error", err)
				objs = nil
			}
			live <- objs
		}()
	}
	if err := e.Storage.CreateAfter(ctx, up, h); err != nil {
		if live != nil {
			<-live
		}
		return nil, fmt.Errorf("recording release %q: %w", up.Name, err)
	}
	var readAhead []*unstructured.Unstructured
	if live != nil {
		readAhead = <-live
	}
	created, err := e.performUpgrade(ctx, up, current, currentRes, target, readAhead, o)
	if err != nil {
		return e.failUpgrade(ctx, up, created, err, o)
	}
	return up, nil
}

func (e *Env) performUpgrade(ctx context.Context, up, current *Release, currentRes, target ResourceList, live []*unstructured.Unstructured, o UpgradeOptions) (ResourceList, error) {
	if !o.NoHooks {
		if err := e.runHooks(ctx, up, render.HookPreUpgrade, o.timeout()); err != nil {
			return nil, fmt.Errorf("pre-upgrade hooks failed: %w", err)
		}
	}
	result, err := e.Target.Update(ctx, currentRes, target, UpdateOptions{Force: o.Force, Keep: keepPolicy, Live: live})
	var created ResourceList
	if result != nil {
		created = result.Created
	}
	if err != nil {
		return created, err
	}
	if o.Wait {
		if err := e.wait(ctx, target, o.ApplyOptions); err != nil {
			return created, err
		}
	}
	if !o.NoHooks {
		if err := e.runHooks(ctx, up, render.HookPostUpgrade, o.timeout()); err != nil {
			return created, fmt.Errorf("post-upgrade hooks failed: %w", err)
		}
	}
	current.Info.Status = StatusSuperseded
	e.record(ctx, current)
	up.Info.Status = StatusDeployed
	up.Info.Description = "Upgrade complete"
	if o.Description != "" {
		up.Info.Description = o.Description
	}
	if err := e.Storage.Update(ctx, up); err != nil {
		return nil, fmt.Errorf("recording release %q as deployed: %w", up.Name, err)
	}
	return nil, nil
}

func (e *Env) failUpgrade(ctx context.Context, up *Release, created ResourceList, cause error, o UpgradeOptions) (*Release, error) {
	ctx, cancel := e.settle(ctx, o.timeout())
	defer cancel()
	up.Info.Status = StatusFailed
	up.Info.Description = fmt.Sprintf("Upgrade %q failed: %s", up.Name, cause)
	e.record(ctx, up)
	if o.CleanupOnFail && len(created) > 0 {
		e.say(fmt.Sprintf("cleaning up %d resources the failed upgrade created", len(created)))
		if _, errs := e.Target.Delete(ctx, created, DeleteOptions{}); len(errs) > 0 {
			return up, fmt.Errorf("an error occurred while cleaning up resources. original upgrade error: %s: %w", cause, errors.Join(errs...))
		}
	}
	if !o.Atomic {
		return up, cause
	}
	e.say(fmt.Sprintf("upgrade of %q failed and --atomic is set: rolling back to the last successful revision", up.Name))
	h, err := e.Storage.History(ctx, up.Name)
	if err != nil {
		return up, fmt.Errorf("an error occurred while finding last successful release. original upgrade error: %s: %w", cause, err)
	}
	target := 0
	for _, r := range h {
		if r.Info.Status == StatusDeployed || r.Info.Status == StatusSuperseded {
			target = max(target, r.Version)
		}
	}
	if target == 0 {
		return up, fmt.Errorf("unable to find a previously successful release when attempting to rollback. original upgrade error: %w", cause)
	}
	ro := RollbackOptions{ApplyOptions: o.ApplyOptions, Name: up.Name, Namespace: up.Namespace, Revision: target}
	ro.Wait, ro.Atomic, ro.Description = true, false, ""
	if _, err := e.rollbackLocked(ctx, ro, nil); err != nil {
		return up, fmt.Errorf("an error occurred while rolling back the release. original upgrade error: %s: %w", cause, err)
	}
	return up, fmt.Errorf("release %s failed, and has been rolled back due to atomic being set: %w", up.Name, cause)
}

// recoverPending reads the history of a release (oldest first; empty if
// there is none) and marks a last revision left pending by a command that
// died as failed, so that the next command can go on. It runs under the
// release's lock, so no other pkg command is working on the release.
func (e *Env) recoverPending(ctx context.Context, name, op string) ([]*Release, error) {
	h, err := e.Storage.History(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	last := h[len(h)-1]
	if !last.Info.Status.IsPending() {
		return h, nil
	}
	was := last.Info.Status
	last.Info.Status = StatusFailed
	last.Info.Description = fmt.Sprintf("Interrupted: left %s by a command that did not finish (%s); marked failed by %s", was, last.Info.Description, op)
	if err := e.Storage.Update(ctx, last); err != nil {
		return nil, fmt.Errorf("recovering revision %d of %q: %w", last.Version, name, err)
	}
	e.say(fmt.Sprintf("release %q: revision %d was left %s by a command that did not finish; marked it failed and going on", name, last.Version, was))
	return h, nil
}

// difference returns the resources of a not in b (by kind, namespace and
// name).
func difference(a, b ResourceList) ResourceList {
	type id struct{ group, kind, ns, name string }
	have := map[id]bool{}
	for _, r := range b {
		have[id{r.GVK.Group, r.GVK.Kind, r.Namespace, r.Name}] = true
	}
	var out ResourceList
	for _, r := range a {
		if !have[id{r.GVK.Group, r.GVK.Kind, r.Namespace, r.Name}] {
			out = append(out, r)
		}
	}
	return out
}

// mergeLabels returns base with over applied; an empty value deletes.
func mergeLabels(base, over map[string]string) map[string]string {
	out := maps.Clone(base)
	for k, v := range over {
		if out == nil {
			out = map[string]string{}
		}
		if v == "" || v == "null" {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}
