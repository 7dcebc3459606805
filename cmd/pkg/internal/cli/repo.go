package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"pkg.dev/pkg/repo"
)

func newRepoCmd(env Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "repo add|remove|list|index|update [ARGS]",
		Short: "add, list, remove, update, and index chart repositories",
		Long: `
This command consists of multiple subcommands to interact with chart repositories.

It can be used to add, remove, list, and index chart repositories.
`,
		Args: noArgs,
	}
	cmd.AddCommand(
		newRepoAddCmd(env, g),
		newRepoListCmd(env, g),
		newRepoRemoveCmd(env, g),
		newRepoIndexCmd(env),
		newRepoUpdateCmd(env, g),
	)
	return cmd
}

// deprecatedRepos are the official repositories that were deleted; Helm
// refuses to add them.
var deprecatedRepos = [][2]string{
	{"//kubernetes-charts.storage.googleapis.com", "https://charts.helm.sh/stable"},
	{"//kubernetes-charts-incubator.storage.googleapis.com", "https://charts.helm.sh/incubator"},
}

type repoAddOptions struct {
	entry          repo.Entry
	passwordStdin  bool
	forceUpdate    bool
	allowDeprecate bool
	noUpdate       bool
	timeout        time.Duration
}

func newRepoAddCmd(env Env, g *globalOptions) *cobra.Command {
	o := &repoAddOptions{}
	cmd := &cobra.Command{
		Use:   "add [NAME] [URL]",
		Short: "add a chart repository",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.entry.Name, o.entry.URL = args[0], args[1]
			return o.run(cmd.Context(), env, g.repoPaths())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.entry.Username, "username", "", "chart repository username")
	f.StringVar(&o.entry.Password, "password", "", "chart repository password")
	f.BoolVar(&o.passwordStdin, "password-stdin", false, "read chart repository password from stdin")
	f.BoolVar(&o.forceUpdate, "force-update", false, "replace (overwrite) the repo if it already exists")
	f.BoolVar(&o.noUpdate, "no-update", false, "Ignored. Formerly, it would disabled forced updates. It is deprecated by force-update.")
	f.StringVar(&o.entry.CertFile, "cert-file", "", "identify HTTPS client using this SSL certificate file")
	f.StringVar(&o.entry.KeyFile, "key-file", "", "identify HTTPS client using this SSL key file")
	f.StringVar(&o.entry.CAFile, "ca-file", "", "verify certificates of HTTPS-enabled servers using this CA bundle")
	f.BoolVar(&o.entry.InsecureSkipTLSVerify, "insecure-skip-tls-verify", false, "skip tls certificate checks for the repository")
	f.BoolVar(&o.allowDeprecate, "allow-deprecated-repos", false, "by default, this command will not allow adding official repos that have been permanently deleted. This disables that behavior")
	f.BoolVar(&o.entry.PassCredentials, "pass-credentials", false, "pass credentials to all domains")
	f.DurationVar(&o.timeout, "timeout", defaultRepoTimeout, "time to wait for the index file download to complete")
	return cmd
}

func (o *repoAddOptions) run(ctx context.Context, env Env, p repoPaths) error {
	out := env.Streams.Out
	if !o.allowDeprecate {
		for _, d := range deprecatedRepos {
			if strings.Contains(o.entry.URL, d[0]) {
				return fmt.Errorf("repo %q is no longer available; try %q instead", o.entry.URL, d[1])
			}
		}
	}
	unlock, err := lockRepoFile(ctx, p.config)
	if err != nil {
		return err
	}
	defer unlock()
	f, err := repo.LoadFileOrEmpty(p.config)
	if err != nil {
		return err
	}
	if o.entry.Username != "" && o.entry.Password == "" {
		if !o.passwordStdin {
			fmt.Fprint(out, "Password: ")
		}
		pw, err := readPassword(env.Streams.In)
		if !o.passwordStdin {
			fmt.Fprintln(out)
		}
		if err != nil {
			return err
		}
		o.entry.Password = pw
	}
	if err := repo.CheckName(o.entry.Name); err != nil {
		return err
	}
	if existing := f.Get(o.entry.Name); existing != nil && !o.forceUpdate {
		if *existing != o.entry {
			return fmt.Errorf("repository name (%s) already exists, please specify a different name", o.entry.Name)
		}
		fmt.Fprintf(out, "%q already exists with the same configuration, skipping\n", o.entry.Name)
		return nil
	}
	e := o.entry
	if _, err := newFetcher(env, o.timeout).Update(ctx, &e, p.cache, warnFunc(env)); err != nil {
		return fmt.Errorf("looks like %q is not a valid chart repository or cannot be reached: %w", o.entry.URL, err)
	}
	f.Update(&e)
	if err := f.WriteFile(p.config, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(out, "%q has been added to your repositories\n", o.entry.Name)
	return nil
}

func newRepoListCmd(env Env, g *globalOptions) *cobra.Command {
	var format outputFormat
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "list chart repositories",
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			f, _ := repo.LoadFile(g.repositoryConfig)
			var entries []*repo.Entry
			for _, e := range f.Repositories {
				if e != nil {
					entries = append(entries, e)
				}
			}
			if len(entries) == 0 && format == outputTable {
				return errors.New("no repositories to show")
			}
			if format == outputTable {
				rows := [][]any{{"NAME", "URL"}}
				for _, e := range entries {
					rows = append(rows, []any{e.Name, e.URL})
				}
				return writeTable(env.Streams.Out, 0, rows)
			}
			type element struct {
				Name string `json:"name"`
				URL  string `json:"url"`
			}
			list := make([]element, 0, len(entries))
			for _, e := range entries {
				list = append(list, element{e.Name, e.URL})
			}
			return writeStructured(env.Streams.Out, format, list)
		},
	}
	addOutputFlag(cmd.Flags(), &format)
	return cmd
}

