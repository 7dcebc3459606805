package cli

import (
	"errors"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
	"github.com/spf13/cobra"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/render"
)

const templateLong = `
Render chart templates locally and display the output.

Values that would be looked up in a cluster are faked locally, and the
Kubernetes version is v1.37.0 unless --kube-version says otherwise: the output
is byte for byte what "helm template" (v3.22.0) prints for the same command.

CHART is a chart directory or a chart archive (.tgz). Charts in repositories
and OCI registries cannot be fetched yet.

The flags "helm template" shares with "helm install" that only matter when
installing (--atomic, --wait, --timeout, --create-namespace, --labels, ...)
are accepted and change nothing. --validate and --enable-dns, which need a
cluster or the network, are refused.
`

// templateOptions are the flags of `pkg template`, named as Helm names them.
type templateOptions struct {
	values       render.ValueOptions
	chartPath    chartPathOptions
	install      installOnlyOptions
	generateName bool
	nameTemplate string
	showOnly     []string
	outputDir    string
	useRelName   bool
	includeCRDs  bool
	skipTests    bool
	isUpgrade    bool
	kubeVersion  string
	apiVersions  []string
	noHooks      bool
	skipSchema   bool
	subNotes     bool
	validate     bool
	enableDNS    bool
	devel        bool
	dependencyUp bool
	postRenderer postRendererOptions
}

// installOnlyOptions are flags `helm template` shares with `helm install`
// that change nothing when rendering locally. pkg accepts them so that
// Helm command lines keep working.
type installOnlyOptions struct {
	createNamespace bool
	dryRun          string
	force           bool
	replace         bool
	timeout         time.Duration
	wait            bool
	waitForJobs     bool
	description     string
	disableOpenAPI  bool
	atomic          bool
	skipCRDs        bool
	labels          map[string]string
	hideNotes       bool
	takeOwnership   bool
}

func newTemplateCmd(env Env, g *globalOptions) *cobra.Command {
	o := &templateOptions{}
	cmd := &cobra.Command{
		Use:   "template [NAME] [CHART]",
		Short: "locally render templates",
		Long:  templateLong,
		Args:  minimumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, env, g, args)
		},
	}
	f := cmd.Flags()
	i := &o.install
	f.BoolVar(&i.createNamespace, "create-namespace", false, "create the release namespace if not present")
	f.StringVar(&i.dryRun, "dry-run", "", "simulate an install. If --dry-run is set with no option being specified or as '--dry-run=client', it will not attempt cluster connections. Setting '--dry-run=server' allows attempting cluster connections.")
	f.Lookup("dry-run").NoOptDefVal = "client"
	f.BoolVar(&i.force, "force", false, "force resource updates through a replacement strategy")
	f.BoolVar(&o.noHooks, "no-hooks", false, "prevent hooks from running during install")
	f.BoolVar(&i.replace, "replace", false, "re-use the given name, only if that name is a deleted release which remains in the history. This is unsafe in production")
	f.DurationVar(&i.timeout, "timeout", 300*time.Second, "time to wait for any individual Kubernetes operation (like Jobs for hooks)")
	f.BoolVar(&i.wait, "wait", false, "if set, will wait until all Pods, PVCs, Services, and minimum number of Pods of a Deployment, StatefulSet, or ReplicaSet are in a ready state before marking the release as successful. It will wait for as long as --timeout")
	f.BoolVar(&i.waitForJobs, "wait-for-jobs", false, "if set and --wait enabled, will wait until all Jobs have been completed before marking the release as successful. It will wait for as long as --timeout")
	f.BoolVarP(&o.generateName, "generate-name", "g", false, "generate the name (and omit the NAME parameter)")
	f.StringVar(&o.nameTemplate, "name-template", "", "specify template used to name the release")
	f.StringVar(&i.description, "description", "", "add a custom description")
	f.BoolVar(&o.devel, "devel", false, "use development versions, too. Equivalent to version '>0.0.0-0'. If --version is set, this is ignored")
	f.BoolVar(&o.dependencyUp, "dependency-update", false, "update dependencies if they are missing before installing the chart")
	f.BoolVar(&i.disableOpenAPI, "disable-openapi-validation", false, "if set, the installation process will not validate rendered templates against the Kubernetes OpenAPI Schema")
	f.BoolVar(&i.atomic, "atomic", false, "if set, the installation process deletes the installation on failure. The --wait flag will be set automatically if --atomic is used")
	f.BoolVar(&i.skipCRDs, "skip-crds", false, "if set, no CRDs will be installed. By default, CRDs are installed if not already present")
	f.BoolVar(&o.subNotes, "render-subchart-notes", false, "if set, render subchart notes along with the parent")
	f.BoolVar(&o.skipSchema, "skip-schema-validation", false, "if set, disables JSON schema validation")
	f.StringToStringVarP(&i.labels, "labels", "l", nil, "Labels that would be added to release metadata. Should be divided by comma.")
	f.BoolVar(&o.enableDNS, "enable-dns", false, "enable DNS lookups when rendering templates (not supported by pkg)")
	f.BoolVar(&i.hideNotes, "hide-notes", false, "if set, do not show notes in install output. Does not affect presence in chart metadata")
	f.BoolVar(&i.takeOwnership, "take-ownership", false, "if set, install will ignore the check for helm annotations and take ownership of the existing resources")
	addValueFlags(f, &o.values)
	o.chartPath.addFlags(f, env)
	f.StringArrayVarP(&o.showOnly, "show-only", "s", []string{}, "only show manifests rendered from the given templates")
	f.StringVar(&o.outputDir, "output-dir", "", "writes the executed templates to files in output-dir instead of stdout")
	f.BoolVar(&o.validate, "validate", false, "validate your manifests against the Kubernetes cluster you are currently pointing at (not supported by pkg template, which renders without a cluster)")
	f.BoolVar(&o.includeCRDs, "include-crds", false, "include CRDs in the templated output")
	f.BoolVar(&o.skipTests, "skip-tests", false, "skip tests from templated output")
	f.BoolVar(&o.isUpgrade, "is-upgrade", false, "set .Release.IsUpgrade instead of .Release.IsInstall")
	f.StringVar(&o.kubeVersion, "kube-version", "", "Kubernetes version used for Capabilities.KubeVersion")
	f.StringSliceVarP(&o.apiVersions, "api-versions", "a", []string{}, "Kubernetes api versions used for Capabilities.APIVersions")
	f.BoolVar(&o.useRelName, "release-name", false, "use release name in the output-dir path.")
	addPostRendererFlags(f, &o.postRenderer)
	return cmd
}

