package cli

import (
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// globalOptions are the flags every command accepts, named as Helm names
// them so that command lines carry over. Their defaults come from the same
// HELM_* environment variables as Helm's.
type globalOptions struct {
	namespace        string
	kubeContext      string
	kubeconfig       string
	kubeToken        string
	kubeAsUser       string
	kubeAsGroups     []string
	kubeAPIServer    string
	kubeCAFile       string
	kubeTLSServer    string
	kubeInsecure     bool
	debug            bool
	registryConfig   string
	repositoryConfig string
	repositoryCache  string
	burstLimit       int
	qps              float32
}

// namespaceOrDefault resolves the namespace as Helm does without a cluster:
// the flag, then $HELM_NAMESPACE, then the namespace of the kubeconfig
// context in use, then "default".
func (g *globalOptions) namespaceOrDefault(env Env) string {
	if g.namespace != "" {
		return g.namespace
	}
	if ns := env.getenv("HELM_NAMESPACE"); ns != "" {
		return ns
	}
	if ns := contextNamespace(env, g.kubeconfig, g.kubeContext); ns != "" {
		return ns
	}
	return "default"
}

// addFlags registers the global flags on fs with Helm's names, shorthands
// and environment defaults.
func (g *globalOptions) addFlags(fs *pflag.FlagSet, env Env) {
	p := helmPaths{env}
	debug, _ := strconv.ParseBool(env.getenv("HELM_DEBUG"))
	fs.StringVarP(&g.namespace, "namespace", "n", env.getenv("HELM_NAMESPACE"), "namespace scope for this request")
	fs.StringVar(&g.kubeconfig, "kubeconfig", "", "path to the kubeconfig file")
	fs.StringVar(&g.kubeContext, "kube-context", env.getenv("HELM_KUBECONTEXT"), "name of the kubeconfig context to use")
	fs.StringVar(&g.kubeToken, "kube-token", env.getenv("HELM_KUBETOKEN"), "bearer token used for authentication")
	fs.StringVar(&g.kubeAsUser, "kube-as-user", env.getenv("HELM_KUBEASUSER"), "username to impersonate for the operation")
	fs.StringArrayVar(&g.kubeAsGroups, "kube-as-group", splitCSV(env.getenv("HELM_KUBEASGROUPS")), "group to impersonate for the operation, this flag can be repeated to specify multiple groups.")
	fs.StringVar(&g.kubeAPIServer, "kube-apiserver", env.getenv("HELM_KUBEAPISERVER"), "the address and the port for the Kubernetes API server")
	fs.StringVar(&g.kubeCAFile, "kube-ca-file", env.getenv("HELM_KUBECAFILE"), "the certificate authority file for the Kubernetes API server connection")
	fs.StringVar(&g.kubeTLSServer, "kube-tls-server-name", env.getenv("HELM_KUBETLS_SERVER_NAME"), "server name to use for Kubernetes API server certificate validation. If it is not provided, the hostname used to contact the server is used")
	fs.BoolVar(&g.kubeInsecure, "kube-insecure-skip-tls-verify", envBool(env, "HELM_KUBEINSECURE_SKIP_TLS_VERIFY"), "if true, the Kubernetes API server's certificate will not be checked for validity. This will make your HTTPS connections insecure")
	fs.BoolVar(&g.debug, "debug", debug, "enable verbose output")
	fs.StringVar(&g.registryConfig, "registry-config", envOr(env, "HELM_REGISTRY_CONFIG", p.config("registry", "config.json")), "path to the registry config file")
	fs.StringVar(&g.repositoryConfig, "repository-config", envOr(env, "HELM_REPOSITORY_CONFIG", p.config("repositories.yaml")), "path to the file containing repository names and URLs")
	fs.StringVar(&g.repositoryCache, "repository-cache", envOr(env, "HELM_REPOSITORY_CACHE", p.cache("repository")), "path to the directory containing cached repository indexes")
	fs.IntVar(&g.burstLimit, "burst-limit", envInt(env, "HELM_BURST_LIMIT", 100), "client-side default throttling limit")
	fs.Float32Var(&g.qps, "qps", envFloat32(env, "HELM_QPS", 0), "queries per second used when communicating with the Kubernetes API, not including bursting")
}

func newRoot(env Env) *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "pkg",
		Short: "a Helm-compatible package manager with its own orchestrator",
		Long: `pkg renders, installs, upgrades and rolls back Helm charts.

Its output and release history are those of Helm 3, so "pkg" can replace
"helm" on a command line. With no cluster configured, pkg runs the workloads
on its bundled orchestrator.

Environment variables read as Helm reads them:

| Name              | What it sets                                            |
|-------------------|---------------------------------------------------------|
| $HELM_DEBUG       | --debug, when "true"                                    |
| $HELM_NAMESPACE   | the namespace when -n is not given                      |
| $HELM_KUBECONTEXT | the kubeconfig context when --kube-context is not given |
| $HELM_CONFIG_HOME | where repository and registry configuration live        |
| $HELM_CACHE_HOME  | where the repository cache lives                        |
| $HELM_DATA_HOME   | where starters and plugins live                         |
| $HELM_MAX_HISTORY | --history-max's default (10)                            |

"pkg env" prints the settings in effect under these names.`,
		SilenceUsage: true,
	}
	g.addFlags(root.PersistentFlags(), env)

	root.AddCommand(
		newVersionCmd(env),
		newTemplateCmd(env, g),
		newLintCmd(env, g),
		newShowCmd(env),
		newCreateCmd(env),
		newPackageCmd(env, g),
		newCompletionCmd(env),
		newDocsCmd(env),
		newClusterCmd(env),
		newInstallCmd(env, g),
		newUpgradeCmd(env, g),
		newRollbackCmd(env, g),
		newUninstallCmd(env, g),
		newHistoryCmd(env, g),
		newStatusCmd(env, g),
		newListCmd(env, g),
		newGetCmd(env, g),
		newTestCmd(env, g),
		newDiffCmd(env, g),
		newRepoCmd(env, g),
		newSearchCmd(env, g),
		newPullCmd(env, g),
		newDependencyCmd(env, g),
		newRegistryCmd(env, g),
		newPushCmd(env, g),
		newImageCmd(env),
		newVerifyCmd(env),
		newPortForwardCmd(env, g),
		newEnvCmd(env, g),
		newPluginCmd(env, g),
	)
	addPluginCommands(root, env, g)
	return root
}

func envOr(env Env, key, def string) string {
	if v := env.getenv(key); v != "" {
		return v
	}
	return def
}

func envBool(env Env, key string) bool {
	b, err := strconv.ParseBool(env.getenv(key))
	return err == nil && b
}

func envInt(env Env, key string, def int) int {
	if n, err := strconv.Atoi(env.getenv(key)); err == nil {
		return n
	}
	return def
}

func envFloat32(env Env, key string, def float32) float32 {
	if f, err := strconv.ParseFloat(env.getenv(key), 32); err == nil {
		return float32(f)
	}
	return def
}

func splitCSV(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}
