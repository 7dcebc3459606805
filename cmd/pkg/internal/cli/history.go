package cli

import (
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

const historyLong = `
History prints historical revisions for a given release.

A default maximum of 256 revisions will be returned. Setting '--max'
configures the maximum length of the revision list returned.

The historical release set is printed as a formatted table, e.g:

    $ pkg history angry-bird
    REVISION    UPDATED                     STATUS          CHART             APP VERSION     DESCRIPTION
    1           Mon Oct 3 10:15:13 2016     superseded      alpine-0.1.0      1.0             Initial install
    2           Mon Oct 3 10:15:13 2016     superseded      alpine-0.1.0      1.0             Upgraded successfully
    3           Mon Oct 3 10:15:13 2016     superseded      alpine-0.1.0      1.0             Rolled back to 2
    4           Mon Oct 3 10:15:13 2016     deployed        alpine-0.1.0      1.0             Upgraded successfully

With '--diff A B' it prints, per resource, the differences between the
manifests of revisions A and B instead.
`

func newHistoryCmd(env Env, g *globalOptions) *cobra.Command {
	var max int
	var output outputFormat
	var diff []int
	cmd := &cobra.Command{
		Use:     "history RELEASE_NAME",
		Long:    historyLong,
		Short:   "fetch release history",
		Aliases: []string{"hist"},
		Args: func(cmd *cobra.Command, args []string) error {
			// "--diff A B", as written in the help: B is left as a
			// second positional argument.
			if len(args) == 2 && len(diff) == 1 {
				if b, err := strconv.Atoi(args[1]); err == nil {
					diff = append(diff, b)
					return nil
				}
			}
			return exactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			re, _, err := g.releaseEnv(cmd.Context(), env, false)
			if err != nil {
				return err
			}
			h, err := re.Storage.History(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if len(diff) > 0 {
				return historyDiff(cmd.Context(), env, re, args[0], diff)
			}
			if max > 0 && len(h) > max {
				h = h[len(h)-max:]
			}
			els := historyElements(h)
			if output != outputTable {
				return writeStructured(env.Streams.Out, output, els)
			}
			rows := [][]any{{"REVISION", "UPDATED", "STATUS", "CHART", "APP VERSION", "DESCRIPTION"}}
			for _, e := range els {
				rows = append(rows, []any{e.Revision, e.Updated.Format(time.ANSIC), e.Status, e.Chart, e.AppVersion, e.Description})
			}
			return writeTable(env.Streams.Out, 0, rows)
		},
	}
	f := cmd.Flags()
	f.IntVar(&max, "max", 256, "maximum number of revision to include in history")
	f.IntSliceVar(&diff, "diff", nil, "print the differences between two revisions (--diff A B, --diff A,B or --diff A --diff B) instead of the history")
	addOutputFlag(f, &output)
	return cmd
}
