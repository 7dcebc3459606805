package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"pkg.dev/pkg/release"
)

const listLong = `
This command lists all of the releases for a specified namespace (uses current namespace context if namespace not specified).

By default, it lists only releases that are deployed or failed. Flags like
'--uninstalled' and '--all' will alter this behavior. Such flags can be combined:
'--uninstalled --failed'.

By default, items are sorted alphabetically. Use the '-d' flag to sort by
release date.

If the --filter flag is provided, it will be treated as a filter. Filters are
regular expressions (Perl compatible) that are applied to the list of releases.
Only items that match the filter will be returned.

    $ pkg list --filter 'ara[a-z]+'
    NAME                UPDATED                                  CHART
    maudlin-arachnid    2020-06-18 14:17:46.125134977 +0000 UTC  alpine-0.1.0

If no results are found, 'pkg list' will exit 0, but with no output (or in
the case of no '-q' flag, only headers).

By default, up to 256 items may be returned. To limit this, use the '--max' flag.
Setting '--max' to 0 will not return all results. Rather, it will return the
server's default, which may be much higher than 256. Pairing the '--max'
flag with the '--offset' flag allows you to page through results.
`

func newListCmd(env Env, g *globalOptions) *cobra.Command {
	var o release.ListOptions
	var short, noHeaders, all, allNS bool
	var deployed, uninstalled, superseded, uninstalling, failed, pending bool
	var timeFormat string
	var output outputFormat
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "list releases",
		Long:    listLong,
		Aliases: []string{"ls"},
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			re, _, err := g.releaseEnv(cmd.Context(), env, allNS)
			if err != nil {
				return err
			}
			if all {
				o.States = release.ListAll
			} else {
				for _, s := range []struct {
					on bool
					st release.States
				}{{deployed, release.ListDeployed}, {uninstalled, release.ListUninstalled}, {superseded, release.ListSuperseded},
					{uninstalling, release.ListUninstalling}, {failed, release.ListFailed}, {pending, release.ListPending}} {
					if s.on {
						o.States |= s.st
					}
				}
			}
			rels, err := re.Storage.List(cmd.Context(), o)
			if err != nil {
				return err
			}
			if short {
				names := make([]string, 0, len(rels))
				for _, r := range rels {
					names = append(names, r.Name)
				}
				if output != outputTable {
					return writeStructured(env.Streams.Out, output, names)
				}
				for _, n := range names {
					fmt.Fprintln(env.Streams.Out, n)
				}
				return nil
			}
			els := listElements(rels, timeFormat)
			if output != outputTable {
				return writeStructured(env.Streams.Out, output, els)
			}
			var rows [][]any
			if !noHeaders {
				rows = append(rows, []any{"NAME", "NAMESPACE", "REVISION", "UPDATED", "STATUS", "CHART", "APP VERSION"})
			}
			for _, e := range els {
				rows = append(rows, []any{e.Name, e.Namespace, e.Revision, e.Updated, e.Status, e.Chart, e.AppVersion})
			}
			return writeTable(env.Streams.Out, 0, rows)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&short, "short", "q", false, "output short (quiet) listing format")
	f.BoolVarP(&noHeaders, "no-headers", "", false, "don't print headers when using the default output format")
	f.StringVar(&timeFormat, "time-format", "", `format time using golang time formatter. Example: --time-format "2006-01-02 15:04:05Z0700"`)
	f.BoolVarP(&o.ByDate, "date", "d", false, "sort by release date")
	f.BoolVarP(&o.Reverse, "reverse", "r", false, "reverse the sort order")
	f.BoolVarP(&all, "all", "a", false, "show all releases without any filter applied")
	f.BoolVar(&uninstalled, "uninstalled", false, "show uninstalled releases (if 'helm uninstall --keep-history' was used)")
	f.BoolVar(&superseded, "superseded", false, "show superseded releases")
	f.BoolVar(&uninstalling, "uninstalling", false, "show releases that are currently being uninstalled")
	f.BoolVar(&deployed, "deployed", false, "show deployed releases. If no other is specified, this will be automatically enabled")
	f.BoolVar(&failed, "failed", false, "show failed releases")
	f.BoolVar(&pending, "pending", false, "show pending releases")
	f.BoolVarP(&allNS, "all-namespaces", "A", false, "list releases across all namespaces")
	f.IntVarP(&o.Limit, "max", "m", 256, "maximum number of releases to fetch")
	f.IntVar(&o.Offset, "offset", 0, "next release index in the list, used to offset from start value")
	f.StringVarP(&o.Filter, "filter", "f", "", "a regular expression (Perl compatible). Any releases that match the expression will be included in the results")
	f.StringVarP(&o.Selector, "selector", "l", "", "Selector (label query) to filter on, supports '=', '==', and '!='.(e.g. -l key1=value1,key2=value2). Works only for secret(default) and configmap storage backends.")
	addOutputFlag(f, &output)
	return cmd
}
