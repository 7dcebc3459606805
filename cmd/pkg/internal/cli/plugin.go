package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"pkg.dev/pkg/cmd/pkg/internal/plugin"
	"pkg.dev/pkg/repo"
)

// pluginsDir is $HELM_PLUGINS, else Helm's default under the data home:
// the directories where plugins are found (a path list), the first of
// which is where they are installed.
func pluginsDir(env Env) string {
	return envOr(env, "HELM_PLUGINS", helmPaths{env}.data("plugins"))
}

func newPluginCmd(env Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugin",
		Short: "install, list, or uninstall Helm plugins",
		Long: `
Manage client-side Helm plugins: directories with a plugin.yaml under
$HELM_PLUGINS, each adding a command ("pkg diff" is built in; "pkg secrets",
"pkg unittest" and the like come from plugins). pkg reads and installs them
where Helm does, so a plugin installed by either is seen by both.
`,
		Args: noArgs,
	}
	cmd.AddCommand(newPluginInstallCmd(env, g), newPluginListCmd(env), newPluginUninstallCmd(env, g), newPluginUpdateCmd(env, g))
	return cmd
}

func newPluginInstallCmd(env Env, g *globalOptions) *cobra.Command {
	var version string
	cmd := &cobra.Command{
		Use:     "install [options] <path|url>",
		Aliases: []string{"add"},
		Short:   "install a Helm plugin",
		Long: `
This command allows you to install a plugin from a url to a VCS repo or a local path.
`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dirs := filepath.SplitList(pluginsDir(env))
			if len(dirs) == 0 {
				return errors.New("no plugins directory: set $HELM_PLUGINS")
			}
			fetcher := newFetcher(env, defaultRepoTimeout)
			in := &plugin.Installer{Dir: dirs[0], Cache: helmPaths{env}.cache("plugins"),
				Download: func(ctx context.Context, url string) ([]byte, error) { return fetcher.Get(ctx, nil, url, "") }}
			p, err := in.Install(cmd.Context(), args[0], version)
			if err != nil {
				return err
			}
			if err := runPluginHook(env, g, p, plugin.HookInstall); err != nil {
				return err
			}
			fmt.Fprintf(env.Streams.Out, "Installed plugin: %s\n", p.Metadata.Name)
			// A plugin named like a built-in command never runs (helm-diff's
			// "diff" meets pkg's own): say so now rather than leave the user
			// wondering why its flags behave differently.
			if c, _, err := cmd.Root().Find([]string{p.Metadata.Name}); err == nil && c != cmd.Root() && !c.DisableFlagParsing {
				fmt.Fprintf(env.Streams.Err, "WARNING: \"pkg %s\" is a built-in command, which runs instead of this plugin\n", p.Metadata.Name)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "specify a version constraint. If this is not specified, the latest version is installed")
	return cmd
}

func newPluginListCmd(env Env) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "list installed Helm plugins",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			found, errs := plugin.Find(pluginsDir(env))
			for _, err := range errs {
				fmt.Fprintf(env.Streams.Err, "WARNING: %s\n", err)
			}
			rows := [][]any{{"NAME", "VERSION", "DESCRIPTION"}}
			for _, p := range found {
				rows = append(rows, []any{p.Metadata.Name, p.Metadata.Version, p.Metadata.Description})
			}
			return writeTable(env.Streams.Out, 0, rows)
		},
	}
}

func newPluginUninstallCmd(env Env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "uninstall <plugin>...",
		Aliases: []string{"rm", "remove"},
		Short:   "uninstall one or more Helm plugins",
		Args:    minimumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachPlugin(env, args, func(p *plugin.Plugin) error {
				if err := runPluginHook(env, g, p, plugin.HookDelete); err != nil {
					return err
				}
				if err := plugin.Uninstall(p); err != nil {
					return fmt.Errorf("Failed to remove plugin %s, got error (%v)", p.Metadata.Name, err)
				}
				fmt.Fprintf(env.Streams.Out, "Uninstalled plugin: %s\n", p.Metadata.Name)
				return nil
			})
		},
	}
}

