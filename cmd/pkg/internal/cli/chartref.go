package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
)

// errRemoteCharts is wrapped by every error about a chart reference that
// would have to be fetched: pkg loads charts from directories and archives
// only, for now.
var errRemoteCharts = errors.New("pkg loads charts from local directories and archives only")

// chartPathOptions are Helm's flags that say where a chart comes from and
// how to fetch it. pkg accepts all of them so that Helm command lines
// parse; the ones that only matter when fetching a chart from a repository
// are refused with a clear error when a fetch would be needed.
type chartPathOptions struct {
	version         string
	verify          bool
	keyring         string
	repoURL         string
	username        string
	password        string
	certFile        string
	keyFile         string
	caFile          string
	insecureSkipTLS bool
	plainHTTP       bool
	passCredentials bool
}

func (c *chartPathOptions) addFlags(f *pflag.FlagSet, env Env) {
	f.StringVar(&c.version, "version", "", "specify a version constraint for the chart version to use. This constraint can be a specific tag (e.g. 1.1.1) or it may reference a valid range (e.g. ^2.0.0). If this is not specified, the latest version is used")
	f.BoolVar(&c.verify, "verify", false, "verify the package before using it")
	f.StringVar(&c.keyring, "keyring", helmPaths{env}.defaultKeyring(), "location of public keys used for verification")
	f.StringVar(&c.repoURL, "repo", "", "chart repository url where to locate the requested chart")
	f.StringVar(&c.username, "username", "", "chart repository username where to locate the requested chart")
	f.StringVar(&c.password, "password", "", "chart repository password where to locate the requested chart")
	f.StringVar(&c.certFile, "cert-file", "", "identify HTTPS client using this SSL certificate file")
	f.StringVar(&c.keyFile, "key-file", "", "identify HTTPS client using this SSL key file")
	f.BoolVar(&c.insecureSkipTLS, "insecure-skip-tls-verify", false, "skip tls certificate checks for the chart download")
	f.BoolVar(&c.plainHTTP, "plain-http", false, "use insecure HTTP connections for the chart download")
	f.StringVar(&c.caFile, "ca-file", "", "verify certificates of HTTPS-enabled servers using this CA bundle")
	f.BoolVar(&c.passCredentials, "pass-credentials", false, "pass credentials to all domains")
}

// locate resolves a chart reference as Helm's LocateChart does for local
// charts: an existing path wins (even with --repo), a path that looks
// local ("./x", "/x") and does not exist is "not found", and anything else
// names a chart in a repository, which pkg cannot fetch yet.
func (c *chartPathOptions) locate(name string) (string, error) {
	name = strings.TrimSpace(name)
	if _, err := os.Stat(name); err == nil {
		if c.verify {
			return "", fmt.Errorf("--verify: verifying chart provenance is not supported yet: %w", errRemoteCharts)
		}
		return name, nil
	}
	if filepath.IsAbs(name) || strings.HasPrefix(name, ".") {
		return name, fmt.Errorf("path %q not found", name)
	}
	switch {
	case c.repoURL != "":
		return "", fmt.Errorf("cannot fetch chart %q from repository %s: %w", name, c.repoURL, errRemoteCharts)
	case strings.HasPrefix(name, "oci://"):
		return "", fmt.Errorf("cannot pull chart %q from an OCI registry: %w", name, errRemoteCharts)
	case strings.Contains(name, "://"):
		return "", fmt.Errorf("cannot download chart %q: %w", name, errRemoteCharts)
	case !strings.Contains(name, "/"):
		// Helm's message for a bare word that is not a local path.
		return "", fmt.Errorf("non-absolute URLs should be in form of repo_name/path_to_chart, got: %s", name)
	}
	repoName := name[:strings.Index(name, "/")]
	return "", fmt.Errorf("repo %s not found: %w", repoName, errRemoteCharts)
}
