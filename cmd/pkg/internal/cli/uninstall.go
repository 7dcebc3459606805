package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pkg.dev/pkg/release"
)

const uninstallLong = `
This command takes a release name and uninstalls the release.

It removes all of the resources associated with the last release of the chart
as well as the release history, freeing it up for future use.

Use the '--dry-run' flag to see which releases will be uninstalled without actually
uninstalling them.
`

func newUninstallCmd(env Env, g *globalOptions) *cobra.Command {
	var o release.UninstallOptions
	cmd := &cobra.Command{
		Use:        "uninstall RELEASE_NAME [...]",
		Aliases:    []string{"del", "delete", "un"},
		SuggestFor: []string{"remove", "rm"},
		Short:      "uninstall a release",
		Long:       uninstallLong,
		Args:       minimumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch o.Propagation {
			case "background", "foreground", "orphan":
			default:
				return fmt.Errorf("invalid cascade value (%s). Must be \"background\", \"foreground\", or \"orphan\"", o.Propagation)
			}
			re, conn, err := g.releaseEnv(cmd.Context(), env, false)
			if err != nil {
				return err
			}
			for _, name := range args {
				res, err := re.Uninstall(cmd.Context(), conn.namespace, name, o)
				if err != nil {
					return err
				}
				if res != nil && res.Kept != "" {
					fmt.Fprintln(env.Streams.Out, strings.TrimSuffix(res.Kept, "\n")+"\n")
				}
				fmt.Fprintf(env.Streams.Out, "release \"%s\" uninstalled\n", name)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.DryRun, "dry-run", false, "simulate a uninstall")
	f.BoolVar(&o.NoHooks, "no-hooks", false, "prevent hooks from running during uninstallation")
	f.BoolVar(&o.IgnoreNotFound, "ignore-not-found", false, `Treat "release not found" as a successful uninstall`)
	f.BoolVar(&o.KeepHistory, "keep-history", false, "remove all associated resources and mark the release as deleted, but retain the release history")
	f.BoolVar(&o.Wait, "wait", false, "if set, will wait until all the resources are deleted before returning. It will wait for as long as --timeout")
	f.StringVar(&o.Propagation, "cascade", "background", "Must be \"background\", \"orphan\", or \"foreground\". Selects the deletion cascading strategy for the dependents. Defaults to background.")
	f.DurationVar(&o.Timeout, "timeout", 300*time.Second, "time to wait for any individual Kubernetes operation (like Jobs for hooks)")
	f.StringVar(&o.Description, "description", "", "add a custom description")
	return cmd
}
