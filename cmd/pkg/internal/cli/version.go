package cli

import (
	"fmt"
	"runtime"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"pkg.dev/pkg/render"
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

// asHelmEnv is set to 1 in the environment of the plugins pkg runs. Their
// scripts call "$HELM_BIN version" to learn which Helm they run under
// (helm-secrets refuses anything but v2, v3 or v4), and $HELM_BIN is
// pkg: there, pkg answers as the Helm release it stands in for.
const asHelmEnv = "PKG_AS_HELM"

// helmBuildInfo is buildInfo as a plugin sees it: the Helm version pkg
// renders and installs as (v3.22.0), built from pkg's commit.
func helmBuildInfo() BuildInfo {
	v := buildInfo()
	v.Version = render.DefaultCapabilities().HelmVersion.Version
	return v
}

// buildMetadata makes s a semver build-metadata string: dot-separated
// runs of [0-9A-Za-z-], anything else made a hyphen.
func buildMetadata(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-', r == '.':
			return r
		}
		return '-'
	}, s)
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

Run by a plugin (pkg sets PKG_AS_HELM=1 in the environment of the plugins
it runs, and HELM_BIN to itself), pkg answers as the Helm release it is
compatible with, so that a plugin checking for Helm 3 runs: Version is
v3.22.0, and --short adds pkg's own version as build metadata
(v3.22.0+pkg.v0.1.0).
`,
		Args: noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			out := env.Streams.Out
			v := buildInfo()
			asHelm := env.getenv(asHelmEnv) == "1"
			if asHelm {
				v = helmBuildInfo()
			}
			if tmpl != "" {
				t, err := template.New("_").Parse(tmpl)
				if err != nil {
					return err
				}
				return t.Execute(out, v)
			}
			if short {
				if asHelm {
					fmt.Fprintf(out, "%s+pkg.%s\n", v.Version, buildMetadata(version))
					return nil
				}
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
