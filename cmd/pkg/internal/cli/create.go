package cli

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"pkg.dev/pkg/chart"
)

func newCreateCmd(env Env) *cobra.Command {
	var starter string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "create a new chart with the given name",
		Long: `
This command creates a chart directory with the files "helm create" writes:

    foo/
    ├── .helmignore   # Patterns to leave out when packaging the chart
    ├── Chart.yaml    # The chart's name, version and description
    ├── values.yaml   # The default values for the templates
    ├── charts/       # Charts this chart depends on
    └── templates/    # The templates
        └── tests/    # The test hooks

NAME is a path; its parent directory must exist. When NAME already exists,
the files it writes are overwritten (with a warning each) and other files are
left alone.
`,
		Args: exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			name := args[0]
			fmt.Fprintf(env.Streams.Out, "Creating %s\n", name)
			if starter != "" {
				return errors.New("--starter: creating a chart from a starter is not supported yet")
			}
			// Helm writes these warnings on standard output.
			_, err := chart.CreateWithOptions(filepath.Base(name), filepath.Dir(name), chart.CreateOptions{
				OnOverwrite: func(path string) {
					fmt.Fprintf(env.Streams.Out, "WARNING: File %q already exists. Overwriting.\n", path)
				},
			})
			return err
		},
	}
	cmd.Flags().StringVarP(&starter, "starter", "p", "", "the name or absolute path to Helm starter scaffold")
	return cmd
}
