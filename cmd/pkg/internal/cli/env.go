package cli

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// newEnvCmd is `pkg env`: the settings in effect under the names Helm
// gives them, so that scripts written for `helm env` (`$(helm env
// HELM_CACHE_HOME)`) work with pkg.
func newEnvCmd(env Env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "env",
		Short: "pkg client environment information",
		Long: `
Env prints out all the environment information in use by pkg, with the
names and values Helm prints (HELM_*): the flags and environment variables
in effect and the directories derived from them. Given a name, it prints
that value alone (an empty line for a name it does not know).
`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError(cmd, "accepts at most 1 argument")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			vars := g.envVars(env)
			if len(args) == 1 {
				fmt.Fprintln(env.Streams.Out, vars[args[0]])
				return nil
			}
			for _, k := range slices.Sorted(maps.Keys(vars)) {
				fmt.Fprintf(env.Streams.Out, "%s=\"%s\"\n", k, vars[k])
			}
			return nil
		},
	}
}

// envVars are the settings `pkg env` prints. HELM_PLUGINS is where Helm
// keeps plugins; pkg runs none, and prints the path for scripts that
// read it.
func (g *globalOptions) envVars(env Env) map[string]string {
	p := helmPaths{env}
	vars := map[string]string{
		"HELM_BIN":                          os.Args[0],
		"HELM_BURST_LIMIT":                  strconv.Itoa(g.burstLimit),
		"HELM_CACHE_HOME":                   p.cache(),
		"HELM_CONFIG_HOME":                  p.config(),
		"HELM_DATA_HOME":                    p.data(),
		"HELM_DEBUG":                        strconv.FormatBool(g.debug),
		"HELM_KUBEAPISERVER":                g.kubeAPIServer,
		"HELM_KUBEASGROUPS":                 strings.Join(g.kubeAsGroups, ","),
		"HELM_KUBEASUSER":                   g.kubeAsUser,
		"HELM_KUBECAFILE":                   g.kubeCAFile,
		"HELM_KUBECONTEXT":                  g.kubeContext,
		"HELM_KUBEINSECURE_SKIP_TLS_VERIFY": strconv.FormatBool(g.kubeInsecure),
		"HELM_KUBETLS_SERVER_NAME":          g.kubeTLSServer,
		"HELM_KUBETOKEN":                    g.kubeToken,
		"HELM_MAX_HISTORY":                  strconv.Itoa(envInt(env, "HELM_MAX_HISTORY", 10)),
		"HELM_NAMESPACE":                    g.namespaceOrDefault(env),
		"HELM_PLUGINS":                      envOr(env, "HELM_PLUGINS", p.data("plugins")),
		"HELM_QPS":                          strconv.FormatFloat(float64(g.qps), 'f', 2, 32),
		"HELM_REGISTRY_CONFIG":              g.registryConfig,
		"HELM_REPOSITORY_CACHE":             g.repositoryCache,
		"HELM_REPOSITORY_CONFIG":            g.repositoryConfig,
	}
	// --kubeconfig, as Helm passes it on to plugins.
	if g.kubeconfig != "" {
		vars["KUBECONFIG"] = g.kubeconfig
	}
	return vars
}
