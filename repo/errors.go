package repo

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Operations named by Error.Op.
const (
	OpLoadIndex     = "loading index"
	OpFetchIndex    = "downloading index"
	OpFetchChart    = "downloading chart"
	OpResolve       = "resolving chart"
	OpWriteCache    = "writing repository cache"
	OpLoadRepoFile  = "loading repositories file"
	OpWriteRepoFile = "writing repositories file"
	OpIndexDir      = "indexing directory"
)

// Sentinel errors. Test for them with errors.Is; the errors returned by
// this package wrap them with the repository, URL and chart concerned.
var (
	// ErrNoAPIVersion means an index has no apiVersion (Helm's message).
	ErrNoAPIVersion = errors.New("no API version specified")
	// ErrEmptyIndex means an index file or response is empty.
	ErrEmptyIndex = errors.New("empty index.yaml file")
	// ErrNoChartName means the index has no chart of that name.
	ErrNoChartName = errors.New("no chart name found")
	// ErrNoChartVersion means the index has the chart but no version of it
	// satisfies the constraint.
	ErrNoChartVersion = errors.New("no chart version found")
	// ErrNoURLs means an index entry lists no download URL.
	ErrNoURLs = errors.New("chart has no downloadable URLs")
	// ErrRepoNotFound means no repository of that name is configured.
	ErrRepoNotFound = errors.New("repository not found")
	// ErrDigestMismatch means a downloaded archive's SHA-256 differs from
	// the digest the index records for it.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrUnauthorized means the server refused the credentials (401/403).
	ErrUnauthorized = errors.New("access denied: check the repository's username and password")
	// ErrNotFound means the server answered 404.
	ErrNotFound = errors.New("not found on the server")
	// ErrInvalidName means a repository name cannot be used (it contains
	// a "/" or is empty).
	ErrInvalidName = errors.New("invalid repository name")
	// ErrTooLarge means a response exceeded the size the Fetcher accepts.
	ErrTooLarge = errors.New("response is too large")
	// ErrNoProvenanceLayer means a chart's manifest in a registry has no
	// provenance layer (Helm's message).
	ErrNoProvenanceLayer = errors.New("manifest does not contain a layer with mediatype " + OCIProvLayerMediaType)
	// ErrLockOutOfSync means Chart.lock no longer matches the
	// dependencies of Chart.yaml; `dependency update` rewrites it.
	ErrLockOutOfSync = errors.New("the lock file (Chart.lock) is out of sync with the dependencies file (Chart.yaml). Please update the dependencies")
)

// Error is the error returned by this package's operations: what was
// being done, on which repository, URL and chart, and the cause. Empty
// fields are left out of the message.
type Error struct {
	Op    string
	Repo  string
	URL   string
	Chart string
	Err   error
}

// Error formats the error as
// `downloading chart "web" from repository "stable" (https://…): cause`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Chart != "" {
		b.WriteString(" " + strconv.Quote(e.Chart))
	}
	if e.Repo != "" {
		if e.Chart != "" {
			b.WriteString(" from")
		}
		b.WriteString(" repository " + strconv.Quote(e.Repo))
	}
	if e.URL != "" {
		if e.Repo != "" {
			b.WriteString(" (" + e.URL + ")")
		} else {
			b.WriteString(" from " + e.URL)
		}
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// StatusError is an HTTP response other than 200 OK.
type StatusError struct {
	URL    string
	Status string // e.g. "404 Not Found"
	Code   int
}

// Error reports the URL and status as Helm does ("failed to fetch URL :
// 404 Not Found").
func (e *StatusError) Error() string {
	return fmt.Sprintf("failed to fetch %s : %s", e.URL, e.Status)
}

// Unwrap maps the status to ErrUnauthorized or ErrNotFound.
func (e *StatusError) Unwrap() error {
	switch e.Code {
	case 401, 403:
		return ErrUnauthorized
	case 404:
		return ErrNotFound
	}
	return nil
}

// asError is errors.As for *Error.
func asError(err error, target **Error) bool { return errors.As(err, target) }
