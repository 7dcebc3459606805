package cli

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"pkg.dev/pkg/release"
)

const rollbackLong = `
This command rolls back a release to a previous revision.

The first argument of the rollback command is the name of a release, and the
second is a revision (version) number. If this argument is omitted or set to
0, it will roll back to the previous release.

To see revision numbers, run 'pkg history RELEASE'.
`

func newRollbackCmd(env Env, g *globalOptions) *cobra.Command {
	var o release.RollbackOptions
	var dryRun bool
	var historyMax int
	cmd := &cobra.Command{
		Use:   "rollback <RELEASE> [REVISION]",
		Short: "roll back a release to a previous revision",
		Long:  rollbackLong,
		Args:  minimumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				v, err := strconv.Atoi(args[1])
				if err != nil {
					return fmt.Errorf("could not convert revision to a number: %v", err)
				}
				o.Revision = v
			}
			re, conn, err := g.releaseEnv(cmd.Context(), env, false)
			if err != nil {
				return err
			}
			re.Storage.MaxHistory = historyMax
			o.Name, o.Namespace = args[0], conn.namespace
			if dryRun {
				o.DryRun = release.DryRunClient
			}
			if _, err := re.Rollback(cmd.Context(), o); err != nil {
				return err
			}
			fmt.Fprintf(env.Streams.Out, "Rollback was a success! Happy Helming!\n")
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&dryRun, "dry-run", false, "simulate a rollback")
	f.BoolVar(&o.RecreatePods, "recreate-pods", false, "performs pods restart for the resource if applicable")
	f.BoolVar(&o.Force, "force", false, "force resource update through delete/recreate if needed")
	f.BoolVar(&o.NoHooks, "no-hooks", false, "prevent hooks from running during rollback")
	f.DurationVar(&o.Timeout, "timeout", 300*time.Second, "time to wait for any individual Kubernetes operation (like Jobs for hooks)")
	f.BoolVar(&o.Wait, "wait", false, "if set, will wait until all Pods, PVCs, Services, and minimum number of Pods of a Deployment, StatefulSet, or ReplicaSet are in a ready state before marking the release as successful. It will wait for as long as --timeout")
	f.BoolVar(&o.WaitForJobs, "wait-for-jobs", false, "if set and --wait enabled, will wait until all Jobs have been completed before marking the release as successful. It will wait for as long as --timeout")
	f.BoolVar(&o.CleanupOnFail, "cleanup-on-fail", false, "allow deletion of new resources created in this rollback when rollback fails")
	f.IntVar(&historyMax, "history-max", envInt(env, "HELM_MAX_HISTORY", 10), "limit the maximum number of revisions saved per release. Use 0 for no limit")
	f.StringVar(&o.Description, "description", "", "add a custom description")
	return cmd
}
