package repo_test

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	helmcli "helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/getter"
	helmrepo "helm.sh/helm/v3/pkg/repo"

	"pkg.dev/pkg/internal/helmtest"
	"pkg.dev/pkg/repo"
)

// The differential tests here use Helm's repo package as the reference:
// Helm must read what pkg writes and pkg what Helm writes, and both must
// parse an index to the same thing.

func init() {
	// Helm's index loader logs skipped entries with the standard logger.
	log.SetOutput(io.Discard)
}

// helmIndexFiles are the index files of Helm's own tests.
func helmIndexFiles(t testing.TB) []string {
	t.Helper()
	dir, err := helmtest.ModuleDir()
	if err != nil {
		t.Skip(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "pkg", "repo", "testdata", "*index*"))
	more, _ := filepath.Glob(filepath.Join(dir, "pkg", "repo", "testdata", "server", "index.yaml"))
	files = append(files, more...)
	if len(files) == 0 {
		t.Fatal("no index files in Helm's testdata")
	}
	return files
}

// asJSON is the comparable form of an index of either package.
func asJSON(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRepoIndexParsesLikeHelm(t *testing.T) {
	t.Parallel()
	files := helmIndexFiles(t)
	files = append(files, filepath.Join(repoDir(t, "https://example.com/charts"), "index.yaml"))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			want, herr := helmrepo.LoadIndexFile(f)
			got, err := repo.LoadIndexFile(f, nil)
			if (herr == nil) != (err == nil) {
				t.Fatalf("helm error %v, pkg error %v", herr, err)
			}
			if herr != nil {
				return
			}
			if !reflect.DeepEqual(asJSON(t, want), asJSON(t, got)) {
				t.Errorf("pkg's index differs from Helm's")
			}
			// Entry order (newest first) is part of the result.
			for name, hv := range want.Entries {
				for n := range hv {
					if hv[n].Version != got.Entries[name][n].Version {
						t.Errorf("%s: version %d is %s, Helm says %s", name, n, got.Entries[name][n].Version, hv[n].Version)
					}
				}
			}
		})
	}
}

