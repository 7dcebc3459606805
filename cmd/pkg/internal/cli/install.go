package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/release"
	"pkg.dev/pkg/render"
)

const installLong = `
This command installs a chart archive.

The install argument must be a chart reference, a path to a packaged chart,
a path to an unpacked chart directory or a URL.

To override values in a chart, use either the '--values' flag and pass in a
file or use the '--set' flag and pass configuration from the command line; to
force a string value use '--set-string'. Later flags win over earlier ones.

    $ pkg install -f myvalues.yaml myredis ./redis
    $ pkg install --set name=prod myredis ./redis

With no kubeconfig (no --kubeconfig, no $KUBECONFIG, no ~/.kube/config), the
release goes to pkg's bundled cluster, which is started on first use.
Release history is stored as Helm stores it, so "helm list", "helm history"
and "helm rollback" work on releases pkg installed, and the reverse.
`

// applyFlags are the flags install and upgrade share.
type applyFlags struct {
	values          render.ValueOptions
	chartPath       chartPathOptions
	createNamespace bool
	dryRun          string
	force           bool
	noHooks         bool
	timeout         time.Duration
	wait            bool
	waitForJobs     bool
	description     string
	devel           bool
	dependencyUp    bool
	disableOpenAPI  bool
	atomic          bool
	skipCRDs        bool
	subNotes        bool
	skipSchema      bool
	labels          map[string]string
	enableDNS       bool
	hideNotes       bool
	hideSecret      bool
	takeOwnership   bool
	output          outputFormat
	postRenderer    postRendererOptions
}

func (a *applyFlags) addFlags(f *pflag.FlagSet, env Env, verb string) {
	f.BoolVar(&a.createNamespace, "create-namespace", false, "if --install is set, create the release namespace if not present")
	if verb == "install" {
		f.Lookup("create-namespace").Usage = "create the release namespace if not present"
	}
	f.StringVar(&a.dryRun, "dry-run", "", "simulate an "+verb+". If --dry-run is set with no option being specified or as '--dry-run=client', nothing is changed in the cluster. Setting '--dry-run=server' reads the cluster as a real run would.")
	f.Lookup("dry-run").NoOptDefVal = "client"
	f.BoolVar(&a.force, "force", false, "force resource updates through a replacement strategy")
	f.BoolVar(&a.noHooks, "no-hooks", false, "prevent hooks from running during "+verb)
	f.DurationVar(&a.timeout, "timeout", release.DefaultTimeout, "time to wait for any individual Kubernetes operation (like Jobs for hooks)")
	f.BoolVar(&a.wait, "wait", false, "if set, will wait until all Pods, PVCs, Services, and minimum number of Pods of a Deployment, StatefulSet, or ReplicaSet are in a ready state before marking the release as successful. It will wait for as long as --timeout")
	f.BoolVar(&a.waitForJobs, "wait-for-jobs", false, "if set and --wait enabled, will wait until all Jobs have been completed before marking the release as successful. It will wait for as long as --timeout")
	f.StringVar(&a.description, "description", "", "add a custom description")
	f.BoolVar(&a.devel, "devel", false, "use development versions, too. Equivalent to version '>0.0.0-0'. If --version is set, this is ignored")
	f.BoolVar(&a.dependencyUp, "dependency-update", false, "update dependencies if they are missing before installing the chart")
	f.BoolVar(&a.disableOpenAPI, "disable-openapi-validation", false, "if set, the installation process will not validate rendered templates against the Kubernetes OpenAPI Schema")
	f.BoolVar(&a.atomic, "atomic", false, "if set, a failed "+verb+" is undone (an install uninstalled, an upgrade rolled back). The --wait flag will be set automatically if --atomic is used")
	f.BoolVar(&a.atomic, "rollback-on-failure", false, "Helm 4's name for --atomic")
	f.BoolVar(&a.skipCRDs, "skip-crds", false, "if set, no CRDs will be installed. By default, CRDs are installed if not already present")
	f.BoolVar(&a.subNotes, "render-subchart-notes", false, "if set, render subchart notes along with the parent")
	f.BoolVar(&a.skipSchema, "skip-schema-validation", false, "if set, disables JSON schema validation")
	f.StringToStringVarP(&a.labels, "labels", "l", nil, "Labels that would be added to release metadata. Should be divided by comma.")
	f.BoolVar(&a.enableDNS, "enable-dns", false, "enable DNS lookups when rendering templates (not supported by pkg)")
	f.BoolVar(&a.hideNotes, "hide-notes", false, "if set, do not show notes in "+verb+" output. Does not affect presence in chart metadata")
	f.BoolVar(&a.hideSecret, "hide-secret", false, "hide Kubernetes Secrets when also using the --dry-run flag")
	f.BoolVar(&a.takeOwnership, "take-ownership", false, "if set, "+verb+" will ignore the check for helm annotations and take ownership of the existing resources")
	addValueFlags(f, &a.values)
	a.chartPath.addFlags(f, env)
	addOutputFlag(f, &a.output)
	addPostRendererFlags(f, &a.postRenderer)
}

