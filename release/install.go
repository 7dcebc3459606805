package release

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/render"
)

// DefaultTimeout is how long an action waits for hooks and resources when
// no timeout is given, as in Helm.
const DefaultTimeout = 5 * time.Minute

// DryRun says how much of an action to carry out.
type DryRun string

// The dry-run modes of Helm's --dry-run flag.
const (
	DryRunNone   DryRun = ""
	DryRunClient DryRun = "client"
	DryRunServer DryRun = "server"
)

// ApplyOptions are the options install, upgrade and rollback share.
type ApplyOptions struct {
	// NoHooks skips the release's hooks.
	NoHooks bool
	// Wait waits for the resources to be ready; WaitForJobs for Jobs to
	// complete too.
	Wait        bool
	WaitForJobs bool
	// Timeout bounds each hook and the wait; 0 means DefaultTimeout.
	Timeout time.Duration
	// Atomic undoes a failed operation (an install is uninstalled, an
	// upgrade rolled back to the last deployed revision); it implies Wait.
	Atomic bool
	// Force replaces resources that cannot be patched.
	Force bool
	// Description replaces the revision's default description.
	Description string
	// DryRun renders and checks without changing the cluster.
	DryRun DryRun
}

func (o ApplyOptions) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

// InstallOptions tune Install.
type InstallOptions struct {
	ApplyOptions
	// Name and Namespace of the release.
	Name      string
	Namespace string
	// CreateNamespace creates the namespace if missing.
	CreateNamespace bool
	// SkipCRDs does not install the chart's crds/ files.
	SkipCRDs bool
	// TakeOwnership adopts existing resources the release renders even
	// when they belong to no release or another one.
	TakeOwnership bool
	// Replace re-uses the name of an uninstalled or failed release.
	Replace bool
	// Labels are the release's own labels, kept with its records.
	Labels map[string]string
	RenderOptions
}

// RenderOptions are how install and upgrade render the chart.
type RenderOptions struct {
	// SubchartNotes renders the NOTES.txt of subcharts too.
	SubchartNotes bool
	// SkipSchemaValidation skips values.schema.json.
	SkipSchemaValidation bool
	// Lookup serves the templates' lookup function; nil means the
	// target's (see Looker) unless DryRun is client, which renders
	// without reading the cluster.
	Lookup render.LookupFunc
	// PostRender, if set, rewrites the rendered manifest (not the hooks)
	// before it is applied and recorded, as Helm's --post-renderer.
	PostRender func(ctx context.Context, manifest string) (string, error)
}

// render renders revision rev of a release with the cluster's
// capabilities, then post-renders its manifest.
func (e *Env) render(ctx context.Context, c *chart.Chart, vals map[string]any, name, namespace string, rev int, dry DryRun, ro RenderOptions) (*render.Result, error) {
	caps, err := e.Target.Capabilities(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the cluster's capabilities: %w", err)
	}
	res, err := render.Template(c, vals, render.Options{
		ReleaseName:          name,
		Namespace:            namespace,
		Revision:             rev,
		IsUpgrade:            rev > 1,
		Capabilities:         caps,
		SubchartNotes:        ro.SubchartNotes,
		SkipSchemaValidation: ro.SkipSchemaValidation,
		Lookup:               e.lookup(ctx, ro.Lookup, dry),
	})
	if err != nil {
		return nil, err
	}
	if res.Manifest, err = postRender(ctx, ro.PostRender, res.Manifest); err != nil {
		return nil, err
	}
	return res, nil
}

