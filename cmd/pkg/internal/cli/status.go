package cli

import (
	"github.com/spf13/cobra"
)

const statusLong = `
This command shows the status of a named release.
The status consists of:
- last deployment time
- k8s namespace in which the release lives
- state of the release (can be: unknown, deployed, uninstalled, superseded, failed, uninstalling, pending-install, pending-upgrade or pending-rollback)
- revision of the release
- description of the release (can be completion message or error message, need to enable --show-desc)
- list of resources that this release consists of (need to enable --show-resources), with each one's readiness
- details on last test suite run, if applicable
- additional notes provided by the chart
`

func newStatusCmd(env Env, g *globalOptions) *cobra.Command {
	var revision int
	var showDesc, showResources bool
	var output outputFormat
	cmd := &cobra.Command{
		Use:   "status RELEASE_NAME",
		Short: "display the status of the named release",
		Long:  statusLong,
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			re, _, err := g.releaseEnv(cmd.Context(), env, false)
			if err != nil {
				return err
			}
			rel, err := releaseAt(cmd, re, args[0], revision)
			if err != nil {
				return err
			}
			// As Helm, status does not print the chart in -o json|yaml.
			rel.Chart = nil
			v := statusView{rel: rel, showDescription: showDesc}
			if showResources && output == outputTable {
				if v.resources, err = resourceSummary(cmd.Context(), re, rel); err != nil {
					return err
				}
			}
			return v.write(env.Streams.Out, output)
		},
	}
	f := cmd.Flags()
	f.IntVar(&revision, "revision", 0, "if set, display the status of the named release with revision")
	f.BoolVar(&showDesc, "show-desc", false, "if set, display the description message of the named release")
	f.BoolVar(&showResources, "show-resources", false, "if set, display the resources of the named release")
	addOutputFlag(f, &output)
	return cmd
}
