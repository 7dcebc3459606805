package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"strings"

	"pkg.dev/pkg/chart"
)

// archiveAccept is the Accept header sent for chart archives (Helm's).
const archiveAccept = "application/gzip,application/octet-stream"

// IndexURL is the URL of the index of the repository at repoURL.
func IndexURL(repoURL string) (string, error) { return ResolveURL(repoURL, "index.yaml") }

// FetchIndex downloads and parses the index of repository e. It returns
// the bytes as served (what the cache stores) and the parsed index.
func (f *Fetcher) FetchIndex(ctx context.Context, e *Entry, warn func(string)) ([]byte, *IndexFile, error) {
	fail := func(u string, err error) ([]byte, *IndexFile, error) {
		return nil, nil, &Error{Op: OpFetchIndex, Repo: e.Name, URL: u, Err: err}
	}
	u, err := IndexURL(e.URL)
	if err != nil {
		return fail(e.URL, err)
	}
	raw, err := f.Get(ctx, e, u, "")
	if err != nil {
		return fail(u, err)
	}
	idx, err := ParseIndex(raw, e.URL, warn)
	if err != nil {
		return fail(u, err)
	}
	return raw, idx, nil
}

// Update downloads the index of repository e and stores it in the cache;
// on any error the cache is left as it was.
func (f *Fetcher) Update(ctx context.Context, e *Entry, c Cache, warn func(string)) (*IndexFile, error) {
	raw, idx, err := f.FetchIndex(ctx, e, warn)
	if err != nil {
		return nil, err
	}
	if err := c.StoreIndex(e.Name, raw, idx); err != nil {
		return nil, err
	}
	return idx, nil
}

// ChartURL is the absolute download URL of cv in the repository at
// repoURL.
func ChartURL(repoURL string, cv *ChartVersion) (string, error) {
	if len(cv.URLs) == 0 {
		return "", fmt.Errorf("%w: %s %s", ErrNoURLs, cv.Name, cv.Version)
	}
	return ResolveURL(repoURL, cv.URLs[0])
}

// FetchChart downloads the archive of cv from repository e, checks it
// against the digest the index records (when it records one) and checks
// that it loads as a chart, so that a corrupt archive or one with entries
// escaping the chart directory is refused before anything is stored.
func (f *Fetcher) FetchChart(ctx context.Context, e *Entry, cv *ChartVersion) ([]byte, error) {
	u, err := ChartURL(e.URL, cv)
	if err != nil {
		return nil, &Error{Op: OpFetchChart, Repo: e.Name, URL: e.URL, Chart: cv.Name, Err: err}
	}
	data, err := f.FetchArchive(ctx, e, u)
	if err != nil {
		var re *Error
		if asError(err, &re) {
			re.Repo, re.Chart = e.Name, cv.Name
		}
		return nil, err
	}
	if err := CheckDigest(data, cv.Digest); err != nil {
		return nil, &Error{Op: OpFetchChart, Repo: e.Name, URL: u, Chart: cv.Name + "-" + cv.Version, Err: err}
	}
	return data, nil
}

// FetchArchive downloads the chart archive at rawURL on behalf of e and
// checks that it loads as a chart.
func (f *Fetcher) FetchArchive(ctx context.Context, e *Entry, rawURL string) ([]byte, error) {
	data, err := f.Get(ctx, e, rawURL, archiveAccept)
	if err != nil {
		return nil, &Error{Op: OpFetchChart, URL: rawURL, Err: err}
	}
	if _, err := chart.LoadArchive(bytes.NewReader(data)); err != nil {
		return nil, &Error{Op: OpFetchChart, URL: rawURL, Err: fmt.Errorf("the download is not a valid chart archive: %w", err)}
	}
	return data, nil
}

// ArchiveFileName is the file name a downloaded archive is stored under:
// the last element of its URL's path.
func ArchiveFileName(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && u.Path != "" {
		return path.Base(u.Path)
	}
	return path.Base(rawURL)
}

// CheckDigest compares the SHA-256 of data with want (hex, optionally
// prefixed "sha256:"); an empty want is accepted, as indexes may omit it.
func CheckDigest(data []byte, want string) error {
	if want == "" {
		return nil
	}
	want = strings.ToLower(strings.TrimPrefix(want, "sha256:"))
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("%w: the archive's sha256 is %s but the index says %s; the repository may have changed, try 'pkg repo update'", ErrDigestMismatch, got, want)
	}
	return nil
}

// Digest returns the SHA-256 of r in hex, the form indexes record.
func Digest(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// DigestFile returns the SHA-256 of the file at path in hex.
func DigestFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return Digest(f)
}