// Install installs chart c with the user's values as revision 1 of a new
// release, as `helm install` does: CRDs first, then the pre-install hooks,
// the resources in install order, the wait, and the post-install hooks.
// The revision is recorded pending-install before anything is applied and
// deployed or failed after.
func (e *Env) Install(ctx context.Context, c *chart.Chart, vals map[string]any, o InstallOptions) (*Release, error) {
	if err := render.ValidateReleaseName(o.Name); err != nil {
		return nil, fmt.Errorf("release name %q: %w", o.Name, err)
	}
	if err := checkLabels(o.Labels); err != nil {
		return nil, err
	}
	if vals == nil {
		vals = map[string]any{}
	}
	if o.Atomic {
		o.Wait = true
	}
	dry := o.DryRun != DryRunNone
	if !dry {
		if o.CreateNamespace {
			if err := e.Target.EnsureNamespace(ctx, o.Namespace); err != nil {
				return nil, err
			}
		}
		unlock, err := e.lock(ctx, o.Namespace, o.Name)
		if err != nil {
			return nil, err
		}
		defer unlock()
		if err := e.availableName(ctx, o.Name, o.Replace); err != nil {
			return nil, err
		}
		if crds := c.CRDObjects(); !o.SkipCRDs && len(crds) > 0 {
			if err := e.installCRDs(ctx, crds, o.timeout()); err != nil {
				return nil, err
			}
		}
	}
	res, err := e.render(ctx, c, vals, o.Name, o.Namespace, 1, o.DryRun, o.RenderOptions)
	if err != nil {
		return nil, err
	}
	now := Time{Time: e.now()}
	rel := &Release{
		Name:      o.Name,
		Namespace: o.Namespace,
		Chart:     StoredChart(c),
		Config:    vals,
		Manifest:  res.Manifest,
		Hooks:     res.Hooks,
		Version:   1,
		Labels:    o.Labels,
		Info: &Info{
			FirstDeployed: now, LastDeployed: now,
			Status: StatusPendingInstall, Description: "Initial install underway",
			Notes: res.Notes,
		},
	}
	resources, err := e.Target.Build(ctx, rel.Manifest, o.Namespace)
	if err != nil {
		return nil, fmt.Errorf("unable to build kubernetes objects from release manifest: %w", err)
	}
	setOwnership(resources, rel.Name, rel.Namespace)
	existing, err := adoptable(ctx, e.Target, resources, rel.Name, rel.Namespace, o.TakeOwnership)
	if err != nil {
		return nil, fmt.Errorf("Unable to continue with install: %w", err)
	}
	if dry {
		rel.Info.Description = "Dry run complete"
		return rel, nil
	}
	if o.Replace {
		if err := e.replaceHistory(ctx, rel.Name); err != nil {
			return nil, err
		}
	}
	if err := e.Storage.Create(ctx, rel); err != nil {
		return nil, fmt.Errorf("recording release %q: %w", rel.Name, err)
	}
	if err := e.performInstall(ctx, rel, resources, existing, o); err != nil {
		return e.failInstall(ctx, rel, err, o)
	}
	return rel, nil
}

func (e *Env) performInstall(ctx context.Context, rel *Release, resources, existing ResourceList, o InstallOptions) error {
	if !o.NoHooks {
		if err := e.runHooks(ctx, rel, render.HookPreInstall, o.timeout()); err != nil {
			return fmt.Errorf("failed pre-install: %w", err)
		}
	}
	if len(resources) > 0 {
		var err error
		if len(existing) == 0 {
			_, err = e.Target.Create(ctx, resources)
		} else {
			_, err = e.Target.Update(ctx, existing, resources, UpdateOptions{Force: o.Force})
		}
		if err != nil {
			return err
		}
	}
	if o.Wait {
		if err := e.wait(ctx, resources, o.ApplyOptions); err != nil {
			return err
		}
	}
	if !o.NoHooks {
		if err := e.runHooks(ctx, rel, render.HookPostInstall, o.timeout()); err != nil {
			return fmt.Errorf("failed post-install: %w", err)
		}
	}
	rel.Info.Status = StatusDeployed
	rel.Info.Description = "Install complete"
	if o.Description != "" {
		rel.Info.Description = o.Description
	}
	if err := e.Storage.Update(ctx, rel); err != nil {
		return fmt.Errorf("recording release %q as deployed: %w", rel.Name, err)
	}
	return nil
}

