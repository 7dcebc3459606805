package repo

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
)

// DefaultMaxResponseBytes bounds what a Fetcher reads from one response
// when MaxBytes is zero: large enough for the biggest public indexes.
const DefaultMaxResponseBytes = 1 << 30

// Fetcher downloads from chart repositories over HTTP(S). It is built by
// the caller (the CLI) around an *http.Client whose timeout and proxy
// settings it keeps; the TLS settings of each repository are layered on
// a copy of the client's transport.
type Fetcher struct {
	// Client is the base client; nil means a new zero http.Client.
	Client *http.Client
	// UserAgent is sent with every request when not empty.
	UserAgent string
	// MaxBytes bounds a response body; 0 means DefaultMaxResponseBytes.
	MaxBytes int64
	// Progress, when set, follows every download: it is called as the
	// body is read with the bytes read so far and the expected total (-1
	// when the server does not say), and a last time with done set.
	Progress func(rawURL string, read, total int64, done bool)
	// Schemes fetch URLs of schemes other than http and https (s3://,
	// gs://, git+https://, ...): the downloaders of Helm plugins.
	Schemes map[string]SchemeGetter
}

// SchemeGetter downloads rawURL on behalf of repository e (whose TLS
// files it is given).
type SchemeGetter func(ctx context.Context, e *Entry, rawURL string) ([]byte, error)

// Handles tells whether f can download rawURL: an http(s) URL with a
// host, or a URL of one of its Schemes.
func (f *Fetcher) Handles(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	if u.Scheme == "http" || u.Scheme == "https" {
		return u.Host != ""
	}
	_, ok := f.Schemes[u.Scheme]
	return ok
}

// Get downloads rawURL on behalf of repository e, whose URL decides where
// its credentials may go and whose TLS files configure the connection. e
// may describe an ad-hoc repository (a --repo URL or a chart URL).
func (f *Fetcher) Get(ctx context.Context, e *Entry, rawURL, accept string) ([]byte, error) {
	if u, err := url.Parse(rawURL); err == nil && u.Scheme != "http" && u.Scheme != "https" {
		get, ok := f.Schemes[u.Scheme]
		if !ok {
			return nil, fmt.Errorf("could not find protocol handler for: %s", u.Scheme)
		}
		return get(ctx, e, rawURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if f.UserAgent != "" {
		req.Header.Set("User-Agent", f.UserAgent)
	}
	if sendCredentials(e, req.URL) {
		req.SetBasicAuth(e.Username, e.Password)
	}
	client, err := f.clientFor(e)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{URL: rawURL, Status: resp.Status, Code: resp.StatusCode}
	}
	limit := f.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 && resp.ContentLength <= limit {
		buf.Grow(int(resp.ContentLength))
	}
	var body io.Reader = io.LimitReader(resp.Body, limit+1)
	if f.Progress != nil {
		total := resp.ContentLength
		if total <= 0 {
			total = -1
		}
		pr := &progressReader{r: body, report: func(n int64) { f.Progress(rawURL, n, total, false) }}
		body = pr
		defer func() { f.Progress(rawURL, pr.n, total, true) }()
	}
	n, err := io.Copy(&buf, body)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", rawURL, err)
	}
	if n > limit {
		return nil, fmt.Errorf("reading %s: %w (more than %d bytes)", rawURL, ErrTooLarge, limit)
	}
	return buf.Bytes(), nil
}

// sendCredentials decides, as Helm does, whether e's username and
// password go with a request to u: only when both are set, and only to
// the repository's own scheme and host unless the entry passes
// credentials to all hosts.
func sendCredentials(e *Entry, u *url.URL) bool {
	if e == nil || e.Username == "" || e.Password == "" {
		return false
	}
	if e.PassCredentials {
		return true
	}
	base, err := url.Parse(e.URL)
	return err == nil && base.Scheme == u.Scheme && base.Host == u.Host
}

// clientFor returns the base client, or a copy of it whose transport
// carries e's TLS settings.
func (f *Fetcher) clientFor(e *Entry) (*http.Client, error) {
	base := f.Client
	if base == nil {
		base = &http.Client{}
	}
	if e == nil || (e.CertFile == "" && e.KeyFile == "" && e.CAFile == "" && !e.InsecureSkipTLSVerify) {
		return base, nil
	}
	cfg, err := TLSConfig(e.CertFile, e.KeyFile, e.CAFile, e.InsecureSkipTLSVerify)
	if err != nil {
		return nil, fmt.Errorf("can't create TLS config for client: %w", err)
	}
	var tr *http.Transport
	switch t := base.Transport.(type) {
	case *http.Transport:
		tr = t.Clone()
	case nil:
		tr = http.DefaultTransport.(*http.Transport).Clone()
	default:
		return nil, errors.New("can't apply TLS settings: the HTTP client's transport is not an *http.Transport")
	}
	tr.TLSClientConfig = cfg
	c := *base
	c.Transport = tr
	return &c, nil
}

// TLSConfig builds a client TLS configuration from PEM files: a client
// certificate and key (both or neither), a CA bundle that replaces the
// system roots, and whether to skip verifying the server.
func TLSConfig(certFile, keyFile, caFile string, insecure bool) (*tls.Config, error) {
	cfg := &tls.Config{InsecureSkipVerify: insecure, MinVersion: tls.VersionTLS12} //nolint:gosec // the user asked for it
	if certFile != "" || keyFile != "" {
		if certFile == "" || keyFile == "" {
			return nil, errors.New("both a certificate file and a key file are needed for a client certificate")
		}
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("loading client certificate %s and key %s: %w", certFile, keyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificates found in CA bundle %s", caFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// progressReader counts what is read through it and reports it.
type progressReader struct {
	r      io.Reader
	n      int64
	report func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.n += int64(n)
		p.report(p.n)
	}
	return n, err
}
