package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/repo"
)

func newDependencyCmd(env Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "dependency update|build|list",
		Aliases: []string{"dep", "dependencies"},
		Short:   "manage a chart's dependencies",
		Long: `
Manage the dependencies of a chart.

Charts declare their dependencies in Chart.yaml, each with a name, a version
constraint and a repository: the URL of a chart repository, "@NAME" or
"alias:NAME" for a repository added with 'pkg repo add', "file://PATH" for a
chart directory, or nothing for a chart already in charts/.

'pkg dependency update' resolves the constraints, downloads the charts into
charts/ and records the versions in Chart.lock; 'pkg dependency build'
downloads exactly what Chart.lock records, and fails when it no longer
matches Chart.yaml. Archives are checked against the repository index's
digest (and, with --verify, against their provenance files), and charts/ is
only changed once every dependency was fetched.
`,
		Args: noArgs,
	}
	cmd.AddCommand(
		newDependencyListCmd(env),
		newDependencyUpdateCmd(env, g),
		newDependencyBuildCmd(env, g),
	)
	return cmd
}

func chartDirArg(args []string) string {
	if len(args) > 0 {
		return filepath.Clean(args[0])
	}
	return "."
}

func newDependencyListCmd(env Env) *cobra.Command {
	var width uint
	cmd := &cobra.Command{
		Use:     "list CHART",
		Aliases: []string{"ls"},
		Short:   "list the dependencies for the given chart",
		Long: `
List all of the dependencies declared in a chart, and their state in its
charts/ directory: ok, missing, wrong version, misnamed, corrupt or
unpacked.
`,
		Args: maximumArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			dir := chartDirArg(args)
			rows, extra, err := repo.ListDependencies(dir)
			if err != nil {
				return err
			}
			out := env.Streams.Out
			if rows == nil {
				fmt.Fprintf(out, "WARNING: no dependencies at %s\n", filepath.Join(dir, "charts"))
				return nil
			}
			table := [][]any{{"NAME", "VERSION", "REPOSITORY", "STATUS"}}
			for _, r := range rows {
				table = append(table, []any{r.Name, r.Version, r.Repository, r.Status})
			}
			if err := writeTable(out, width, table); err != nil {
				return err
			}
			fmt.Fprintln(out)
			for _, w := range extra {
				fmt.Fprintln(out, w)
			}
			return nil
		},
	}
	cmd.Flags().UintVar(&width, "max-col-width", 80, "maximum column width for output table")
	return cmd
}

// dependencyFlags are the flags update and build share with Helm. The
// TLS flags and --plain-http apply to OCI registries, as in Helm;
// --username and --password are accepted and not used (stored registry
// logins are).
type dependencyFlags struct {
	verify      bool
	keyring     string
	skipRefresh bool
	unused      chartPathOptions
}

func (o *dependencyFlags) addFlags(f *pflag.FlagSet, env Env) {
	f.BoolVar(&o.verify, "verify", false, "verify the packages against signatures")
	f.StringVar(&o.keyring, "keyring", helmPaths{env}.defaultKeyring(), "keyring containing public keys")
	f.BoolVar(&o.skipRefresh, "skip-refresh", false, "do not refresh the local repository cache")
	f.StringVar(&o.unused.username, "username", "", "chart repository username where to locate the requested chart")
	f.StringVar(&o.unused.password, "password", "", "chart repository password where to locate the requested chart")
	f.StringVar(&o.unused.certFile, "cert-file", "", "identify HTTPS client using this SSL certificate file")
	f.StringVar(&o.unused.keyFile, "key-file", "", "identify HTTPS client using this SSL key file")
	f.BoolVar(&o.unused.insecureSkipTLS, "insecure-skip-tls-verify", false, "skip tls certificate checks for the chart download")
	f.BoolVar(&o.unused.plainHTTP, "plain-http", false, "use insecure HTTP connections for the chart download")
	f.StringVar(&o.unused.caFile, "ca-file", "", "verify certificates of HTTPS-enabled servers using this CA bundle")
}

