package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"pkg.dev/pkg/repo"
)

// errRemoteCharts is wrapped by errors about fetching that pkg does not
// do (yet): chart URLs with schemes other than http(s) and oci, and, where
// commands have not wired updateDependencies, --dependency-update.
var errRemoteCharts = errors.New("not supported by pkg yet")

// chartPathOptions are Helm's flags that say where a chart comes from and
// how to fetch it.
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

	// env and flags are kept by addFlags: locate reads the global
	// repository flags (merged into the command's flag set by cobra when
	// it parses) and the command's --devel from them.
	env   Env
	flags *pflag.FlagSet
}

func (c *chartPathOptions) addFlags(f *pflag.FlagSet, env Env) {
	c.env, c.flags = env, f
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

// locate is locateContext without cancellation, for callers that have no
// context at hand.
func (c *chartPathOptions) locate(name string) (string, error) {
	return c.locateContext(context.Background(), name)
}

// locateContext resolves a chart reference as Helm's LocateChart does and
// returns a local path: an existing path wins (even with --repo), a path
// that looks local ("./x", "/x") and does not exist is "not found";
// otherwise the chart is downloaded, from the repository at --repo, from
// a configured repository ("REPO/CHART") or from an http(s) URL, into the
// repository cache, and the archive's path there is returned.
func (c *chartPathOptions) locateContext(ctx context.Context, name string) (string, error) {
	name = strings.TrimSpace(name)
	if _, err := os.Stat(name); err == nil {
		if c.verify {
			if _, err := verifyArchive(name, c.keyring); err != nil {
				return "", err
			}
		}
		return name, nil
	}
	if filepath.IsAbs(name) || strings.HasPrefix(name, ".") {
		return name, fmt.Errorf("path %q not found", name)
	}
	mode := provNever
	if c.verify {
		mode = provAlways
	}
	f, err := c.fetch(ctx, name, mode, nil)
	if err != nil {
		return "", err
	}
	if c.verify {
		// Checked before anything is written to the cache.
		if _, err := f.verify(c.keyring); err != nil {
			return "", err
		}
	}
	_, cache := c.repositoryPaths()
	return f.store(cache)
}

// download fetches the chart name as locate and `pkg pull` do.
func (c *chartPathOptions) download(ctx context.Context, name, repoConfig string, cache repo.Cache) (*repo.Download, error) {
	fetcher := newFetcher(c.env, defaultRepoTimeout)
	if strings.Contains(name, "://") && !fetcher.Handles(name) {
		return nil, fmt.Errorf("cannot download chart %q: %w", name, errRemoteCharts)
	}
	if c.repoURL == "" && !strings.Contains(name, "/") {
		// Helm's message for a bare word that is not a local path.
		return nil, fmt.Errorf("non-absolute URLs should be in form of repo_name/path_to_chart, got: %s", name)
	}
	files, err := repo.LoadFileOrEmpty(repoConfig)
	if err != nil {
		return nil, err
	}
	r := &repo.Resolver{
		Fetcher:      fetcher,
		Repositories: files,
		Cache:        cache,
		Warn:         warnFunc(c.env),
	}
	return r.Download(ctx, repo.Request{
		Ref:     name,
		Version: c.versionConstraint(),
		RepoURL: c.repoURL,
		Access: repo.Entry{
			Username:              c.username,
			Password:              c.password,
			CertFile:              c.certFile,
			KeyFile:               c.keyFile,
			CAFile:                c.caFile,
			InsecureSkipTLSVerify: c.insecureSkipTLS,
			PassCredentials:       c.passCredentials,
		},
	})
}

// versionConstraint is --version, or ">0.0.0-0" when it is empty and the
// command's --devel is set, as in Helm.
func (c *chartPathOptions) versionConstraint() string {
	v := strings.TrimSpace(c.version)
	if v == "" && c.flags != nil {
		if f := c.flags.Lookup("devel"); f != nil && f.Value.String() == "true" {
			return ">0.0.0-0"
		}
	}
	return v
}

// repositoryPaths are the repositories file and cache in effect: the
// global --repository-config and --repository-cache (which default to
// $HELM_REPOSITORY_CONFIG, $HELM_REPOSITORY_CACHE and Helm's locations).
func (c *chartPathOptions) repositoryPaths() (config, cache string) {
	p := helmPaths{c.env}
	config = envOr(c.env, "HELM_REPOSITORY_CONFIG", p.config("repositories.yaml"))
	cache = envOr(c.env, "HELM_REPOSITORY_CACHE", p.cache("repository"))
	if c.flags != nil {
		if f := c.flags.Lookup("repository-config"); f != nil {
			config = f.Value.String()
		}
		if f := c.flags.Lookup("repository-cache"); f != nil {
			cache = f.Value.String()
		}
	}
	return config, cache
}

// pullOCI downloads an oci:// chart with the command's TLS flags and the
// stored registry logins, and its provenance layer (when it has one) with
// prov.
func (c *chartPathOptions) pullOCI(ctx context.Context, ref string, prov bool) (*repo.OCIPull, error) {
	g := &globalOptions{registryConfig: envOr(c.env, "HELM_REGISTRY_CONFIG", helmPaths{c.env}.config("registry", "config.json"))}
	if c.flags != nil {
		if f := c.flags.Lookup("registry-config"); f != nil {
			g.registryConfig = f.Value.String()
		}
	}
	o, err := newOCI(g, registryAccess{username: c.username, password: c.password, certFile: c.certFile, keyFile: c.keyFile, caFile: c.caFile, insecure: c.insecureSkipTLS, plainHTTP: c.plainHTTP})
	if err != nil {
		return nil, err
	}
	o.Progress = terminalProgress(c.env)
	if prov {
		return o.PullProvenance(ctx, ref, c.versionConstraint())
	}
	return o.Pull(ctx, ref, c.versionConstraint())
}