func newPluginUpdateCmd(env Env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "update <plugin>...",
		Aliases: []string{"up"},
		Short:   "update one or more Helm plugins",
		Args:    minimumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachPlugin(env, args, func(p *plugin.Plugin) error {
				if err := plugin.Update(cmd.Context(), p); err != nil {
					return err
				}
				if p, err := plugin.Load(p.Dir); err == nil {
					if err := runPluginHook(env, g, p, plugin.HookUpdate); err != nil {
						return err
					}
				}
				fmt.Fprintf(env.Streams.Out, "Updated plugin: %s\n", p.Metadata.Name)
				return nil
			})
		},
	}
}

// eachPlugin runs do on each installed plugin named in names, going on
// after a failure; the errors are joined, with Helm's words for a name
// no plugin has.
func eachPlugin(env Env, names []string, do func(*plugin.Plugin) error) error {
	found, _ := plugin.Find(pluginsDir(env))
	var errs []error
	for _, name := range names {
		p := plugin.Named(found, name)
		if p == nil {
			errs = append(errs, fmt.Errorf("Plugin: %s not found", name))
			continue
		}
		if err := do(p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// addPluginCommands adds a command for each installed plugin whose name
// is not a built-in command's (unless $HELM_NO_PLUGINS is 1). Plugins that
// cannot be read are left out here and named by "pkg plugin list".
func addPluginCommands(root *cobra.Command, env Env, g *globalOptions) {
	if env.getenv("HELM_NO_PLUGINS") == "1" {
		return
	}
	found, _ := plugin.Find(pluginsDir(env))
	for _, p := range found {
		name := p.Metadata.Name
		if c, _, err := root.Find([]string{name}); err == nil && c != root {
			continue
		}
		usage := p.Metadata.Usage
		if usage == "" {
			usage = fmt.Sprintf("the %q plugin", name)
		}
		root.AddCommand(&cobra.Command{
			Use:                name,
			Short:              usage,
			Long:               p.Metadata.Description,
			DisableFlagParsing: true,
			RunE: func(cmd *cobra.Command, args []string) error {
				return runPlugin(cmd, env, g, p, args)
			},
		})
	}
}

// pluginValueFlags are the global flags taking a value that pkg reads
// from a plugin's command line (and passes on through HELM_*), as Helm
// does; everything else goes to the plugin.
var pluginValueFlags = []string{"--kube-context", "--namespace", "-n", "--kubeconfig", "--kube-apiserver", "--kube-token",
	"--kube-as-user", "--kube-as-group", "--kube-ca-file", "--registry-config", "--repository-cache", "--repository-config",
	"--kube-tls-server-name"}

// splitPluginArgs separates the global flags pkg handles from the
// plugin's own arguments.
func splitPluginArgs(args []string) (global, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--debug" || a == "--kube-insecure-skip-tls-verify" || strings.HasPrefix(a, "--kube-insecure-skip-tls-verify="):
			global = append(global, a)
		case isPluginValueFlag(a) && i+1 < len(args):
			global = append(global, a, args[i+1])
			i++
		case strings.Contains(a, "=") && isPluginValueFlag(a[:strings.Index(a, "=")]):
			global = append(global, a)
		default:
			rest = append(rest, a)
		}
	}
	return global, rest
}

func isPluginValueFlag(a string) bool {
	for _, f := range pluginValueFlags {
		if a == f {
			return true
		}
	}
	return false
}

// pluginEnvironment is the environment a plugin runs in: pkg's own, the
// settings "pkg env" prints, HELM_PLUGIN_NAME and HELM_PLUGIN_DIR, and
// PKG_AS_HELM=1 (see "pkg version").
func pluginEnvironment(env Env, g *globalOptions, p *plugin.Plugin) ([]string, func(string) string) {
	var base []string
	if env.Environ != nil {
		base = env.Environ()
	}
	vars := g.envVars(env)
	vars["HELM_PLUGIN_NAME"] = p.Metadata.Name
	vars["HELM_PLUGIN_DIR"] = p.Dir
	vars[asHelmEnv] = "1"
	all := map[string]string{}
	for _, kv := range base {
		if k, v, ok := strings.Cut(kv, "="); ok {
			all[k] = v
		}
	}
	list := base
	for k, v := range vars {
		all[k] = v
		list = append(list, k+"="+v)
	}
	return list, func(k string) string { return all[k] }
}

func runPlugin(cmd *cobra.Command, env Env, g *globalOptions, p *plugin.Plugin, args []string) error {
	global, rest := splitPluginArgs(args)
	if err := cmd.Root().PersistentFlags().Parse(global); err != nil {
		return err
	}
	environ, expand := pluginEnvironment(env, g, p)
	main, argv, err := p.Exec(rest, expand)
	if err != nil {
		return err
	}
	return runPluginProgram(env, environ, main, argv, fmt.Sprintf("plugin %q exited with error", p.Metadata.Name))
}

// runPluginHook runs p's hook for event, if it has one.
func runPluginHook(env Env, g *globalOptions, p *plugin.Plugin, event string) error {
	environ, expand := pluginEnvironment(env, g, p)
	main, argv, ok := p.Hook(event, expand)
	if !ok {
		return nil
	}
	return runPluginProgram(env, environ, main, argv, fmt.Sprintf("plugin %s hook for %q exited with error", event, p.Metadata.Name))
}

// runPluginProgram runs a plugin's program on pkg's standard streams; its
// failure is failMsg, with the program's exit status as pkg's. It is not
// killed when pkg's context ends: a Ctrl-C reaches it from the terminal
// as it reaches pkg, and it must be free to clean up (helm-secrets
// removes the files it decrypted), as under Helm.
func runPluginProgram(env Env, environ []string, main string, argv []string, failMsg string) error {
	prog := exec.Command(main, argv...)
	prog.Env = environ
	prog.Stdin, prog.Stdout, prog.Stderr = env.Streams.In, env.Streams.Out, env.Streams.Err
	if prog.Stdin == nil {
		prog.Stdin = os.Stdin
	}
	err := prog.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &exitError{code: ee.ExitCode(), err: errors.New(failMsg)}
	}
	return err
}