// releaseNameAndChart resolves the NAME and CHART arguments as `helm
// template` does: one argument is the chart, named "release-name" unless
// --name-template says otherwise (--generate-name does not change it).
func (o *templateOptions) releaseNameAndChart(args []string) (string, string, error) {
	if len(args) > 2 {
		return "", "", fmt.Errorf("expected at most two arguments, unexpected arguments: %v", strings.Join(args[2:], ", "))
	}
	if len(args) == 2 {
		if o.generateName {
			return "", "", errors.New("cannot set --generate-name and also specify a name")
		}
		if o.nameTemplate != "" {
			return "", "", errors.New("cannot set --name-template and also specify a name")
		}
		return args[0], args[1], nil
	}
	if o.nameTemplate != "" {
		name, err := renderNameTemplate(o.nameTemplate)
		return name, args[0], err
	}
	return "release-name", args[0], nil
}

// renderNameTemplate executes --name-template with sprig's functions.
func renderNameTemplate(text string) (string, error) {
	t, err := template.New("name-template").Funcs(sprig.TxtFuncMap()).Parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, nil); err != nil {
		return "", err
	}
	return b.String(), nil
}

// validDryRun lists the values Helm accepts for --dry-run.
var validDryRun = []string{"false", "true", "none", "client", "server"}