func newRepoRemoveCmd(env Env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "remove [REPO1 [REPO2 ...]]",
		Aliases: []string{"rm"},
		Short:   "remove one or more chart repositories",
		Args:    minimumArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			p := g.repoPaths()
			f, err := repo.LoadFile(p.config)
			if errors.Is(err, fs.ErrNotExist) || len(f.Repositories) == 0 {
				return errors.New("no repositories configured")
			}
			if err != nil {
				return err
			}
			for _, name := range args {
				if !f.Remove(name) {
					return fmt.Errorf("no repo named %q found", name)
				}
				if err := f.WriteFile(p.config, 0o600); err != nil {
					return err
				}
				if err := p.cache.RemoveIndex(name); err != nil {
					return err
				}
				fmt.Fprintf(env.Streams.Out, "%q has been removed from your repositories\n", name)
			}
			return nil
		},
	}
}

func newRepoIndexCmd(env Env) *cobra.Command {
	var o repo.IndexOptions
	cmd := &cobra.Command{
		Use:   "index [DIR]",
		Short: "generate an index file given a directory containing packaged charts",
		Long: `
Read the current directory, generate an index file based on the charts found
and write the result to 'index.yaml' in the current directory.

This tool is used for creating an 'index.yaml' file for a chart repository. To
set an absolute URL to the charts, use '--url' flag.

To merge the generated index with an existing index file, use the '--merge'
flag. In this case, the charts found in the current directory will be merged
into the index passed in with --merge, with local charts taking priority over
existing charts.
`,
		Args: exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			dir, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			o.Now = time.Now()
			o.Warn = warnFunc(env)
			return repo.WriteDirectoryIndex(dir, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.URL, "url", "", "url of chart repository")
	f.StringVar(&o.Merge, "merge", "", "merge the generated index into the given index")
	f.BoolVar(&o.JSON, "json", false, "output in JSON format")
	return cmd
}

func newRepoUpdateCmd(env Env, g *globalOptions) *cobra.Command {
	var timeout time.Duration
	var failOnError bool
	cmd := &cobra.Command{
		Use:     "update [REPO1 [REPO2 ...]]",
		Aliases: []string{"up"},
		Short:   "update information of available charts locally from chart repositories",
		Long: `
Update gets the latest information about charts from the respective chart repositories.
Information is cached locally, where it is used by commands like 'pkg search'.

You can optionally specify a list of repositories you want to update.
	$ pkg repo update <repo_name> ...
To update all the repositories, use 'pkg repo update'.
`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return repoUpdate(cmd.Context(), env, g.repoPaths(), args, timeout, failOnError)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&timeout, "timeout", defaultRepoTimeout, "time to wait for the index file download to complete")
	f.BoolVar(&failOnError, "fail-on-repo-update-fail", false, "update fails if any of the repository updates fail")
	return cmd
}

var errNoRepositories = errors.New("no repositories found. You must add one before updating")

// repoUpdate refreshes the cached indexes of the named repositories (all
// when names is empty) in parallel and reports in the repositories'
// order. A failed update leaves that repository's cache as it was.
func repoUpdate(ctx context.Context, env Env, p repoPaths, names []string, timeout time.Duration, failOnError bool) error {
	f, err := repo.LoadFile(p.config)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errNoRepositories
	case err != nil:
		return fmt.Errorf("failed loading file: %s: %w", p.config, err)
	}
	var entries []*repo.Entry
	for _, e := range f.Repositories {
		if e != nil {
			entries = append(entries, e)
		}
	}
	if len(entries) == 0 {
		return errNoRepositories
	}
	if len(names) > 0 {
		for _, n := range names {
			if !f.Has(n) {
				return fmt.Errorf("no repositories found matching '%s'.  Nothing will be updated", n)
			}
		}
		kept := entries[:0]
		for _, e := range entries {
			for _, n := range names {
				if e.Name == n {
					kept = append(kept, e)
					break
				}
			}
		}
		entries = kept
	}
	out := env.Streams.Out
	fmt.Fprintln(out, "Hang tight while we grab the latest from your chart repositories...")
	fetcher := newFetcher(env, timeout)
	errs := make([]error, len(entries))
	var wg sync.WaitGroup
	for n, e := range entries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[n] = fetcher.Update(ctx, e, p.cache, warnFunc(env))
		}()
	}
	wg.Wait()
	var failed []string
	for n, e := range entries {
		if errs[n] != nil {
			fmt.Fprintf(out, "...Unable to get an update from the %q chart repository (%s):\n\t%s\n", e.Name, e.URL, errs[n])
			failed = append(failed, e.URL)
			continue
		}
		fmt.Fprintf(out, "...Successfully got an update from the %q chart repository\n", e.Name)
	}
	if len(failed) > 0 && failOnError {
		return fmt.Errorf("Failed to update the following repositories: %s", failed) //nolint:staticcheck // Helm's message
	}
	fmt.Fprintln(out, "Update Complete. ⎈Happy Helming!⎈")
	return nil
}