// dependencies builds the dependency manager for the chart at dir.
func (o *dependencyFlags) dependencies(env Env, g *globalOptions, dir string) (*repo.Dependencies, error) {
	var ring openpgp.EntityList
	if o.verify {
		r, err := repo.LoadKeyring(o.keyring)
		if err != nil {
			return nil, fmt.Errorf("failed to load keyring: %w", err)
		}
		ring = r
	}
	p := g.repoPaths()
	files, err := repo.LoadFileOrEmpty(p.config)
	if err != nil {
		return nil, err
	}
	oci, err := newOCI(g, registryAccess{certFile: o.unused.certFile, keyFile: o.unused.keyFile, caFile: o.unused.caFile, insecure: o.unused.insecureSkipTLS, plainHTTP: o.unused.plainHTTP})
	if err != nil {
		return nil, err
	}
	oci.Progress = terminalProgress(env)
	return &repo.Dependencies{
		OCI:          oci,
		Verify:       o.verify,
		Keyring:      ring,
		ChartDir:     dir,
		Fetcher:      newFetcher(env, defaultRepoTimeout),
		Repositories: files,
		Cache:        p.cache,
		SkipRefresh:  o.skipRefresh,
		Now:          time.Now(),
		Log:          func(s string) { fmt.Fprintln(env.Streams.Out, s) },
		Warn:         warnFunc(env),
	}, nil
}

func newDependencyUpdateCmd(env Env, g *globalOptions) *cobra.Command {
	o := &dependencyFlags{}
	cmd := &cobra.Command{
		Use:     "update CHART",
		Aliases: []string{"up"},
		Short:   "update charts/ based on the contents of Chart.yaml",
		Long: `
Update the on-disk dependencies to mirror Chart.yaml.

This command verifies that the required charts, as expressed in 'Chart.yaml',
are present in 'charts/' and are at an acceptable version. It will pull down
the latest charts that satisfy the dependencies, and clean up old dependencies.

On successful update, this will generate a lock file that can be used to
rebuild the dependencies to an exact version.
`,
		Args: maximumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := o.dependencies(env, g, chartDirArg(args))
			if err != nil {
				return err
			}
			_, err = d.Update(cmd.Context())
			return err
		},
	}
	o.addFlags(cmd.Flags(), env)
	return cmd
}

func newDependencyBuildCmd(env Env, g *globalOptions) *cobra.Command {
	o := &dependencyFlags{}
	cmd := &cobra.Command{
		Use:   "build CHART",
		Short: "rebuild the charts/ directory based on the Chart.lock file",
		Long: `
Build out the charts/ directory from the Chart.lock file.

Build is used to reconstruct a chart's dependencies to the state specified in
the lock file. This will not re-negotiate dependencies, as 'pkg dependency update'
does.

If no lock file is found, 'pkg dependency build' will mirror the behavior
of 'pkg dependency update'.
`,
		Args: maximumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := o.dependencies(env, g, chartDirArg(args))
			if err != nil {
				return err
			}
			_, err = d.Build(cmd.Context())
			return err
		},
	}
	o.addFlags(cmd.Flags(), env)
	return cmd
}

// updateDependencies runs `dependency update` on the chart directory
// dir, for --dependency-update on install and template, and reloads the
// chart.
func updateDependencies(ctx context.Context, env Env, g *globalOptions, dir string) (*chart.Chart, error) {
	o := &dependencyFlags{keyring: helmPaths{env}.defaultKeyring()}
	d, err := o.dependencies(env, g, dir)
	if err != nil {
		return nil, err
	}
	if _, err := d.Update(ctx); err != nil {
		return nil, err
	}
	return chart.Load(dir)
}

// maximumArgs allows at most n positional arguments (Helm's message).
func maximumArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usageError(cmd, "accepts at most %d %s", n, plural("argument", n))
		}
		return nil
	}
}