// pluginSchemes are the URL schemes the installed plugins' downloaders
// fetch (unless $HELM_NO_PLUGINS is 1), for the repository fetcher. The
// first plugin claiming a scheme gets it.
func pluginSchemes(env Env) map[string]repo.SchemeGetter {
	if env.getenv("HELM_NO_PLUGINS") == "1" {
		return nil
	}
	found, _ := plugin.Find(pluginsDir(env))
	schemes := map[string]repo.SchemeGetter{}
	for _, p := range found {
		for _, d := range p.Metadata.Downloaders {
			for _, proto := range d.Protocols {
				if _, taken := schemes[proto]; taken {
					continue
				}
				schemes[proto] = func(ctx context.Context, e *repo.Entry, rawURL string) ([]byte, error) {
					return runDownloader(ctx, env, p, d, e, rawURL)
				}
			}
		}
	}
	return schemes
}

// runDownloader runs a plugin's downloader for rawURL and returns what it
// printed.
func runDownloader(ctx context.Context, env Env, p *plugin.Plugin, d plugin.Downloader, e *repo.Entry, rawURL string) ([]byte, error) {
	g := &globalOptions{}
	g.addFlags(pflag.NewFlagSet("defaults", pflag.ContinueOnError), env)
	environ, expand := pluginEnvironment(env, g, p)
	var cert, key, ca string
	if e != nil {
		cert, key, ca = e.CertFile, e.KeyFile, e.CAFile
	}
	main, argv := p.DownloadCommand(d, cert, key, ca, rawURL, expand)
	var stdout, stderr bytes.Buffer
	prog := exec.CommandContext(ctx, main, argv...)
	prog.Env = environ
	prog.Stdout, prog.Stderr = &stdout, &stderr
	if err := prog.Run(); err != nil {
		return nil, fmt.Errorf("plugin %q could not download %s: %w: %s", p.Metadata.Name, rawURL, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}
