package repo_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"pkg.dev/pkg/repo"
)

func TestRepoUpdate(t *testing.T) {
	t.Parallel()
	plain := newServer(t, serverOptions{})
	auth := newServer(t, serverOptions{user: "u", password: "p"})
	secure := newServer(t, serverOptions{tls: true})
	secureAuth := newServer(t, serverOptions{tls: true, user: "u", password: "p"})
	cases := []struct {
		name  string
		entry repo.Entry
	}{
		{"plain", repo.Entry{Name: "plain", URL: plain.URL}},
		{"plain with trailing slash", repo.Entry{Name: "slash", URL: plain.URL + "/"}},
		{"basic auth", repo.Entry{Name: "auth", URL: auth.URL, Username: "u", Password: "p"}},
		{"tls with ca file", repo.Entry{Name: "tls", URL: secure.URL, CAFile: caFile(t, secure.Server)}},
		{"tls insecure", repo.Entry{Name: "insecure", URL: secure.URL, InsecureSkipTLSVerify: true}},
		{"tls and basic auth", repo.Entry{Name: "tlsauth", URL: secureAuth.URL, Username: "u", Password: "p", CAFile: caFile(t, secureAuth.Server)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cache := repo.Cache{Dir: t.TempDir()}
			idx, err := fetcher().Update(context.Background(), &tc.entry, cache, nil)
			if err != nil {
				t.Fatal(err)
			}
			cached, err := cache.LoadIndex(tc.entry.Name, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(idx, cached) {
				t.Error("the cached index differs from the downloaded one")
			}
			names, err := os.ReadFile(cache.ChartsPath(tc.entry.Name))
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Sorted(slices.Values([]string{"hello", "nested", "tgz-deps", "crds-demo"}))
			got := strings.Fields(string(names))
			if len(got) == 0 || !reflect.DeepEqual(got, chartNames(idx)) {
				t.Errorf("charts.txt = %q, index has %q (expected about %q)", got, chartNames(idx), want)
			}
			// Every chart downloads and matches its digest.
			for name, vs := range idx.Entries {
				data, err := fetcher().FetchChart(context.Background(), &tc.entry, vs[0])
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if err := repo.CheckDigest(data, vs[0].Digest); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func chartNames(idx *repo.IndexFile) []string {
	var out []string
	for n := range idx.Entries {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// TestRepoUpdateFailuresLeaveCache checks that every kind of failure
// names the repository and URL and leaves the cache as it was.
func TestRepoUpdateFailuresLeaveCache(t *testing.T) {
	t.Parallel()
	good := newServer(t, serverOptions{})
	auth := newServer(t, serverOptions{user: "u", password: "p"})
	secure := newServer(t, serverOptions{tls: true})
	index, err := os.ReadFile(filepath.Join(good.dir, "index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	serve := func(body string) string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(body))
		}))
		t.Cleanup(s.Close)
		return s.URL
	}
	cases := []struct {
		name  string
		entry repo.Entry
		is    error
		want  string
	}{
		{"404", repo.Entry{URL: good.URL + "/nope"}, repo.ErrNotFound, "404 Not Found"},
		{"no credentials", repo.Entry{URL: auth.URL}, repo.ErrUnauthorized, "401 Unauthorized"},
		{"wrong credentials", repo.Entry{URL: auth.URL, Username: "u", Password: "wrong"}, repo.ErrUnauthorized, "401"},
		{"corrupt index", repo.Entry{URL: serve("entries: [this is: not: an index")}, nil, "yaml"},
		{"truncated index", repo.Entry{URL: serve(string(index[:len(index)/2]) + "\n  - \"unterminated")}, nil, ""},
		{"empty index", repo.Entry{URL: serve("")}, repo.ErrEmptyIndex, "empty index.yaml"},
		{"index without apiVersion", repo.Entry{URL: serve("entries: {}\n")}, repo.ErrNoAPIVersion, "no API version"},
		{"html page", repo.Entry{URL: serve("<html><body>hello</body></html>")}, nil, ""},
		{"tls without ca", repo.Entry{URL: secure.URL}, nil, "certificate"},
		{"unreachable", repo.Entry{URL: "http://127.0.0.1:1"}, nil, "127.0.0.1:1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cache := repo.Cache{Dir: t.TempDir()}
			tc.entry.Name = "r"
			// A previous good update.
			if _, err := fetcher().Update(context.Background(), &repo.Entry{Name: "r", URL: good.URL}, cache, nil); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, cache.Dir)
			_, err := fetcher().Update(context.Background(), &tc.entry, cache, nil)
			if err == nil {
				t.Fatal("update succeeded")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %q", err, tc.is)
			}
			msg := err.Error()
			if !strings.Contains(msg, `repository "r"`) || !strings.Contains(msg, tc.entry.URL) || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q should name the repository, %s and %q", msg, tc.entry.URL, tc.want)
			}
			if after := snapshot(t, cache.Dir); !reflect.DeepEqual(before, after) {
				t.Errorf("the cache changed:\nbefore %v\nafter  %v", keys(before), keys(after))
			}
		})
	}
}

func keys(m map[string]string) []string {
	out := slices.Collect(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	slices.Sort(out)
	return out
}

// TestPassCredentials checks Helm's rule: credentials go to the
// repository's own host only, unless pass_credentials_all is set.
func TestPassCredentials(t *testing.T) {
	t.Parallel()
	charts := newServer(t, serverOptions{absoluteURLs: true})
	idx, err := os.ReadFile(filepath.Join(charts.dir, "index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The repository serves an index whose charts live on another host.
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "u" || p != "p" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Write(idx)
	}))
	t.Cleanup(front.Close)
	for _, pass := range []bool{false, true} {
		e := &repo.Entry{Name: "front", URL: front.URL, Username: "u", Password: "p", PassCredentials: pass}
		_, index, err := fetcher().FetchIndex(context.Background(), e, nil)
		if err != nil {
			t.Fatal(err)
		}
		cv, err := index.Get("hello", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fetcher().FetchChart(context.Background(), e, cv); err != nil {
			t.Fatal(err)
		}
		if got := charts.lastAuth.Load(); got != pass {
			t.Errorf("pass-credentials=%v: the chart host received credentials: %v", pass, got)
		}
	}
}

// TestFetchChartRefusesBadArchives checks digest mismatches, archives
// escaping the chart directory and non-archives.
func TestFetchChartRefusesBadArchives(t *testing.T) {
	t.Parallel()
	good := newServer(t, serverOptions{})
	e := &repo.Entry{Name: "r", URL: good.URL}
	_, idx, err := fetcher().FetchIndex(context.Background(), e, nil)
	if err != nil {
		t.Fatal(err)
	}
	hello, err := idx.Get("hello", "")
	if err != nil {
		t.Fatal(err)
	}
	evil := tarball(t, map[string]string{"evil/Chart.yaml": "apiVersion: v2\nname: evil\nversion: 1.0.0\n", "evil/../../escape.txt": "x"})
	if err := os.WriteFile(filepath.Join(good.dir, "evil-1.0.0.tgz"), evil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(good.dir, "garbage-1.0.0.tgz"), []byte("not a tarball"), 0o644); err != nil {
		t.Fatal(err)
	}
	withDigest := func(cv *repo.ChartVersion, digest string, url string) *repo.ChartVersion {
		c := *cv
		c.Digest = digest
		if url != "" {
			c.URLs = []string{url}
		}
		return &c
	}
	cases := []struct {
		name string
		cv   *repo.ChartVersion
		is   error
		want string
	}{
		{"digest mismatch", withDigest(hello, strings.Repeat("0", 64), ""), repo.ErrDigestMismatch, "hello"},
		{"path traversal", withDigest(hello, "", "evil-1.0.0.tgz"), nil, "escape.txt"},
		{"not an archive", withDigest(hello, "", "garbage-1.0.0.tgz"), nil, "not a valid chart archive"},
		{"missing archive", withDigest(hello, "", "missing-1.0.0.tgz"), repo.ErrNotFound, "missing-1.0.0.tgz"},
		{"no urls", &repo.ChartVersion{Metadata: hello.Metadata}, repo.ErrNoURLs, "hello"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := fetcher().FetchChart(context.Background(), e, tc.cv)
			if err == nil {
				t.Fatal("download succeeded")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %q", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `repository "r"`) {
				t.Errorf("error %q should name the repository and %q", err, tc.want)
			}
		})
	}
}

// tarball builds a gzipped tar with the given entries, unchecked.
func tarball(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range files {
			if !yield(k) {
				return
			}
		}
	}) {
		body := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// TestFetcherProgress follows a download of about 1 MB.
func TestFetcherProgress(t *testing.T) {
	t.Parallel()
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	var calls int
	var last, total int64
	var done bool
	f := fetcher()
	f.Progress = func(_ string, read, tot int64, d bool) {
		if read < last {
			t.Errorf("progress went back from %d to %d", last, read)
		}
		calls++
		last, total, done = read, tot, d
	}
	data, err := f.Get(context.Background(), &repo.Entry{URL: s.URL}, s.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, body) || calls < 2 || !done || last != int64(len(body)) || total != int64(len(body)) {
		t.Errorf("calls %d, last %d, total %d, done %v (body %d bytes)", calls, last, total, done, len(body))
	}
}

func TestStoreArchiveRefusesBadNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"..", ".", "/", "a/..", ""} {
		if p, err := repo.StoreArchive(dir, name, []byte("x")); err == nil {
			t.Errorf("%q stored as %s", name, p)
		}
	}
	if p, err := repo.StoreArchive(dir, "https://x/charts/web-1.0.0.tgz", []byte("x")); err != nil || filepath.Base(p) != "web-1.0.0.tgz" {
		t.Errorf("got %s, %v", p, err)
	}
}
