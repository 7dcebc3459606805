package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"pkg.dev/pkg/repo"
)

// registryAccess are the connection flags of the registry commands.
type registryAccess struct {
	// username and password, when given, replace the stored login.
	username  string
	password  string
	certFile  string
	keyFile   string
	caFile    string
	insecure  bool
	plainHTTP bool
}

// newOCI builds registry access with the stored logins of the registry
// config file (Docker's config.json format; credential helpers honoured).
func newOCI(g *globalOptions, a registryAccess) (*repo.OCI, error) {
	store, err := credentials.NewStore(g.registryConfig, credentials.StoreOptions{
		AllowPlaintextPut:        true,
		DetectDefaultNativeStore: true,
	})
	if err != nil {
		return nil, fmt.Errorf("reading registry credentials %s: %w", g.registryConfig, err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if a.certFile != "" || a.keyFile != "" || a.caFile != "" || a.insecure {
		cfg, err := repo.TLSConfig(a.certFile, a.keyFile, a.caFile, a.insecure)
		if err != nil {
			return nil, fmt.Errorf("can't create TLS config for client: %w", err)
		}
		tr.TLSClientConfig = cfg
	}
	return &repo.OCI{
		Client:      &http.Client{Transport: tr, Timeout: defaultRepoTimeout},
		Credentials: store,
		Username:    a.username,
		Password:    a.password,
		PlainHTTP:   a.plainHTTP,
		UserAgent:   "pkg/" + version,
	}, nil
}

func newRegistryCmd(env Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "login to or logout from a registry",
		Long: `
This command consists of multiple subcommands to interact with registries.
`,
		Args: noArgs,
	}
	cmd.AddCommand(newRegistryLoginCmd(env, g), newRegistryLogoutCmd(env, g))
	return cmd
}

func newRegistryLoginCmd(env Env, g *globalOptions) *cobra.Command {
	var a registryAccess
	var username, password string
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "login [host]",
		Short: "login to a registry",
		Long:  "\nAuthenticate to a remote registry.\n",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			host := registryHost(env, args[0])
			if passwordStdin {
				pw, err := readPassword(env.Streams.In)
				if err != nil {
					return err
				}
				password = pw
			}
			if username == "" || password == "" {
				return errors.New("username and password required (use --username and --password or --password-stdin)")
			}
			o, err := newOCI(g, a)
			if err != nil {
				return err
			}
			if err := o.Login(cmd.Context(), host, username, password); err != nil {
				return fmt.Errorf("authenticating to %q: %w", host, err)
			}
			fmt.Fprintln(env.Streams.Out, "Login Succeeded")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&username, "username", "u", "", "registry username")
	f.StringVarP(&password, "password", "p", "", "registry password or identity token")
	f.BoolVarP(&passwordStdin, "password-stdin", "", false, "read password or identity token from stdin")
	f.BoolVarP(&a.insecure, "insecure", "", false, "allow connections to TLS registry without certs")
	f.StringVar(&a.certFile, "cert-file", "", "identify registry client using this SSL certificate file")
	f.StringVar(&a.keyFile, "key-file", "", "identify registry client using this SSL key file")
	f.StringVar(&a.caFile, "ca-file", "", "verify certificates of HTTPS-enabled servers using this CA bundle")
	f.BoolVar(&a.plainHTTP, "plain-http", false, "use insecure HTTP connections for the chart upload")
	return cmd
}

func newRegistryLogoutCmd(env Env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "logout [host]",
		Short: "logout from a registry",
		Long:  "\nRemove credentials stored for a remote registry.\n",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			host := registryHost(env, args[0])
			o, err := newOCI(g, registryAccess{})
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Streams.Out, "Removing login credentials for %s\n", host)
			return o.Logout(cmd.Context(), host)
		},
	}
}

// registryHost strips a scheme and a repository path from a registry
// host, warning as Helm does.
func registryHost(env Env, host string) string {
	if i := strings.Index(host, "://"); i >= 0 {
		plain := host[i+3:]
		fmt.Fprintf(env.Streams.Err, "[WARNING] Invalid registry passed: registries should NOT be prefixed with a URL scheme. Use %q instead\n", plain)
		host = plain
	}
	if i := strings.Index(host, "/"); i >= 0 {
		fmt.Fprintf(env.Streams.Err, "[WARNING] Invalid registry passed: registries should NOT include a repository. Use %q instead\n", host[:i])
		host = host[:i]
	}
	return host
}

func newPushCmd(env Env, g *globalOptions) *cobra.Command {
	var a registryAccess
	cmd := &cobra.Command{
		Use:   "push [chart] [remote]",
		Short: "push a chart to remote",
		Long: `
Upload a chart to a registry.

If the chart has an associated provenance file,
it will also be uploaded.
`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !repo.IsOCI(args[1]) {
				return fmt.Errorf("scheme prefix missing from remote (e.g. \"%s://\")", repo.OCIScheme)
			}
			data, err := readFile(args[0])
			if err != nil {
				return err
			}
			// A provenance file beside the archive goes with it, as in Helm.
			prov, err := os.ReadFile(args[0] + ".prov")
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("reading the provenance file of %s: %w", args[0], err)
			}
			o, err := newOCI(g, a)
			if err != nil {
				return err
			}
			o.Progress = terminalProgressVerb(env, "Pushing")
			res, err := o.Push(cmd.Context(), data, prov, args[1], nowUTC())
			if err != nil {
				return err
			}
			// Helm's registry client prints this on standard error.
			fmt.Fprintf(env.Streams.Err, "Pushed: %s\nDigest: %s\n", res.Ref, res.ManifestDigest)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&a.certFile, "cert-file", "", "identify registry client using this SSL certificate file")
	f.StringVar(&a.keyFile, "key-file", "", "identify registry client using this SSL key file")
	f.StringVar(&a.caFile, "ca-file", "", "verify certificates of HTTPS-enabled servers using this CA bundle")
	f.BoolVar(&a.insecure, "insecure-skip-tls-verify", false, "skip tls certificate checks for the chart upload")
	f.BoolVar(&a.plainHTTP, "plain-http", false, "use insecure HTTP connections for the chart upload")
	f.StringVar(&a.username, "username", "", "chart repository username where to locate the requested chart")
	f.StringVar(&a.password, "password", "", "chart repository password where to locate the requested chart")
	return cmd
}

func readFile(p string) ([]byte, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func nowUTC() time.Time { return time.Now().UTC() }
