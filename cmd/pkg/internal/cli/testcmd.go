package cli

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pkg.dev/pkg/release"
)

func newTestCmd(env Env, g *globalOptions) *cobra.Command {
	var o release.TestOptions
	var filter []string
	var hideNotes, logs bool
	var output outputFormat
	cmd := &cobra.Command{
		Use:   "test [RELEASE]",
		Short: "run tests for a release",
		Long: `
The test command runs the tests for a release.

The argument this command takes is the name of a deployed release.
The tests to be run are defined in the chart that was installed.
`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			notName := regexp.MustCompile(`^!\s?name=`)
			for _, f := range filter {
				switch {
				case strings.HasPrefix(f, "name="):
					o.Include = append(o.Include, strings.TrimPrefix(f, "name="))
				case notName.MatchString(f):
					o.Exclude = append(o.Exclude, notName.ReplaceAllLiteralString(f, ""))
				}
			}
			re, conn, err := g.releaseEnv(cmd.Context(), env, false)
			if err != nil {
				return err
			}
			rel, runErr := re.Test(cmd.Context(), conn.namespace, args[0], o)
			if runErr != nil && rel == nil {
				return runErr
			}
			if err := (statusView{rel: rel, debug: g.debug, hideNotes: hideNotes}).write(env.Streams.Out, output); err != nil {
				return err
			}
			if logs {
				fmt.Fprintln(env.Streams.Out)
				if err := re.TestLogs(cmd.Context(), rel, o, env.Streams.Out); err != nil {
					return err
				}
			}
			return runErr
		},
	}
	f := cmd.Flags()
	f.DurationVar(&o.Timeout, "timeout", 300*time.Second, "time to wait for any individual Kubernetes operation (like Jobs for hooks)")
	f.StringSliceVar(&filter, "filter", []string{}, "specify tests by attribute (currently \"name\") using attribute=value syntax or '!attribute=value' to exclude a test (can specify multiple or separate values with commas: name=test1,name=test2)")
	f.BoolVar(&logs, "logs", false, "dump the logs from test pods (this runs after all tests are complete, but before any cleanup)")
	f.BoolVar(&hideNotes, "hide-notes", false, "if set, do not show notes in test output. Does not affect presence in chart metadata")
	addOutputFlag(f, &output)
	return cmd
}
