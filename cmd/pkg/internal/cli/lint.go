package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"pkg.dev/pkg/lint"
	"pkg.dev/pkg/render"
)

const lintLong = `
This command takes a path to a chart and runs a series of tests to verify that
the chart is well-formed.

If the linter encounters things that will cause the chart to fail installation,
it will emit [ERROR] messages. If it encounters issues that break with convention
or recommendation, it will emit [WARNING] messages.
`

// lintOptions are the flags of `pkg lint`, named as Helm names them.
type lintOptions struct {
	values        render.ValueOptions
	strict        bool
	withSubcharts bool
	quiet         bool
	skipSchema    bool
	kubeVersion   string
}

func newLintCmd(env Env, g *globalOptions) *cobra.Command {
	o := &lintOptions{}
	cmd := &cobra.Command{
		Use:   "lint PATH",
		Short: "examine a chart for possible issues",
		Long:  lintLong,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, env, g, args)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.strict, "strict", false, "fail on lint warnings")
	f.BoolVar(&o.withSubcharts, "with-subcharts", false, "lint dependent charts")
	f.BoolVar(&o.quiet, "quiet", false, "print only warnings and errors")
	f.BoolVar(&o.skipSchema, "skip-schema-validation", false, "if set, disables JSON schema validation")
	f.StringVar(&o.kubeVersion, "kube-version", "", "Kubernetes version used for capabilities and deprecation checks")
	addValueFlags(f, &o.values)
	return cmd
}

func (o *lintOptions) run(cmd *cobra.Command, env Env, g *globalOptions, args []string) error {
	paths := []string{"."}
	if len(args) > 0 {
		paths = args
	}
	opts := lint.Options{SkipSchemaValidation: o.skipSchema}
	if o.kubeVersion != "" {
		kv, err := render.ParseKubeVersion(o.kubeVersion)
		if err != nil {
			return fmt.Errorf("invalid kube version '%s': %s", o.kubeVersion, err)
		}
		opts.KubeVersion = kv
	}
	if o.withSubcharts {
		paths = append(paths, subchartPaths(paths)...)
	}
	opts.Namespace = g.namespaceOrDefault(env)
	vals, err := o.values.Merge(fileReader(env))
	if err != nil {
		return err
	}
	opts.Values = vals

	// The report is printed whole once every chart has been linted.
	var out strings.Builder
	failed, flagged := 0, 0
	for _, p := range paths {
		res, err := lint.Path(cmd.Context(), p, opts)
		var msgs []lint.Message
		var failures []error
		if err != nil {
			failures = append(failures, err)
		} else {
			msgs = res.Messages
			for _, m := range res.Failures(o.strict) {
				failures = append(failures, m.Err)
			}
		}
		noisy := len(failures) > 0
		for _, m := range msgs {
			noisy = noisy || m.Severity > lint.Info
		}
		if noisy {
			flagged++
		}
		if o.quiet && !noisy {
			continue
		}
		fmt.Fprintf(&out, "==> Linting %s\n", p)
		// A chart that could not be linted at all has no messages; its
		// error is printed instead.
		if len(msgs) == 0 {
			for _, f := range failures {
				fmt.Fprintf(&out, "Error %s\n", f)
			}
		}
		for _, m := range msgs {
			if !o.quiet || m.Severity > lint.Info {
				fmt.Fprintf(&out, "%s\n", m.Error())
			}
		}
		if len(failures) > 0 {
			failed++
		}
		out.WriteString("\n")
	}
	fmt.Fprint(env.Streams.Out, out.String())

	summary := fmt.Sprintf("%d chart(s) linted, %d chart(s) failed", len(paths), failed)
	if failed > 0 {
		return errors.New(summary)
	}
	if !o.quiet || flagged > 0 {
		fmt.Fprintln(env.Streams.Out, summary)
	}
	return nil
}

// subchartPaths finds what --with-subcharts adds for each path, in walk
// order: every folder under PATH/charts holding a Chart.yaml, and every
// .tgz or .tar.gz file there. Unreadable entries are skipped.
func subchartPaths(paths []string) []string {
	var out []string
	for _, p := range paths {
		_ = filepath.Walk(filepath.Join(p, "charts"), func(path string, info fs.FileInfo, _ error) error {
			if info == nil {
				return nil
			}
			if info.Name() == "Chart.yaml" {
				out = append(out, filepath.Dir(path))
			} else if lint.IsArchive(path) {
				out = append(out, path)
			}
			return nil
		})
	}
	return out
}