func TestRepoIndexDirectoryLikeHelm(t *testing.T) {
	t.Parallel()
	dir := repoDir(t, "")
	for _, base := range []string{"", "https://example.com/charts/", "https://example.com/a/b"} {
		want, err := helmrepo.IndexDirectory(dir, base)
		if err != nil {
			t.Fatal(err)
		}
		got, err := repo.IndexDirectory(dir, base, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		want.SortEntries()
		got.SortEntries()
		// Times differ by construction.
		want.Generated = time.Time{}
		for _, vs := range want.Entries {
			for _, cv := range vs {
				cv.Created = time.Time{}
			}
		}
		if !reflect.DeepEqual(asJSON(t, want), asJSON(t, got)) {
			t.Errorf("base %q: pkg's index differs from Helm's:\n%v\n%v", base, asJSON(t, want), asJSON(t, got))
		}
	}
}

// TestRepoFilesReadByHelm writes the repositories file and the cache with
// pkg and reads them with Helm, and the reverse.
func TestRepoFilesReadByHelm(t *testing.T) {
	t.Parallel()
	s := newServer(t, serverOptions{user: "u", password: "p"})
	dir := t.TempDir()
	entry := &repo.Entry{Name: "charts", URL: s.URL, Username: "u", Password: "p", CAFile: "/ca.pem", PassCredentials: true, InsecureSkipTLSVerify: true}

	t.Run("pkg writes, helm reads", func(t *testing.T) {
		path := filepath.Join(dir, "pkg", "repositories.yaml")
		f := repo.NewFile(time.Now())
		f.Update(entry)
		if err := f.WriteFile(path, 0o600); err != nil {
			t.Fatal(err)
		}
		hf, err := helmrepo.LoadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(hf.Repositories) != 1 || !reflect.DeepEqual(asJSON(t, hf.Repositories[0]), asJSON(t, entry)) {
			t.Errorf("helm read %+v", hf.Repositories)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", fi.Mode().Perm())
		}
		cache := repo.Cache{Dir: filepath.Join(dir, "pkg", "cache")}
		plain := *entry
		plain.CAFile, plain.InsecureSkipTLSVerify = "", false
		idx, err := fetcher().Update(context.Background(), &plain, cache, nil)
		if err != nil {
			t.Fatal(err)
		}
		hidx, err := helmrepo.LoadIndexFile(filepath.Join(cache.Dir, "charts-index.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(asJSON(t, hidx), asJSON(t, idx)) {
			t.Error("helm reads another index from pkg's cache")
		}
	})

	t.Run("helm writes, pkg reads", func(t *testing.T) {
		path := filepath.Join(dir, "helm", "repositories.yaml")
		he := &helmrepo.Entry{Name: "charts", URL: s.URL, Username: "u", Password: "p", CAFile: "/ca.pem", PassCredentialsAll: true, InsecureSkipTLSverify: true}
		hf := helmrepo.NewFile()
		hf.Update(he)
		if err := hf.WriteFile(path, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := repo.LoadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Get("charts"); got == nil || *got != *entry {
			t.Errorf("pkg read %+v", f.Repositories)
		}
		he.CAFile, he.InsecureSkipTLSverify = "", false
		cr, err := helmrepo.NewChartRepository(he, getter.All(helmcli.New()))
		if err != nil {
			t.Fatal(err)
		}
		cr.CachePath = filepath.Join(dir, "helm", "cache")
		if _, err := cr.DownloadIndexFile(); err != nil {
			t.Fatal(err)
		}
		cache := repo.Cache{Dir: cr.CachePath}
		idx, err := cache.LoadIndex("charts", nil)
		if err != nil {
			t.Fatal(err)
		}
		hidx, err := helmrepo.LoadIndexFile(cache.IndexPath("charts"))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(asJSON(t, hidx), asJSON(t, idx)) {
			t.Error("pkg reads another index from Helm's cache")
		}
		names, _ := os.ReadFile(cache.ChartsPath("charts"))
		if len(names) == 0 {
			t.Error("helm wrote no charts.txt")
		}
	})
}

// FuzzParseIndex checks that pkg never fails on an index Helm loads, and
// loads it to the same thing. pkg may load indexes Helm refuses (it
// ignores unknown fields and duplicate keys).
func FuzzParseIndex(f *testing.F) {
	for _, p := range helmIndexFiles(f) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    appVersion: 1.10\n"))
	f.Add([]byte("apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    digest: 0123\n    urls: [0x1F]\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := repo.ParseIndex(data, "fuzz", nil)
		p := filepath.Join(dir, "index.yaml")
		if werr := os.WriteFile(p, data, 0o644); werr != nil {
			t.Fatal(werr)
		}
		want, herr := helmrepo.LoadIndexFile(p)
		if herr != nil {
			return
		}
		if err != nil {
			t.Fatalf("helm loads what pkg refuses (%v):\n%s", err, data)
		}
		if !reflect.DeepEqual(asJSON(t, want), asJSON(t, got)) {
			t.Fatalf("loaded differently:\n%s\nhelm: %v\npkg:  %v", data, asJSON(t, want), asJSON(t, got))
		}
	})
}

// TestRepoLoadIndexChartLikeHelm resolves every chart of Helm's test
// indexes and of a generated one through LoadIndexChart and compares
// with Helm's full load.
func TestRepoLoadIndexChartLikeHelm(t *testing.T) {
	t.Parallel()
	files := append(helmIndexFiles(t), filepath.Join(repoDir(t, "https://example.com/charts"), "index.yaml"))
	for _, f := range files {
		want, err := helmrepo.LoadIndexFile(f)
		if err != nil {
			continue
		}
		for name, hv := range want.Entries {
			got, err := repo.LoadIndexChart(f, name, nil)
			if err != nil {
				t.Fatalf("%s %s: %v", f, name, err)
			}
			if !reflect.DeepEqual(asJSON(t, hv), asJSON(t, got.Entries[name])) {
				t.Errorf("%s %s: versions differ from Helm's", filepath.Base(f), name)
			}
			for _, c := range []string{"", ">0.0.0-0", "<1.0.0"} {
				hcv, herr := want.Get(name, c)
				cv, err := got.Get(name, c)
				if (herr == nil) != (err == nil) || (err == nil && hcv.Version != cv.Version) {
					t.Errorf("%s %s %q: helm %v %v, pkg %v %v", filepath.Base(f), name, c, hcv, herr, cv, err)
				}
			}
		}
	}
}
