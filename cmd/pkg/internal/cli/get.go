package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/release"
	"pkg.dev/pkg/render"
)

// releaseAt reads revision rev of a release, or its last revision when
// rev is 0 or less.
func releaseAt(cmd *cobra.Command, re *release.Env, name string, rev int) (*release.Release, error) {
	if err := render.ValidateReleaseName(name); err != nil {
		return nil, fmt.Errorf("releaseContent: Release name is invalid: %s", name)
	}
	if rev <= 0 {
		return re.Storage.Last(cmd.Context(), name)
	}
	return re.Storage.Get(cmd.Context(), name, rev)
}

func newGetCmd(env Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get",
		Short: "download extended information of a named release",
		Long: `
This command consists of multiple subcommands which can be used to
get extended information about the release, including:

- The values used to generate the release
- The generated manifest file
- The notes provided by the chart of the release
- The hooks associated with the release
- The metadata of the release
`,
		Args: noArgs,
	}
	cmd.AddCommand(
		newGetAllCmd(env, g),
		newGetValuesCmd(env, g),
		newGetManifestCmd(env, g),
		newGetHooksCmd(env, g),
		newGetNotesCmd(env, g),
		newGetMetadataCmd(env, g),
	)
	return cmd
}

// getCmd builds a `get` subcommand that reads one revision and prints it.
func getCmd(env Env, g *globalOptions, use, short string, print func(io.Writer, *release.Release) error, extra func(*cobra.Command)) *cobra.Command {
	var rev int
	cmd := &cobra.Command{
		Use:   use + " RELEASE_NAME",
		Short: short,
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			re, _, err := g.releaseEnv(cmd.Context(), env, false)
			if err != nil {
				return err
			}
			rel, err := releaseAt(cmd, re, args[0], rev)
			if err != nil {
				return err
			}
			return print(env.Streams.Out, rel)
		},
	}
	cmd.Flags().IntVar(&rev, "revision", 0, "get the named release with revision")
	if extra != nil {
		extra(cmd)
	}
	return cmd
}

func newGetAllCmd(env Env, g *globalOptions) *cobra.Command {
	var tmpl string
	return getCmd(env, g, "all", "download all information for a named release", func(out io.Writer, rel *release.Release) error {
		if tmpl != "" {
			t, err := template.New("_").Funcs(sprig.TxtFuncMap()).Parse(tmpl)
			if err != nil {
				return err
			}
			return t.Execute(out, map[string]any{"Release": rel})
		}
		return statusView{rel: rel, debug: true, showMetadata: true}.write(out, outputTable)
	}, func(cmd *cobra.Command) {
		cmd.Flags().StringVar(&tmpl, "template", "", "go template for formatting the output, eg: {{.Release.Name}}")
	})
}

func newGetValuesCmd(env Env, g *globalOptions) *cobra.Command {
	var all bool
	var output outputFormat
	return getCmd(env, g, "values", "download the values file for a named release", func(out io.Writer, rel *release.Release) error {
		vals := rel.Config
		if all {
			var ch *chart.Chart
			if rel.Chart != nil {
				ch = rel.Chart.Loaded()
			} else {
				ch = &chart.Chart{Metadata: &chart.Metadata{}}
			}
			c, err := render.CoalesceValues(ch, rel.Config)
			if err != nil {
				return err
			}
			vals = c
		}
		if output != outputTable {
			return writeStructured(out, output, vals)
		}
		if all {
			fmt.Fprintln(out, "COMPUTED VALUES:")
		} else {
			fmt.Fprintln(out, "USER-SUPPLIED VALUES:")
		}
		return writeYAML(out, vals)
	}, func(cmd *cobra.Command) {
		cmd.Flags().BoolVarP(&all, "all", "a", false, "dump all (computed) values")
		addOutputFlag(cmd.Flags(), &output)
	})
}

func newGetManifestCmd(env Env, g *globalOptions) *cobra.Command {
	return getCmd(env, g, "manifest", "download the manifest for a named release", func(out io.Writer, rel *release.Release) error {
		_, err := fmt.Fprintln(out, rel.Manifest)
		return err
	}, nil)
}

func newGetHooksCmd(env Env, g *globalOptions) *cobra.Command {
	return getCmd(env, g, "hooks", "download all hooks for a named release", func(out io.Writer, rel *release.Release) error {
		for _, h := range rel.Hooks {
			fmt.Fprintf(out, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
		}
		return nil
	}, nil)
}

func newGetNotesCmd(env Env, g *globalOptions) *cobra.Command {
	return getCmd(env, g, "notes", "download the notes for a named release", func(out io.Writer, rel *release.Release) error {
		if rel.Info.Notes != "" {
			fmt.Fprintf(out, "NOTES:\n%s\n", rel.Info.Notes)
		}
		return nil
	}, nil)
}

// releaseMetadata is `get metadata`'s record.
type releaseMetadata struct {
	Name         string              `json:"name"`
	Chart        string              `json:"chart"`
	Version      string              `json:"version"`
	AppVersion   string              `json:"appVersion"`
	Annotations  map[string]string   `json:"annotations,omitempty"`
	Dependencies []*chart.Dependency `json:"dependencies,omitempty"`
	Namespace    string              `json:"namespace"`
	Revision     int                 `json:"revision"`
	Status       string              `json:"status"`
	DeployedAt   string              `json:"deployedAt"`
}

func newGetMetadataCmd(env Env, g *globalOptions) *cobra.Command {
	var output outputFormat
	return getCmd(env, g, "metadata", "This command fetches metadata for a given release", func(out io.Writer, rel *release.Release) error {
		md := &chart.Metadata{}
		if rel.Chart != nil && rel.Chart.Metadata != nil {
			md = rel.Chart.Metadata
		}
		m := releaseMetadata{
			Name: rel.Name, Chart: md.Name, Version: md.Version, AppVersion: md.AppVersion,
			Annotations: md.Annotations, Dependencies: md.Dependencies, Namespace: rel.Namespace,
			Revision: rel.Version, Status: rel.Info.Status.String(), DeployedAt: rel.Info.LastDeployed.Format(time.RFC3339),
		}
		if output != outputTable {
			return writeStructured(out, output, m)
		}
		deps := make([]string, 0, len(m.Dependencies))
		for _, d := range m.Dependencies {
			deps = append(deps, d.Name)
		}
		sort.Strings(deps)
		fmt.Fprintf(out, "NAME: %v\nCHART: %v\nVERSION: %v\nAPP_VERSION: %v\nANNOTATIONS: %v\nDEPENDENCIES: %v\nNAMESPACE: %v\nREVISION: %v\nSTATUS: %v\nDEPLOYED_AT: %v\n",
			m.Name, m.Chart, m.Version, m.AppVersion, labels.Set(m.Annotations).String(), strings.Join(deps, ","),
			m.Namespace, m.Revision, m.Status, m.DeployedAt)
		return nil
	}, func(cmd *cobra.Command) {
		addOutputFlag(cmd.Flags(), &output)
	})
}
