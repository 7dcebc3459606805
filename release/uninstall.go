package release

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"pkg.dev/pkg/render"
)

// UninstallOptions tune Uninstall.
type UninstallOptions struct {
	// NoHooks skips the delete hooks.
	NoHooks bool
	// KeepHistory keeps the records, marking the last one uninstalled.
	KeepHistory bool
	// IgnoreNotFound treats a missing release as uninstalled.
	IgnoreNotFound bool
	// Wait waits until the resources are gone.
	Wait bool
	// Propagation is the cascade: "background" (default), "foreground" or
	// "orphan".
	Propagation string
	// Timeout bounds the hooks and the wait; 0 means DefaultTimeout.
	Timeout time.Duration
	// Description replaces "Uninstallation complete".
	Description string
	// DryRun only reports what would be uninstalled.
	DryRun bool
}

// UninstallResult is what Uninstall did.
type UninstallResult struct {
	// Release is the last revision, now uninstalled (nil if the release
	// was missing and IgnoreNotFound set).
	Release *Release
	// Kept lists the resources kept by their resource policy, one
	// "[Kind] name" a line.
	Kept string
}

// Uninstall deletes a release's resources in uninstall order, runs its
// delete hooks and removes its history (or marks it uninstalled with
// KeepHistory), as `helm uninstall` does.
func (e *Env) Uninstall(ctx context.Context, namespace, name string, o UninstallOptions) (*UninstallResult, error) {
	if err := render.ValidateReleaseName(name); err != nil {
		return nil, fmt.Errorf("uninstall: Release name is invalid: %s", name)
	}
	if !o.DryRun {
		unlock, err := e.lock(ctx, namespace, name)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	return e.uninstallLocked(ctx, name, o)
}

func (e *Env) uninstallLocked(ctx context.Context, name string, o UninstallOptions) (*UninstallResult, error) {
	rels, err := e.Storage.History(ctx, name)
	if err != nil {
		if o.IgnoreNotFound && errors.Is(err, ErrNotFound) {
			return &UninstallResult{}, nil
		}
		return nil, fmt.Errorf("uninstall: Release not loaded: %s: %w", name, err)
	}
	rel := rels[len(rels)-1]
	if o.DryRun {
		return &UninstallResult{Release: rel}, nil
	}
	if rel.Info.Status == StatusUninstalled {
		if !o.KeepHistory {
			if err := e.purge(ctx, rels); err != nil {
				return nil, fmt.Errorf("uninstall: Failed to purge the release: %w", err)
			}
			return &UninstallResult{Release: rel}, nil
		}
		return nil, fmt.Errorf("the release named %q is already deleted", name)
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	rel.Info.Status = StatusUninstalling
	rel.Info.Deleted = Time{Time: e.now()}
	rel.Info.Description = "Deletion in progress (or silently failed)"
	res := &UninstallResult{Release: rel}
	if !o.NoHooks {
		if err := e.runHooks(ctx, rel, render.HookPreDelete, timeout); err != nil {
			return res, err
		}
	}
	e.record(ctx, rel)

	deleted, kept, err := e.deleteResources(ctx, rel, o.Propagation)
	if err != nil {
		return nil, fmt.Errorf("failed to delete release: %s: %w", name, err)
	}
	if kept != "" {
		res.Kept = "These resources were kept due to the resource policy:\n" + kept
	}
	var errs []error
	if o.Wait {
		if err := e.Target.WaitForDelete(ctx, deleted, timeout); err != nil {
			errs = append(errs, err)
		}
	}
	if !o.NoHooks {
		if err := e.runHooks(ctx, rel, render.HookPostDelete, timeout); err != nil {
			errs = append(errs, err)
		}
	}
	rel.Info.Status = StatusUninstalled
	rel.Info.Description = "Uninstallation complete"
	if o.Description != "" {
		rel.Info.Description = o.Description
	}
	if !o.KeepHistory {
		if err := e.purge(ctx, rels); err != nil {
			errs = append(errs, fmt.Errorf("uninstall: Failed to purge the release: %w", err))
		}
	} else {
		e.record(ctx, rel)
		for _, r := range rels[:len(rels)-1] {
			if r.Info.Status == StatusDeployed {
				r.Info.Status = StatusSuperseded
				e.record(ctx, r)
			}
		}
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("uninstallation completed with %d error(s): %w", len(errs), errors.Join(errs...))
	}
	return res, nil
}

// deleteResources deletes the resources of rel's manifest in uninstall
// order, keeping those annotated helm.sh/resource-policy: keep.
func (e *Env) deleteResources(ctx context.Context, rel *Release, propagation string) (ResourceList, string, error) {
	_, manifests, err := render.SortManifests(render.SplitManifests(rel.Manifest), render.UninstallOrder())
	if err != nil {
		return nil, "", fmt.Errorf("corrupted release record: %w", err)
	}
	var kept strings.Builder
	var b strings.Builder
	for _, m := range manifests {
		if m.Head.Metadata != nil && strings.ToLower(strings.TrimSpace(m.Head.Metadata.Annotations[ResourcePolicyAnnotation])) == KeepPolicy {
			fmt.Fprintf(&kept, "[%s] %s\n", m.Head.Kind, m.Head.Metadata.Name)
			continue
		}
		fmt.Fprintf(&b, "---\n%s\n", m.Content)
	}
	toDelete := *rel
	toDelete.Manifest = b.String()
	list, err := e.buildDeployed(ctx, &toDelete, rel.Namespace)
	if err != nil {
		return nil, "", fmt.Errorf("unable to build kubernetes objects for delete: %w", err)
	}
	// Delete works from the end of the list.
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	prop := ""
	switch strings.ToLower(propagation) {
	case "foreground":
		prop = "Foreground"
	case "orphan":
		prop = "Orphan"
	case "", "background":
		prop = "Background"
	}
	deleted, errs := e.Target.Delete(ctx, list, DeleteOptions{Propagation: prop})
	if len(errs) > 0 {
		return nil, kept.String(), errors.Join(errs...)
	}
	var out ResourceList
	if deleted != nil {
		out = deleted.Deleted
	}
	return out, kept.String(), nil
}

func (e *Env) purge(ctx context.Context, rels []*Release) error {
	for _, r := range rels {
		if _, err := e.Storage.Delete(ctx, r.Name, r.Version); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}
