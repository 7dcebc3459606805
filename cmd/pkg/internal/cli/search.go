package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/spf13/cobra"

	"pkg.dev/pkg/repo"
)

func newSearchCmd(env Env, g *globalOptions) *cobra.Command {
	var versions, devel bool
	var constraint string
	var format outputFormat
	var a registryAccess
	cmd := &cobra.Command{
		Use:   "search [keyword|oci://HOST/PATH/CHART]",
		Short: "search for a keyword in charts",
		Long: `
Search provides the ability to search for charts in the chart repositories
you have added (pkg search repo) and in the Artifact Hub (pkg search hub).

Given an OCI reference, it lists the versions (semantic version tags) the
registry holds for that chart, newest first: the newest stable one, or every
one with --versions.
`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || !repo.IsOCI(args[0]) {
				return usageError(cmd, "takes an oci:// chart reference; use 'pkg search repo' to search repositories, 'pkg search hub' to search the Artifact Hub")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := newOCI(g, a)
			if err != nil {
				return err
			}
			tags, err := o.Tags(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			c := constraint
			if c == "" {
				c = ">0.0.0"
				if devel {
					c = ">0.0.0-0"
				}
			}
			sc, err := semver.NewConstraint(c)
			if err != nil {
				return fmt.Errorf("an invalid version/constraint format: %w", err)
			}
			name := strings.TrimPrefix(args[0], repo.OCIScheme+"://")
			type element struct {
				Name    string `json:"name"`
				Version string `json:"version"`
			}
			var list []element
			for _, t := range tags {
				v, err := semver.NewVersion(t)
				if err != nil || !sc.Check(v) {
					continue
				}
				list = append(list, element{name, t})
				if !versions {
					break
				}
			}
			if format != outputTable {
				if list == nil {
					list = []element{}
				}
				return writeStructured(env.Streams.Out, format, list)
			}
			if len(list) == 0 {
				_, err := fmt.Fprintln(env.Streams.Out, "No results found")
				return err
			}
			rows := [][]any{{"NAME", "CHART VERSION"}}
			for _, e := range list {
				rows = append(rows, []any{e.Name, e.Version})
			}
			return writeTable(env.Streams.Out, 0, rows)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&versions, "versions", "l", false, "list every version, not only the newest")
	f.BoolVar(&devel, "devel", false, "include development versions (alpha, beta, and release candidate releases). Equivalent to version '>0.0.0-0'. If --version is set, this is ignored")
	f.StringVar(&constraint, "version", "", "list only the versions satisfying this semantic version constraint")
	f.BoolVar(&a.plainHTTP, "plain-http", false, "use insecure HTTP connections to the registry")
	f.BoolVar(&a.insecure, "insecure-skip-tls-verify", false, "skip tls certificate checks for the registry")
	f.StringVar(&a.caFile, "ca-file", "", "verify certificates of HTTPS-enabled servers using this CA bundle")
	f.StringVar(&a.certFile, "cert-file", "", "identify registry client using this SSL certificate file")
	f.StringVar(&a.keyFile, "key-file", "", "identify registry client using this SSL key file")
	addOutputFlag(f, &format)
	cmd.AddCommand(newSearchRepoCmd(env, g), newSearchHubCmd(env))
	return cmd
}

type searchRepoOptions struct {
	versions    bool
	regexp      bool
	devel       bool
	version     string
	maxColWidth uint
	failNoMatch bool
	format      outputFormat
}

func newSearchRepoCmd(env Env, g *globalOptions) *cobra.Command {
	o := &searchRepoOptions{}
	cmd := &cobra.Command{
		Use:   "repo [keyword]",
		Short: "search repositories for a keyword in charts",
		Long: `
Search reads through all of the repositories configured on the system, and
looks for matches. Search of these repositories uses the metadata stored on
the system.

It will display the latest stable versions of the charts found. If you
specify the --devel flag, the output will include pre-release versions.
If you want to search using a version constraint, use --version.

Examples:

    # Search for stable release versions matching the keyword "nginx"
    $ pkg search repo nginx

    # Search for release versions matching the keyword "nginx", including pre-release versions
    $ pkg search repo nginx --devel

    # Search for the latest stable release for nginx-ingress with a major version of 1
    $ pkg search repo nginx-ingress --version ^1.0.0

Repositories are managed with 'pkg repo' commands.
`,
		RunE: func(_ *cobra.Command, args []string) error {
			return o.run(env, g.repoPaths(), args)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.regexp, "regexp", "r", false, "use regular expressions for searching repositories you have added")
	f.BoolVarP(&o.versions, "versions", "l", false, "show the long listing, with each version of each chart on its own line, for repositories you have added")
	f.BoolVar(&o.devel, "devel", false, "use development versions (alpha, beta, and release candidate releases), too. Equivalent to version '>0.0.0-0'. If --version is set, this is ignored")
	f.StringVar(&o.version, "version", "", "search using semantic versioning constraints on repositories you have added")
	f.UintVar(&o.maxColWidth, "max-col-width", 50, "maximum column width for output table")
	f.BoolVar(&o.failNoMatch, "fail-on-no-result", false, "search fails if no results are found")
	addOutputFlag(f, &o.format)
	return cmd
}

func (o *searchRepoOptions) run(env Env, p repoPaths, args []string) error {
	constraint := o.version
	if constraint == "" {
		constraint = ">0.0.0"
		if o.devel {
			constraint = ">0.0.0-0"
		}
	}
	f, err := repo.LoadFile(p.config)
	if errors.Is(err, fs.ErrNotExist) || len(f.Repositories) == 0 {
		return errors.New("no repositories configured")
	}
	var idx repo.SearchIndex
	for _, e := range f.Repositories {
		if e == nil {
			continue
		}
		ind, err := p.cache.LoadIndex(e.Name, nil)
		if err != nil {
			warn := warnFunc(env)
			warn(fmt.Sprintf("Repo %q is corrupt or missing. Try 'pkg repo update'.", e.Name))
			warn(err.Error())
			continue
		}
		// Every version is searched: the constraint below picks the
		// newest matching one of each chart, as Helm does.
		idx.AddRepo(e.Name, ind, true)
	}
	var res []*repo.SearchResult
	if len(args) == 0 {
		res = idx.All()
	} else {
		res, err = idx.Search(strings.Join(args, " "), o.regexp)
		if err != nil {
			return err
		}
	}
	repo.SortResults(res)
	res, err = repo.FilterVersions(res, constraint, o.versions)
	if err != nil {
		return err
	}
	if o.format != outputTable {
		if len(res) == 0 && o.failNoMatch {
			return errors.New("no results found")
		}
		type element struct {
			Name        string `json:"name"`
			Version     string `json:"version"`
			AppVersion  string `json:"app_version"`
			Description string `json:"description"`
		}
		list := make([]element, 0, len(res))
		for _, r := range res {
			list = append(list, element{r.Name, r.Chart.Version, r.Chart.AppVersion, r.Chart.Description})
		}
		return writeStructured(env.Streams.Out, o.format, list)
	}
	if len(res) == 0 {
		if o.failNoMatch {
			return errors.New("no results found")
		}
		_, err := fmt.Fprintln(env.Streams.Out, "No results found")
		return err
	}
	rows := [][]any{{"NAME", "CHART VERSION", "APP VERSION", "DESCRIPTION"}}
	for _, r := range res {
		rows = append(rows, []any{r.Name, r.Chart.Version, r.Chart.AppVersion, r.Chart.Description})
	}
	return writeTable(env.Streams.Out, o.maxColWidth, rows)
}
