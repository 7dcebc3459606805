package repo_test

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/internal/helmtest"
	"pkg.dev/pkg/repo"
)

// testCharts are charts of testdata/charts served by the test
// repositories.
var testCharts = []string{"hello", "nested", "tgz-deps", "crds"}

// repoDir packages the test charts with chart.Save into a fresh directory
// and writes its index.yaml for baseURL, as `pkg repo index` does.
func repoDir(t testing.TB, baseURL string) string {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(helmtest.ModuleRoot(t), "testdata", "charts")
	for _, name := range testCharts {
		c, err := chart.Load(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := chart.Save(c, dir); err != nil {
			t.Fatal(err)
		}
	}
	if err := repo.WriteDirectoryIndex(dir, repo.IndexOptions{URL: baseURL, Now: time.Unix(1700000000, 0).UTC()}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// server is a chart repository served over HTTP(S) from a directory.
type server struct {
	*httptest.Server
	dir      string
	requests atomic.Int64
	// lastAuth records whether the last request carried credentials.
	lastAuth atomic.Bool
}

type serverOptions struct {
	tls      bool
	user     string
	password string
	// absoluteURLs writes the index with absolute chart URLs.
	absoluteURLs bool
}

// newServer starts a repository. The index is written after the server
// has its address, so absolute URLs point at it.
func newServer(t testing.TB, o serverOptions) *server {
	t.Helper()
	s := &server{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		u, p, ok := r.BasicAuth()
		s.lastAuth.Store(ok)
		if o.user != "" && (!ok || u != o.user || p != o.password) {
			w.Header().Set("WWW-Authenticate", `Basic realm="charts"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		http.FileServer(http.Dir(s.dir)).ServeHTTP(w, r)
	})
	if o.tls {
		s.Server = httptest.NewTLSServer(h)
	} else {
		s.Server = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	base := ""
	if o.absoluteURLs {
		base = s.URL + "/"
	}
	s.dir = repoDir(t, base)
	return s
}

// caFile writes the TLS server's certificate as a PEM CA bundle.
func caFile(t testing.TB, s *httptest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// fetcher is the HTTP access the tests use: a plain client, as cmd/
// builds one.
func fetcher() *repo.Fetcher {
	return &repo.Fetcher{Client: &http.Client{Timeout: 30 * time.Second}, UserAgent: "pkg-test"}
}

// snapshot reads every file under dir, to check that a failed operation
// changed nothing.
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		out[p] = string(b)
		return nil
	})
	return out
}
