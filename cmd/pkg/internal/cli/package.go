package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/spf13/cobra"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/render"
	"pkg.dev/pkg/repo"
)

// packageOptions are the flags of `pkg package`, named as Helm names them.
type packageOptions struct {
	version        string
	appVersion     string
	dest           string
	dependencyUp   bool
	sign           bool
	key            string
	keyring        string
	passphraseFile string
	// Registry flags, accepted for Helm's command lines; they only matter
	// with --dependency-update.
	username, password, certFile, keyFile, caFile string
	insecureSkipTLS, plainHTTP                    bool
}

func newPackageCmd(env Env, g *globalOptions) *cobra.Command {
	o := &packageOptions{}
	cmd := &cobra.Command{
		Use:   "package [CHART_PATH] [...]",
		Short: "package a chart directory into a chart archive",
		Long: `
This command packages each chart directory it is given into a versioned
chart archive, NAME-VERSION.tgz, laid out as "helm package" lays it out, so
that Helm and pkg both load it. Files matched by the chart's .helmignore are
left out.

Charts listed as dependencies in Chart.yaml must be present in the chart's
charts/ directory.
`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), env, g, args)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.sign, "sign", false, "use a PGP private key to sign this package")
	f.StringVar(&o.key, "key", "", "name of the key to use when signing. Used if --sign is true")
	f.StringVar(&o.keyring, "keyring", helmPaths{env}.defaultKeyring(), "location of a public keyring")
	f.StringVar(&o.passphraseFile, "passphrase-file", "", `location of a file which contains the passphrase for the signing key. Use "-" in order to read from stdin.`)
	f.StringVar(&o.version, "version", "", "set the version on the chart to this semver version")
	f.StringVar(&o.appVersion, "app-version", "", "set the appVersion on the chart to this version")
	f.StringVarP(&o.dest, "destination", "d", ".", "location to write the chart.")
	f.BoolVarP(&o.dependencyUp, "dependency-update", "u", false, `update dependencies from "Chart.yaml" to dir "charts/" before packaging`)
	f.StringVar(&o.username, "username", "", "chart repository username where to locate the requested chart")
	f.StringVar(&o.password, "password", "", "chart repository password where to locate the requested chart")
	f.StringVar(&o.certFile, "cert-file", "", "identify HTTPS client using this SSL certificate file")
	f.StringVar(&o.keyFile, "key-file", "", "identify HTTPS client using this SSL key file")
	f.BoolVar(&o.insecureSkipTLS, "insecure-skip-tls-verify", false, "skip tls certificate checks for the chart download")
	f.BoolVar(&o.plainHTTP, "plain-http", false, "use insecure HTTP connections for the chart download")
	f.StringVar(&o.caFile, "ca-file", "", "verify certificates of HTTPS-enabled servers using this CA bundle")
	return cmd
}

func (o *packageOptions) run(ctx context.Context, env Env, g *globalOptions, args []string) error {
	if len(args) == 0 {
		return errors.New("need at least one argument, the path to the chart")
	}
	if o.sign {
		if o.key == "" {
			return errors.New("--key is required for signing a package")
		}
		if o.keyring == "" {
			return errors.New("--keyring is required for signing a package")
		}
	}
	for _, p := range args {
		if o.dependencyUp {
			// As helm package -u: update the dependencies of the chart
			// directory first.
			if _, err := updateDependencies(ctx, env, g, p); err != nil {
				return err
			}
		}
		name, err := o.packageOne(p)
		if err != nil {
			return err
		}
		if o.sign {
			if err := o.signArchive(env, name); err != nil {
				return err
			}
		}
		fmt.Fprintf(env.Streams.Out, "Successfully packaged chart and saved it to: %s\n", name)
	}
	return nil
}

// packageOne packages the chart directory p and returns the archive's path
// as Helm prints it: absolute for the default destination, else joined to
// --destination as given.
func (o *packageOptions) packageOne(p string) (string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a chart directory: only unpacked charts can be packaged", p)
	}
	ch, err := chart.LoadDir(p)
	if err != nil {
		return "", err
	}
	if o.version != "" {
		ch.Metadata.Version = o.version
	}
	if _, err := semver.StrictNewVersion(ch.Metadata.Version); err != nil {
		return "", fmt.Errorf("invalid chart version %q: %w", ch.Metadata.Version, err)
	}
	if o.appVersion != "" {
		ch.Metadata.AppVersion = o.appVersion
	}
	if err := render.CheckDependencies(ch); err != nil {
		return "", err
	}
	dest := o.dest
	if dest == "." {
		if dest, err = os.Getwd(); err != nil {
			return "", err
		}
	}
	name, err := chart.Save(ch, dest)
	if err != nil {
		return "", fmt.Errorf("failed to save: %w", err)
	}
	return filepath.Clean(name), nil
}

// signArchive writes ARCHIVE.prov with the --key of --keyring, as helm
// package --sign does; an encrypted key's passphrase comes from
// --passphrase-file ("-" for standard input).
func (o *packageOptions) signArchive(env Env, archive string) error {
	ring, err := repo.LoadKeyring(o.keyring)
	if err != nil {
		return err
	}
	key, err := repo.SigningKey(ring, o.key)
	if err != nil {
		return err
	}
	var passphrase func(string) ([]byte, error)
	if o.passphraseFile != "" {
		passphrase = func(string) ([]byte, error) {
			var r io.Reader
			if o.passphraseFile == "-" {
				r = env.Streams.In
			} else {
				f, err := os.Open(o.passphraseFile)
				if err != nil {
					return nil, err
				}
				defer f.Close()
				r = f
			}
			line, err := bufio.NewReader(r).ReadString('\n')
			if err != nil && err != io.EOF {
				return nil, err
			}
			return []byte(strings.TrimRight(line, "\r\n")), nil
		}
	}
	_, err = repo.Sign(archive, key, passphrase)
	return err
}
