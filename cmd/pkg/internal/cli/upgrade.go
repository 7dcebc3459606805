package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"pkg.dev/pkg/release"
)

const upgradeLong = `
This command upgrades a release to a new version of a chart.

The upgrade arguments must be a release and chart. The chart argument can be
a path to a chart directory, a packaged chart or a chart reference.

The release is moved to the new revision with a three-way merge of the last
revision's manifest, the live objects and the new manifest, as Helm 3 does.
Resources dropped from the chart are deleted unless annotated
"helm.sh/resource-policy: keep".

A release left pending by a pkg or helm command that was killed is recovered:
its pending revision is marked failed (the output says so) and the upgrade
goes on. A second command on a release that pkg is still working on fails at
once.
`

func newUpgradeCmd(env Env, g *globalOptions) *cobra.Command {
	a := &applyFlags{}
	var values valuesModeFlags
	var install, cleanupOnFail bool
	var historyMax int
	cmd := &cobra.Command{
		Use:   "upgrade [RELEASE] [CHART]",
		Short: "upgrade a release",
		Long:  upgradeLong,
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.unsupported(); err != nil {
				return err
			}
			dry, err := a.dryRunMode()
			if err != nil {
				return err
			}
			ch, vals, err := a.loadChart(cmd.Context(), env, g, args[1])
			if err != nil {
				return err
			}
			re, conn, err := g.releaseEnv(cmd.Context(), env, false)
			if err != nil {
				return err
			}
			re.Storage.MaxHistory = historyMax
			o := release.UpgradeOptions{
				ApplyOptions:  a.applyOptions(dry),
				Name:          args[0],
				Namespace:     conn.namespace,
				Values:        values.mode(),
				CleanupOnFail: cleanupOnFail,
				TakeOwnership: a.takeOwnership,
				Labels:        a.labels,
				RenderOptions: a.renderOptions(),
			}
			installing := false
			if install {
				if _, err := re.Storage.History(cmd.Context(), args[0]); errors.Is(err, release.ErrNotFound) {
					installing = true
					if a.output == outputTable {
						fmt.Fprintf(env.Streams.Out, "Release %q does not exist. Installing it now.\n", args[0])
					}
				}
				o.Install = &release.InstallOptions{
					CreateNamespace: a.createNamespace, SkipCRDs: a.skipCRDs, TakeOwnership: a.takeOwnership,
					Labels: a.labels,
				}
			}
			rel, err := re.Upgrade(cmd.Context(), ch, vals, o)
			if err != nil {
				if installing {
					return fmt.Errorf("INSTALLATION FAILED: %w", err)
				}
				return fmt.Errorf("UPGRADE FAILED: %w", err)
			}
			if a.output == outputTable && !installing {
				fmt.Fprintf(env.Streams.Out, "Release %q has been upgraded. Happy Helming!\n", args[0])
			}
			return statusView{rel: rel, debug: g.debug, hideNotes: a.hideNotes}.write(env.Streams.Out, a.output)
		},
	}
	f := cmd.Flags()
	a.addFlags(f, env, "upgrade")
	f.BoolVarP(&install, "install", "i", false, "if a release by this name doesn't already exist, run an install")
	values.addFlags(f)
	f.BoolVar(&cleanupOnFail, "cleanup-on-fail", false, "allow deletion of new resources created in this upgrade when upgrade fails")
	f.IntVar(&historyMax, "history-max", envInt(env, "HELM_MAX_HISTORY", 10), "limit the maximum number of revisions saved per release. Use 0 for no limit")
	return cmd
}