func (e *Env) failInstall(ctx context.Context, rel *Release, cause error, o InstallOptions) (*Release, error) {
	ctx, cancel := e.settle(ctx, o.timeout())
	defer cancel()
	rel.Info.Status = StatusFailed
	rel.Info.Description = fmt.Sprintf("Release %q failed: %s", rel.Name, cause)
	if o.Atomic {
		e.say(fmt.Sprintf("install of %q failed and --atomic is set: uninstalling it", rel.Name))
		e.record(ctx, rel)
		if _, err := e.uninstallLocked(ctx, rel.Name, UninstallOptions{NoHooks: o.NoHooks, Timeout: o.Timeout}); err != nil {
			return rel, fmt.Errorf("an error occurred while uninstalling the release. original install error: %s: %w", cause, err)
		}
		return rel, fmt.Errorf("release %s failed, and has been uninstalled due to atomic being set: %w", rel.Name, cause)
	}
	e.record(ctx, rel)
	return rel, cause
}

// wait waits for resources with progress lines.
func (e *Env) wait(ctx context.Context, list ResourceList, o ApplyOptions) error {
	e.say(fmt.Sprintf("waiting up to %s for %d resources to be ready", o.timeout(), len(list)))
	return e.Target.Wait(ctx, list, WaitOptions{
		Timeout: o.timeout(),
		Jobs:    o.WaitForJobs,
		Progress: func(pending []Pending) {
			for _, p := range pending {
				e.say(fmt.Sprintf("waiting for %s: %s", p.Resource, p.Reason))
			}
		},
	})
}

// availableName refuses a name whose last revision is still in use.
func (e *Env) availableName(ctx context.Context, name string, replace bool) error {
	last, err := e.Storage.Last(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	st := last.Info.Status
	if replace && (st == StatusUninstalled || st == StatusFailed) {
		return nil
	}
	if st.IsPending() {
		return fmt.Errorf("cannot re-use a name that is still in use: revision %d was left %s by a command that did not finish; run \"pkg upgrade %s CHART\" to recover it", last.Version, st, name)
	}
	return errors.New("cannot re-use a name that is still in use")
}

// replaceHistory deletes the records of a release being replaced, as
// Helm's --replace does.
func (e *Env) replaceHistory(ctx context.Context, name string) error {
	h, err := e.Storage.History(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, r := range h {
		if _, err := e.Storage.Delete(ctx, name, r.Version); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// installCRDs creates the chart's CRDs that do not exist yet and waits
// for them to be established, as Helm does before rendering.
func (e *Env) installCRDs(ctx context.Context, crds []chart.CRD, timeout time.Duration) error {
	var all ResourceList
	for _, crd := range crds {
		list, err := e.Target.Build(ctx, string(crd.File.Data), "")
		if err != nil {
			return fmt.Errorf("failed to install CRD %s: %w", crd.Filename, err)
		}
		for _, r := range list {
			if _, err := e.Target.Create(ctx, ResourceList{r}); err != nil {
				if apierrors.IsAlreadyExists(errors.Unwrap(err)) || apierrors.IsAlreadyExists(err) {
					e.debug("CRD is already present, skipping", "name", r.Name)
					continue
				}
				return fmt.Errorf("failed to install CRD %s: %w", crd.Filename, err)
			}
			all = append(all, r)
		}
	}
	if len(all) == 0 {
		return nil
	}
	return e.Target.Wait(ctx, all, WaitOptions{Timeout: min(timeout, time.Minute)})
}

// checkLabels refuses release labels that collide with the storage's own.
func checkLabels(lbs map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(lbs)) {
		if IsSystemLabel(k) {
			return fmt.Errorf("user supplied labels contains system reserved label name. System labels: [name owner status version createdAt modifiedAt]")
		}
	}
	return nil
}
