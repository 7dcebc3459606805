package repo

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Resolver turns a chart reference into a downloaded, verified archive:
// "REPO/CHART" through the repositories file and the cached index, a
// chart name in the repository at a URL (Helm's --repo), or the URL of an
// archive.
type Resolver struct {
	Fetcher *Fetcher
	// Repositories is the repositories file in use (may be empty).
	Repositories *File
	Cache        Cache
	// Warn receives warnings such as skipped index entries; may be nil.
	Warn func(string)
}

// Request names a chart to download.
type Request struct {
	// Ref is "REPO/CHART", a chart name when RepoURL is set, or an
	// http(s) URL of an archive.
	Ref string
	// Version is a semantic version constraint; "" means the newest
	// stable version.
	Version string
	// RepoURL is the repository to look Ref up in, bypassing the
	// repositories file.
	RepoURL string
	// Access holds the credentials and TLS settings given on the command
	// line; its Name and URL are ignored. A configured repository's own
	// settings take precedence, as in Helm.
	Access Entry
}

// Download is a fetched archive and where it came from.
type Download struct {
	Data     []byte
	FileName string        // NAME-VERSION.tgz, from the URL
	URL      string        // where it was downloaded from
	Repo     string        // the repository name, if it came from one
	Chart    *ChartVersion // the index entry, nil for a plain URL
	// Entry is the repository (or ad-hoc access) it was downloaded with:
	// the credentials and TLS settings for the files beside it, such as
	// its provenance file.
	Entry *Entry
}

// Download resolves and downloads req.
func (r *Resolver) Download(ctx context.Context, req Request) (*Download, error) {
	switch {
	case req.RepoURL != "":
		return r.fromRepoURL(ctx, req)
	case r.Fetcher.Handles(req.Ref):
		return r.fromURL(ctx, req)
	}
	repoName, chartName, ok := strings.Cut(req.Ref, "/")
	if !ok || repoName == "" || chartName == "" {
		return nil, fmt.Errorf("non-absolute URLs should be in form of repo_name/path_to_chart, got: %s", req.Ref)
	}
	var e *Entry
	if r.Repositories != nil {
		e = r.Repositories.Get(repoName)
	}
	if e == nil {
		return nil, repoNotFound(repoName)
	}
	if e.URL == "" {
		return nil, &Error{Op: OpResolve, Chart: req.Ref, Err: fmt.Errorf("no URL found for repository %s", repoName)}
	}
	access := mergeAccess(e, req.Access)
	idx, err := r.Cache.LoadChartIndex(repoName, chartName, r.Warn)
	if err != nil {
		return nil, fmt.Errorf("no cached repo found. (try 'pkg repo update'): %w", err)
	}
	cv, err := idx.Get(chartName, req.Version)
	if err != nil {
		return nil, &Error{Op: OpResolve, Repo: repoName, URL: e.URL, Chart: chartName,
			Err: fmt.Errorf("chart %q matching %s not found in %s index. (try 'pkg repo update'): %w", chartName, req.Version, repoName, err)}
	}
	return r.fetch(ctx, access, cv)
}

func (r *Resolver) fromRepoURL(ctx context.Context, req Request) (*Download, error) {
	e := req.Access
	e.Name, e.URL = "", req.RepoURL
	_, idx, err := r.Fetcher.FetchIndex(ctx, &e, r.Warn)
	if err != nil {
		return nil, fmt.Errorf("looks like %q is not a valid chart repository or cannot be reached: %w", req.RepoURL, err)
	}
	what := fmt.Sprintf("chart %q", req.Ref)
	if req.Version != "" {
		what += fmt.Sprintf(" version %q", req.Version)
	}
	cv, err := idx.Get(req.Ref, req.Version)
	if err != nil {
		return nil, &Error{Op: OpResolve, URL: req.RepoURL, Chart: req.Ref,
			Err: fmt.Errorf("%s not found in %s repository: %w", what, req.RepoURL, err)}
	}
	return r.fetch(ctx, &e, cv)
}

func (r *Resolver) fromURL(ctx context.Context, req Request) (*Download, error) {
	e := req.Access
	e.Name, e.URL = "", req.Ref
	if owner := r.owner(req.Ref); owner != nil {
		e = *mergeAccess(owner, req.Access)
	}
	data, err := r.Fetcher.FetchArchive(ctx, &e, req.Ref)
	if err != nil {
		return nil, err
	}
	return &Download{Data: data, FileName: ArchiveFileName(req.Ref), URL: req.Ref, Repo: e.Name, Entry: &e}, nil
}

// owner is the configured repository whose URL the chart URL is under.
func (r *Resolver) owner(chartURL string) *Entry {
	if r.Repositories == nil {
		return nil
	}
	for _, e := range r.Repositories.Repositories {
		if e != nil && e.URL != "" && strings.HasPrefix(chartURL, strings.TrimSuffix(e.URL, "/")+"/") {
			return e
		}
	}
	return nil
}

func (r *Resolver) fetch(ctx context.Context, e *Entry, cv *ChartVersion) (*Download, error) {
	data, err := r.Fetcher.FetchChart(ctx, e, cv)
	if err != nil {
		return nil, err
	}
	u, _ := ChartURL(e.URL, cv)
	return &Download{Data: data, FileName: ArchiveFileName(u), URL: u, Repo: e.Name, Chart: cv, Entry: e}, nil
}

// mergeAccess returns a copy of e whose missing credentials and TLS
// settings come from the command line, as Helm's downloader layers them.
func mergeAccess(e *Entry, flags Entry) *Entry {
	m := *e
	if m.Username == "" || m.Password == "" {
		m.Username, m.Password = flags.Username, flags.Password
		m.PassCredentials = flags.PassCredentials
	}
	if m.CertFile == "" && m.KeyFile == "" && m.CAFile == "" {
		m.CertFile, m.KeyFile, m.CAFile = flags.CertFile, flags.KeyFile, flags.CAFile
	}
	m.InsecureSkipTLSVerify = m.InsecureSkipTLSVerify || flags.InsecureSkipTLSVerify
	return &m
}

// IsNotFound reports whether err means the chart, version or repository
// does not exist (as opposed to a network or format failure).
func IsNotFound(err error) bool {
	return errors.Is(err, ErrNoChartName) || errors.Is(err, ErrNoChartVersion) || errors.Is(err, ErrRepoNotFound) || errors.Is(err, ErrNotFound)
}

// repoNotFound is Helm's error for a reference to an unknown repository.
type repoNotFound string

func (e repoNotFound) Error() string { return "repo " + string(e) + " not found" }
func (e repoNotFound) Unwrap() error { return ErrRepoNotFound }
