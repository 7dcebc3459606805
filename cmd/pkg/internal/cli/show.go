package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/chart"
)

// showPart is what `pkg show` prints.
type showPart int

const (
	showAll showPart = iota
	showChart
	showValues
	showReadme
	showCRDs
)

func newShowCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "show",
		Aliases: []string{"inspect"},
		Short:   "show information of a chart",
		Long: `
This command has one subcommand for each part of a chart it can print.
`,
		Args: noArgs,
	}
	sub := func(use, short, long string, part showPart) *cobra.Command {
		var o chartPathOptions
		var devel bool
		var jsonPath string
		c := &cobra.Command{
			Use:   use + " [CHART]",
			Short: short,
			Long:  "\nThis command reads a chart (a directory or an archive) and prints " + long + ".\n",
			Args:  exactArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				if jsonPath != "" {
					return errors.New("--jsonpath is not supported yet")
				}
				path, err := o.locateContext(c.Context(), args[0])
				if err != nil {
					return err
				}
				ch, err := chart.Load(path)
				if err != nil {
					return err
				}
				return writeShow(env.Streams.Out, ch, part)
			},
		}
		f := c.Flags()
		f.BoolVar(&devel, "devel", false, "use development versions, too. Equivalent to version '>0.0.0-0'. If --version is set, this is ignored")
		if part == showValues {
			f.StringVar(&jsonPath, "jsonpath", "", "supply a JSONPath expression to filter the output (not supported yet)")
		}
		o.addFlags(f, env)
		return c
	}
	cmd.AddCommand(
		sub("all", "show all information of the chart", "all of it: Chart.yaml, values.yaml, the README and the CRDs", showAll),
		sub("readme", "show the chart's README", "its README file", showReadme),
		sub("values", "show the chart's values", "its values.yaml file as written", showValues),
		sub("chart", "show the chart's definition", "its Chart.yaml file", showChart),
		sub("crds", "show the chart's CRDs", "the CustomResourceDefinition files in its crds/ directory", showCRDs),
	)
	return cmd
}

// writeShow prints part of ch in the format `helm show` uses.
func writeShow(w io.Writer, ch *chart.Chart, part showPart) error {
	var out bytes.Buffer
	if part == showChart || part == showAll {
		cf, err := yaml.Marshal(ch.Metadata)
		if err != nil {
			return fmt.Errorf("encoding Chart.yaml: %w", err)
		}
		fmt.Fprintf(&out, "%s\n", cf)
	}
	if (part == showValues || part == showAll) && ch.Values != nil {
		if part == showAll {
			fmt.Fprintln(&out, "---")
		}
		for _, f := range ch.Raw {
			if f.Name == "values.yaml" {
				fmt.Fprintln(&out, string(f.Data))
			}
		}
	}
	if part == showReadme || part == showAll {
		if readme := findReadme(ch.Files); readme != nil {
			if part == showAll {
				fmt.Fprintln(&out, "---")
			}
			fmt.Fprintf(&out, "%s\n", readme.Data)
		}
	}
	if part == showCRDs || part == showAll {
		crds := ch.CRDObjects()
		if len(crds) > 0 {
			if part == showAll && !bytes.HasPrefix(crds[0].File.Data, []byte("---")) {
				fmt.Fprintln(&out, "---")
			}
			for _, c := range crds {
				fmt.Fprintf(&out, "%s\n", c.File.Data)
			}
		}
	}
	_, err := w.Write(out.Bytes())
	return err
}

// findReadme returns the chart's README as Helm picks it: the first file
// named readme.md, readme.txt or readme, in any case.
func findReadme(files []*chart.File) *chart.File {
	for _, f := range files {
		for _, n := range []string{"readme.md", "readme.txt", "readme"} {
			if strings.EqualFold(f.Name, n) {
				return f
			}
		}
	}
	return nil
}