// run follows `helm template` step by step, so that the first error is
// the one Helm reports: arguments, chart location, values, chart loading,
// dependencies, then the render.
func (o *templateOptions) run(cmd *cobra.Command, env Env, g *globalOptions, args []string) error {
	caps := render.DefaultCapabilities()
	if o.kubeVersion != "" {
		kv, err := render.ParseKubeVersion(o.kubeVersion)
		if err != nil {
			return fmt.Errorf("invalid kube version '%s': %s", o.kubeVersion, err)
		}
		caps.KubeVersion = *kv
	}
	caps.APIVersions = append(caps.APIVersions, o.apiVersions...)

	name, chartRef, err := o.releaseNameAndChart(args)
	if err != nil {
		return err
	}
	path, err := o.chartPath.locateContext(cmd.Context(), chartRef)
	if err != nil {
		return err
	}
	vals, err := o.values.Merge(fileReader(env))
	if err != nil {
		return err
	}
	ch, err := loadInstallable(env, path)
	if err != nil {
		return err
	}
	if err := render.CheckDependencies(ch); err != nil {
		err = fmt.Errorf("An error occurred while checking for chart dependencies. You may need to run `helm dependency build` to fetch missing dependencies: %w", err)
		if !o.dependencyUp {
			return err
		}
		if ch, err = updateDependencies(cmd.Context(), env, g, path); err != nil {
			return err
		}
	}
	dryRun := o.install.dryRun
	if dryRun == "" {
		dryRun = "true"
	}
	if !contains(validDryRun, dryRun) {
		return errors.New("Invalid dry-run flag. Flag must one of the following: false, true, none, client, server")
	}
	if o.validate {
		return errors.New("--validate needs a Kubernetes cluster; pkg template renders without one")
	}
	if o.enableDNS {
		return errors.New("--enable-dns is not supported: pkg renders without network access, and getHostByName returns \"\"")
	}

	res, err := render.Template(ch, vals, render.Options{
		ReleaseName:          name,
		Namespace:            g.namespaceOrDefault(env),
		Revision:             1,
		IsUpgrade:            o.isUpgrade,
		Capabilities:         caps,
		IncludeCRDs:          o.includeCRDs,
		SkipSchemaValidation: o.skipSchema,
		SubchartNotes:        o.subNotes,
		Warn:                 warnFunc(env),
	})
	if err != nil {
		if res == nil {
			return err
		}
		// The render began: Helm suggests --debug, which prints what was
		// rendered before failing. Nothing is written to --output-dir.
		return o.failed(env, g, res.Manifest, res.Hooks, err)
	}

	out := templateOutput{dir: o.outputDir}
	if o.outputDir != "" && o.useRelName {
		out.releaseDir = name
	}
	manifest := res.Manifest
	if o.outputDir != "" {
		// As in Helm, the manifests go to files and what the post-renderer
		// and the standard output see is empty.
		out.addManifests(res)
		manifest = ""
	}
	if o.postRenderer.path != "" {
		b, err := o.postRenderer.run(cmd.Context(), []byte(manifest))
		if err != nil {
			return o.failed(env, g, "", res.Hooks, fmt.Errorf("error while running post render on files: %w", err))
		}
		manifest = string(b)
	}
	hooks := res.Hooks
	if o.outputDir != "" {
		if !o.noHooks {
			out.addHooks(hooks, o.skipTests)
		}
		hooks = nil
		if err := out.write(env.Streams.Out); err != nil {
			return err
		}
	}
	text, err := render.TemplateOutput(manifest, hooks, o.outputOptions())
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(env.Streams.Out, text)
	return err
}

func (o *templateOptions) outputOptions() render.OutputOptions {
	return render.OutputOptions{DisableHooks: o.noHooks, SkipTests: o.skipTests, ShowOnly: o.showOnly}
}

// failed reports an error that happened once rendering had begun. Without
// --debug the error suggests it; with --debug what was rendered is printed
// first, as Helm does.
func (o *templateOptions) failed(env Env, g *globalOptions, manifest string, hooks []*render.Hook, err error) error {
	if !g.debug {
		return fmt.Errorf("%w\n\nUse --debug flag to render out invalid YAML", err)
	}
	if o.outputDir != "" {
		hooks = nil
	}
	text, terr := render.TemplateOutput(manifest, hooks, o.outputOptions())
	if terr != nil {
		return terr
	}
	fmt.Fprint(env.Streams.Out, text)
	return err
}

// loadInstallable loads the chart at path and checks that it can be
// rendered as a release: an application chart, with a warning when the
// chart is deprecated.
func loadInstallable(env Env, path string) (*chart.Chart, error) {
	ch, err := chart.Load(path)
	if err != nil {
		return nil, err
	}
	if t := ch.Metadata.Type; t != "" && t != chart.TypeApplication {
		return nil, fmt.Errorf("%s charts are not installable", t)
	}
	if ch.Metadata.Deprecated {
		fmt.Fprintln(env.Streams.Err, "WARNING: This chart is deprecated")
	}
	return ch, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