// dryRunMode checks --dry-run as Helm does.
func (a *applyFlags) dryRunMode() (release.DryRun, error) {
	switch a.dryRun {
	case "", "false", "none":
		if a.hideSecret {
			return "", errors.New("Hiding Kubernetes secrets requires a dry-run mode")
		}
		return release.DryRunNone, nil
	case "true", "client":
		return release.DryRunClient, nil
	case "server":
		return release.DryRunServer, nil
	}
	return "", errors.New("Invalid dry-run flag. Flag must one of the following: false, true, none, client, server")
}

// unsupported refuses flags pkg accepts for Helm's command lines but
// cannot honour yet, rather than silently ignoring them.
func (a *applyFlags) unsupported() error {
	switch {
	case a.enableDNS:
		return errors.New("--enable-dns is not supported: pkg renders without network access")
	case a.hideSecret:
		return errors.New("--hide-secret is not supported by pkg yet")
	}
	return nil
}

// renderOptions are the release layer's render options from the flags.
func (a *applyFlags) renderOptions() release.RenderOptions {
	return release.RenderOptions{SubchartNotes: a.subNotes, SkipSchemaValidation: a.skipSchema, PostRender: a.postRender()}
}

// valuesModeFlags are upgrade's flags that say how the previous values
// carry over.
type valuesModeFlags struct{ reset, reuse, resetThenReuse bool }

func (v *valuesModeFlags) addFlags(f *pflag.FlagSet) {
	f.BoolVar(&v.reset, "reset-values", false, "when upgrading, reset the values to the ones built into the chart")
	f.BoolVar(&v.reuse, "reuse-values", false, "when upgrading, reuse the last release's values and merge in any overrides from the command line via --set and -f. If '--reset-values' is specified, this is ignored")
	f.BoolVar(&v.resetThenReuse, "reset-then-reuse-values", false, "when upgrading, reset the values to the ones built into the chart, apply the last release's values and merge in any overrides from the command line via --set and -f. If '--reset-values' or '--reuse-values' is specified, this is ignored")
}

// mode resolves the flags in Helm's precedence.
func (v *valuesModeFlags) mode() release.ValuesMode {
	switch {
	case v.reset:
		return release.ValuesReset
	case v.reuse:
		return release.ValuesReuse
	case v.resetThenReuse:
		return release.ValuesResetThenReuse
	}
	return release.ValuesDefault
}

// postRender returns the --post-renderer as the release layer takes it.
func (a *applyFlags) postRender() func(context.Context, string) (string, error) {
	if a.postRenderer.path == "" {
		return nil
	}
	return func(ctx context.Context, manifest string) (string, error) {
		out, err := a.postRenderer.run(ctx, []byte(manifest))
		return string(out), err
	}
}

func (a *applyFlags) applyOptions(dry release.DryRun) release.ApplyOptions {
	return release.ApplyOptions{
		NoHooks: a.noHooks, Wait: a.wait || a.atomic, WaitForJobs: a.waitForJobs, Timeout: a.timeout,
		Atomic: a.atomic, Force: a.force, Description: a.description, DryRun: dry,
	}
}

