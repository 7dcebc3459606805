package cli

import (
	"fmt"
	"runtime"
	"text/template"

	"github.com/spf13/cobra"
)

// Set at link time by the Makefile.
var (
	version      = "v0.1.0-dev"
	gitCommit    = ""
	gitTreeState = ""
)

// BuildInfo describes the binary, printed by `pkg version` in Helm's form.
// Its fields are what --template can use.
type BuildInfo struct {
	Version      string `json:"version,omitempty"`
	GitCommit    string `json:"git_commit,omitempty"`
	GitTreeState string `json:"git_tree_state,omitempty"`
	GoVersion    string `json:"go_version,omitempty"`
}

func buildInfo() BuildInfo {
	return BuildInfo{Version: version, GitCommit: gitCommit, GitTreeState: gitTreeState, GoVersion: runtime.Version()}
}

func newVersionCmd(env Env) *cobra.Command {
	var short bool
	var tmpl string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "print the client version information",
		Long: `
Show the version of pkg, in the form "helm version" uses:

version.BuildInfo{Version:"v0.1.0", GitCommit:"...", GitTreeState:"clean", GoVersion:"go1.26.8"}

- Version is the version of this release of pkg.
- GitCommit is the commit it was built from.
- GitTreeState is "clean" or "dirty": whether the tree had local changes.
- GoVersion is the Go release that compiled it.

--template formats these fields with a Go template instead, for example
--template='Version: {{.Version}}'.
`,
		Args: noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			out := env.Streams.Out
			v := buildInfo()
			if tmpl != "" {
				t, err := template.New("_").Parse(tmpl)
				if err != nil {
					return err
				}
				return t.Execute(out, v)
			}
			if short {
				if len(v.GitCommit) >= 7 {
					fmt.Fprintf(out, "%s+g%s\n", v.Version, v.GitCommit[:7])
					return nil
				}
				fmt.Fprintln(out, v.Version)
				return nil
			}
			fmt.Fprintf(out, "version.BuildInfo{Version:%q, GitCommit:%q, GitTreeState:%q, GoVersion:%q}\n",
				v.Version, v.GitCommit, v.GitTreeState, v.GoVersion)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&short, "short", false, "print the version number")
	f.StringVar(&tmpl, "template", "", "template for version string format")
	// Helm keeps a hidden --client flag from Helm 2; accept it.
	f.BoolP("client", "c", true, "display client version information")
	_ = f.MarkHidden("client")
	return cmd
}