// loadChart locates, loads and checks the chart and merges the values,
// in Helm's order.
func (a *applyFlags) loadChart(ctx context.Context, env Env, g *globalOptions, ref string) (*chart.Chart, map[string]any, error) {
	if a.chartPath.version == "" && a.devel {
		a.chartPath.version = ">0.0.0-0"
	}
	path, err := a.chartPath.locateContext(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	vals, err := a.values.Merge(fileReader(env))
	if err != nil {
		return nil, nil, err
	}
	ch, err := loadInstallable(env, path)
	if err != nil {
		return nil, nil, err
	}
	if err := render.CheckDependencies(ch); err != nil {
		if !a.dependencyUp {
			return nil, nil, fmt.Errorf("An error occurred while checking for chart dependencies. You may need to run `helm dependency build` to fetch missing dependencies: %w", err)
		}
		if ch, err = updateDependencies(ctx, env, g, path); err != nil {
			return nil, nil, err
		}
	}
	return ch, vals, nil
}

func newInstallCmd(env Env, g *globalOptions) *cobra.Command {
	a := &applyFlags{}
	var generateName, replace bool
	var nameTemplate string
	cmd := &cobra.Command{
		Use:   "install [NAME] [CHART]",
		Short: "install a chart",
		Long:  installLong,
		Args:  minimumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, ref, err := installNameAndChart(args, generateName, nameTemplate)
			if err != nil {
				return err
			}
			rel, err := runInstall(cmd, env, g, a, name, ref, replace)
			if err != nil {
				return fmt.Errorf("INSTALLATION FAILED: %w", err)
			}
			return statusView{rel: rel, debug: g.debug, hideNotes: a.hideNotes}.write(env.Streams.Out, a.output)
		},
	}
	f := cmd.Flags()
	a.addFlags(f, env, "install")
	f.BoolVarP(&generateName, "generate-name", "g", false, "generate the name (and omit the NAME parameter)")
	f.StringVar(&nameTemplate, "name-template", "", "specify template used to name the release")
	f.BoolVar(&replace, "replace", false, "re-use the given name, only if that name is a deleted release which remains in the history. This is unsafe in production")
	return cmd
}

func runInstall(cmd *cobra.Command, env Env, g *globalOptions, a *applyFlags, name, ref string, replace bool) (*release.Release, error) {
	if err := a.unsupported(); err != nil {
		return nil, err
	}
	dry, err := a.dryRunMode()
	if err != nil {
		return nil, err
	}
	ch, vals, err := a.loadChart(cmd.Context(), env, g, ref)
	if err != nil {
		return nil, err
	}
	re, conn, err := g.releaseEnv(cmd.Context(), env, false)
	if err != nil {
		return nil, err
	}
	return re.Install(cmd.Context(), ch, vals, release.InstallOptions{
		ApplyOptions:    a.applyOptions(dry),
		Name:            name,
		Namespace:       conn.namespace,
		CreateNamespace: a.createNamespace,
		SkipCRDs:        a.skipCRDs,
		TakeOwnership:   a.takeOwnership,
		Replace:         replace,
		Labels:          a.labels,
		RenderOptions:   a.renderOptions(),
	})
}

// installNameAndChart resolves NAME and CHART as `helm install` does.
func installNameAndChart(args []string, generate bool, nameTemplate string) (string, string, error) {
	if len(args) > 2 {
		return "", "", fmt.Errorf("expected at most two arguments, unexpected arguments: %v", strings.Join(args[2:], ", "))
	}
	if len(args) == 2 {
		if generate {
			return "", "", errors.New("cannot set --generate-name and also specify a name")
		}
		if nameTemplate != "" {
			return "", "", errors.New("cannot set --name-template and also specify a name")
		}
		return args[0], args[1], nil
	}
	if nameTemplate != "" {
		name, err := renderNameTemplate(nameTemplate)
		return name, args[0], err
	}
	if !generate {
		return "", "", errors.New("must either provide a name or specify --generate-name")
	}
	base := filepath.Base(args[0])
	if base == "." || base == "" {
		base = "chart"
	}
	if i := strings.Index(base, "."); i != -1 {
		base = base[:i]
	}
	return fmt.Sprintf("%s-%d", base, time.Now().Unix()), args[0], nil
}
