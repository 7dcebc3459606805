package cli_test

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/repo"
)

// chartRepo is a chart repository served from a directory of archives
// built by chart.Save from testdata/charts, with basic auth when user is
// set.
type chartRepo struct {
	*httptest.Server
	dir string
}

func newChartRepo(t *testing.T, user, password string, charts ...string) *chartRepo {
	t.Helper()
	if len(charts) == 0 {
		charts = []string{"hello", "nested", "tgz-deps", "crds"}
	}
	dir := t.TempDir()
	for _, name := range charts {
		c, err := chart.Load(filepath.Join(chartsDir(t), name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := chart.Save(c, dir); err != nil {
			t.Fatal(err)
		}
	}
	// A second, newer and a pre-release version of hello.
	for _, v := range []string{"0.2.0", "0.3.0-rc.1"} {
		c, err := chart.Load(filepath.Join(chartsDir(t), "hello"))
		if err != nil {
			t.Fatal(err)
		}
		c.Metadata.Version = v
		c.Metadata.Description = "hello at " + v
		if _, err := chart.Save(c, dir); err != nil {
			t.Fatal(err)
		}
	}
	if err := repo.WriteDirectoryIndex(dir, repo.IndexOptions{Now: time.Unix(1700000000, 0).UTC()}); err != nil {
		t.Fatal(err)
	}
	r := &chartRepo{dir: dir}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if user != "" {
			if u, p, ok := req.BasicAuth(); !ok || u != user || p != password {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		http.FileServer(http.Dir(dir)).ServeHTTP(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

// serveText is a server answering every request with body.
func serveText(t *testing.T, status int, body string) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(s.Close)
	return s.URL
}

// helmNames replaces the places where pkg's messages name itself.
func pkgToHelm(s string) string {
	return strings.NewReplacer("'pkg repo update'", "'helm repo update'").Replace(s)
}

// TestRepoCommandsMatchHelm runs the same sequence of repo and search
// commands with helm and pkg, each in its own sandbox against the same
// servers, and compares every outcome.
func TestRepoCommandsMatchHelm(t *testing.T) {
	helmRef(t)
	charts := newChartRepo(t, "", "")
	auth := newChartRepo(t, "user", "secret", "hello")
	sbHelm, sbPkg := newSandbox(t), newSandbox(t)
	steps := []struct {
		name string
		args []string
	}{
		{"list with no repositories", []string{"repo", "list"}},
		{"list json with no repositories", []string{"repo", "list", "-o", "json"}},
		{"update with no repositories", []string{"repo", "update"}},
		{"search with no repositories", []string{"search", "repo", "hello"}},
		{"add", []string{"repo", "add", "charts", charts.URL}},
		{"add again", []string{"repo", "add", "charts", charts.URL}},
		{"add other url under the same name", []string{"repo", "add", "charts", auth.URL}},
		{"add with a slash in the name", []string{"repo", "add", "a/b", charts.URL}},
		{"add with credentials", []string{"repo", "add", "private", auth.URL, "--username", "user", "--password", "secret"}},
		{"add force update", []string{"repo", "add", "charts", charts.URL, "--force-update"}},
		{"list", []string{"repo", "list"}},
		{"list json", []string{"repo", "list", "-o", "json"}},
		{"list yaml", []string{"repo", "list", "-o", "yaml"}},
		{"list bad format", []string{"repo", "list", "-o", "xml"}},
		{"update one", []string{"repo", "update", "charts"}},
		{"update unknown", []string{"repo", "update", "nope"}},
		{"search all", []string{"search", "repo"}},
		{"search keyword", []string{"search", "repo", "hello"}},
		{"search versions", []string{"search", "repo", "hello", "--versions"}},
		{"search devel", []string{"search", "repo", "hello", "--devel"}},
		{"search devel versions", []string{"search", "repo", "hello", "--devel", "-l"}},
		{"search constraint", []string{"search", "repo", "hello", "--version", "<0.2.0"}},
		{"search bad constraint", []string{"search", "repo", "hello", "--version", "not a constraint"}},
		{"search regexp", []string{"search", "repo", "-r", "h.l+o"}},
		{"search bad regexp", []string{"search", "repo", "-r", "h(l"}},
		{"search description", []string{"search", "repo", "HELLO AT"}},
		{"search json", []string{"search", "repo", "hello", "-o", "json"}},
		{"search yaml", []string{"search", "repo", "-o", "yaml"}},
		{"search no match", []string{"search", "repo", "no-such-chart"}},
		{"search no match fails", []string{"search", "repo", "no-such-chart", "--fail-on-no-result"}},
		{"search narrow columns", []string{"search", "repo", "--max-col-width", "8"}},
		{"remove", []string{"repo", "remove", "private"}},
		{"remove again", []string{"repo", "remove", "private"}},
		{"list after remove", []string{"repo", "list"}},
		{"remove the last", []string{"repo", "rm", "charts"}},
		{"remove with none left", []string{"repo", "remove", "charts"}},
	}
	for _, s := range steps {
		h := runHelm(t, sbHelm, t.TempDir(), "", s.args...)
		p := runPkg(t, sbPkg, "", s.args...)
		h.stdout, h.stderr = pkgToHelm(h.stdout), pkgToHelm(h.stderr)
		p.stdout, p.stderr = pkgToHelm(p.stdout), pkgToHelm(p.stderr)
		t.Run(s.name, func(t *testing.T) {
			if h.code != p.code {
				t.Fatalf("exit status: helm %d, pkg %d\nhelm: %s%s\npkg: %s%s", h.code, p.code, h.stdout, h.stderr, p.stdout, p.stderr)
			}
			if h.stdout != p.stdout {
				t.Errorf("standard output differs:\nhelm:\n%s\npkg:\n%s", h.stdout, p.stdout)
			}
			he, pe := firstErrorLine(h.stderr), firstErrorLine(p.stderr)
			if he != pe && !strings.Contains(s.name, "bad") {
				t.Errorf("error differs:\nhelm: %s\npkg:  %s", he, pe)
			}
			if (he == "") != (pe == "") {
				t.Errorf("only one failed:\nhelm: %s\npkg:  %s", he, pe)
			}
		})
	}
}

// TestRepoFilesShared checks that helm uses what `pkg repo add` wrote and
// pkg what `helm repo add` wrote.
func TestRepoFilesShared(t *testing.T) {
	helmRef(t)
	charts := newChartRepo(t, "", "")
	for _, writer := range []string{"helm", "pkg"} {
		t.Run(writer+" adds", func(t *testing.T) {
			sb := newSandbox(t)
			args := []string{"repo", "add", "charts", charts.URL}
			var o outcome
			if writer == "helm" {
				o = runHelm(t, sb, t.TempDir(), "", args...)
			} else {
				o = runPkg(t, sb, "", args...)
			}
			if o.code != 0 {
				t.Fatal(o.stderr)
			}
			for _, args := range [][]string{{"repo", "list"}, {"search", "repo", "--versions"}} {
				h := runHelm(t, sb, t.TempDir(), "", args...)
				p := runPkg(t, sb, "", args...)
				if h.code != 0 || p.code != 0 || h.stdout != p.stdout {
					t.Errorf("%v after %s repo add:\nhelm (%d):\n%s%s\npkg (%d):\n%s%s", args, writer, h.code, h.stdout, h.stderr, p.code, p.stdout, p.stderr)
				}
			}
		})
	}
}

// TestRepoBadInputLeavesFiles checks that failing commands exit non-zero,
// name the repository and URL, and leave repositories.yaml and the cache
// as they were.
func TestRepoBadInputLeavesFiles(t *testing.T) {
	t.Parallel()
	charts := newChartRepo(t, "", "")
	auth := newChartRepo(t, "user", "secret", "hello")
	good, err := os.ReadFile(filepath.Join(charts.dir, "index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"404", []string{"repo", "add", "bad", charts.URL + "/missing"}, "404 Not Found"},
		{"wrong credentials", []string{"repo", "add", "bad", auth.URL, "--username", "user", "--password", "wrong"}, "401 Unauthorized"},
		{"no credentials", []string{"repo", "add", "bad", auth.URL}, "401 Unauthorized"},
		{"corrupt index", []string{"repo", "add", "bad", serveText(t, 200, "apiVersion: v1\nentries: [\n")}, "yaml"},
		{"truncated index", []string{"repo", "add", "bad", serveText(t, 200, string(good[:len(good)/3])+"\n\"")}, "yaml"},
		{"garbage", []string{"repo", "add", "bad", serveText(t, 200, "\x00\x01\x02garbage")}, ""},
		{"server error", []string{"repo", "add", "bad", serveText(t, 500, "oops")}, "500"},
		{"update failing repository", []string{"repo", "update", "charts", "--fail-on-repo-update-fail"}, "Failed to update the following repositories"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := newSandbox(t)
			if o := runPkg(t, sb, "", "repo", "add", "charts", charts.URL); o.code != 0 {
				t.Fatal(o.stderr)
			}
			if tc.name == "update failing repository" {
				// The repository's server goes away.
				cfg := filepath.Join(sb["HELM_CONFIG_HOME"], "repositories.yaml")
				f, err := repo.LoadFile(cfg)
				if err != nil {
					t.Fatal(err)
				}
				f.Get("charts").URL = charts.URL + "/gone"
				if err := f.WriteFile(cfg, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before := treeListing(t, sb["HOME"])
			o := runPkg(t, sb, "", tc.args...)
			if o.code == 0 {
				t.Fatalf("succeeded:\n%s", o.stdout)
			}
			msg := firstErrorLine(o.stderr)
			url := tc.args[3]
			if tc.name == "update failing repository" {
				url = charts.URL + "/gone"
				msg = o.stdout + msg
			}
			if !strings.Contains(msg, url) || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q should name %s and %q", msg, url, tc.want)
			}
			if after := treeListing(t, sb["HOME"]); !reflect.DeepEqual(before, after) {
				t.Errorf("files changed")
			}
		})
	}
}

// TestRepoAddWritesHelmBytes checks that `pkg repo add` writes the same
// repositories.yaml, byte for byte and with the same mode, as
// `helm repo add`, and caches the same files.
func TestRepoAddWritesHelmBytes(t *testing.T) {
	helmRef(t)
	charts := newChartRepo(t, "", "")
	sbHelm, sbPkg := newSandbox(t), newSandbox(t)
	for _, args := range [][]string{
		{"repo", "add", "charts", charts.URL},
		{"repo", "add", "private", charts.URL, "--username", "u", "--password", "p", "--pass-credentials", "--insecure-skip-tls-verify"},
		{"repo", "add", "charts", charts.URL + "/", "--force-update"},
	} {
		if o := runHelm(t, sbHelm, t.TempDir(), "", args...); o.code != 0 {
			t.Fatal(o.stderr)
		}
		if o := runPkg(t, sbPkg, "", args...); o.code != 0 {
			t.Fatal(o.stderr)
		}
	}
	read := func(sb sandbox, rel ...string) (string, os.FileMode) {
		p := filepath.Join(append([]string{sb["HELM_CONFIG_HOME"]}, rel...)...)
		if rel[0] == "cache" {
			p = filepath.Join(append([]string{sb["HELM_CACHE_HOME"], "repository"}, rel[1:]...)...)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(p)
		return string(b), fi.Mode().Perm()
	}
	for _, rel := range [][]string{{"repositories.yaml"}, {"cache", "charts-index.yaml"}, {"cache", "private-index.yaml"}} {
		h, hm := read(sbHelm, rel...)
		p, pm := read(sbPkg, rel...)
		if h != p || hm != pm {
			t.Errorf("%v differs (helm mode %v, pkg mode %v):\nhelm:\n%s\npkg:\n%s", rel, hm, pm, h, p)
		}
	}
	// charts.txt: Helm writes the names in map order, pkg sorted.
	h, _ := read(sbHelm, "cache", "charts-charts.txt")
	p, _ := read(sbPkg, "cache", "charts-charts.txt")
	if sortedLines(h) != sortedLines(p) {
		t.Errorf("charts.txt: helm %q, pkg %q", h, p)
	}
}

// indexTimes matches the generated and created times of an index.
var indexTimes = regexp.MustCompile(`(?m)^(\s*(?:generated|created|"generated"|"created"):\s*).*$`)

// TestRepoIndexMatchesHelm indexes the same directory of archives with
// helm and pkg (plain, --url, --merge, --json) and compares the indexes
// up to their indexTimes.
func TestRepoIndexMatchesHelm(t *testing.T) {
	helmRef(t)
	src := newChartRepo(t, "", "").dir
	sb := newSandbox(t)
	// A nested directory and a file that is not a chart.
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	b, _ := os.ReadFile(filepath.Join(src, "crds-0.5.0.tgz"))
	os.WriteFile(filepath.Join(src, "sub", "crds-0.5.0.tgz"), b, 0o644)
	os.WriteFile(filepath.Join(src, "broken-1.0.0.tgz"), []byte("junk"), 0o644)
	old := filepath.Join(t.TempDir(), "old.yaml")
	os.WriteFile(old, []byte("apiVersion: v1\nentries:\n  legacy:\n  - name: legacy\n    version: 0.0.1\n    urls: [https://old.example.com/legacy-0.0.1.tgz]\n  hello:\n  - name: hello\n    version: 0.1.0\n    description: from the old index\n    urls: [https://old.example.com/hello-0.1.0.tgz]\n"), 0o644)
	cases := [][]string{
		{},
		{"--url", "https://charts.example.com/stable"},
		{"--url", "https://charts.example.com/stable/", "--merge", old},
		{"--json"},
		{"--merge", filepath.Join(t.TempDir(), "missing.yaml")},
	}
	for _, flags := range cases {
		t.Run(strings.Join(flags, " "), func(t *testing.T) {
			out := map[string]string{}
			for _, who := range []string{"helm", "pkg"} {
				dir := filepath.Join(t.TempDir(), "repo")
				copyTree(t, src, dir)
				os.Remove(filepath.Join(dir, "index.yaml"))
				args := append([]string{"repo", "index", dir}, flags...)
				var o outcome
				if who == "helm" {
					o = runHelm(t, sb, t.TempDir(), "", args...)
				} else {
					o = runPkg(t, sb, "", args...)
				}
				if o.code != 0 {
					t.Fatalf("%s: %s", who, o.stderr)
				}
				b, err := os.ReadFile(filepath.Join(dir, "index.yaml"))
				if err != nil {
					t.Fatal(err)
				}
				out[who] = indexTimes.ReplaceAllString(string(b), "${1}TIME")
			}
			if out["helm"] != out["pkg"] {
				t.Errorf("indexes differ:\n%s", diffText(out["helm"], out["pkg"]))
			}
		})
	}
}

// TestRepoTLSAndStdinPassword adds repositories served over TLS (with a
// CA file, skipping verification, and neither) and over basic auth with
// the password on standard input, then pulls through them.
func TestRepoTLSAndStdinPassword(t *testing.T) {
	t.Parallel()
	plain := newChartRepo(t, "user", "secret", "hello")
	secure := httptest.NewTLSServer(http.FileServer(http.Dir(plain.dir)))
	t.Cleanup(secure.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: secure.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	sb := newSandbox(t)
	steps := []struct {
		stdin string
		args  []string
		ok    bool
	}{
		{"", []string{"repo", "add", "tls", secure.URL}, false},
		{"", []string{"repo", "add", "tls", secure.URL, "--ca-file", ca}, true},
		{"", []string{"repo", "add", "insecure", secure.URL, "--insecure-skip-tls-verify"}, true},
		{"secret\n", []string{"repo", "add", "private", plain.URL, "--username", "user", "--password-stdin"}, true},
		{"wrong\n", []string{"repo", "add", "private2", plain.URL, "--username", "user", "--password-stdin"}, false},
		{"", []string{"pull", "tls/hello", "-d", t.TempDir()}, true},
		{"", []string{"pull", "insecure/hello", "-d", t.TempDir()}, true},
		{"", []string{"pull", "private/hello", "-d", t.TempDir()}, true},
		{"", []string{"pull", "hello", "--repo", secure.URL, "-d", t.TempDir()}, false},
		{"", []string{"pull", "hello", "--repo", secure.URL, "--ca-file", ca, "-d", t.TempDir()}, true},
		{"", []string{"pull", "hello", "--repo", secure.URL, "--insecure-skip-tls-verify", "-d", t.TempDir()}, true},
	}
	for _, s := range steps {
		o := runPkg(t, sb, s.stdin, s.args...)
		if (o.code == 0) != s.ok {
			t.Errorf("%v: exit %d, want success %v\n%s%s", s.args, o.code, s.ok, o.stdout, o.stderr)
		}
	}
	f, err := repo.LoadFile(filepath.Join(sb["HELM_CONFIG_HOME"], "repositories.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if e := f.Get("private"); e == nil || e.Password != "secret" {
		t.Errorf("private: %+v", e)
	}
	if e := f.Get("tls"); e == nil || e.CAFile != ca {
		t.Errorf("tls: %+v", e)
	}
	if f.Has("private2") {
		t.Error("a repository whose credentials were refused was added")
	}
}

// TestRepoPathsFromEnvironmentAndFlags checks that HELM_REPOSITORY_CONFIG,
// HELM_REPOSITORY_CACHE and the --repository-config/--repository-cache
// flags choose the files every repository command uses.
func TestRepoPathsFromEnvironmentAndFlags(t *testing.T) {
	t.Parallel()
	charts := newChartRepo(t, "", "", "hello")
	dir := t.TempDir()
	sb := newSandbox(t)
	sb["HELM_REPOSITORY_CONFIG"] = filepath.Join(dir, "env", "repos.yaml")
	sb["HELM_REPOSITORY_CACHE"] = filepath.Join(dir, "env", "cache")
	flags := []string{"--repository-config", filepath.Join(dir, "flags", "repos.yaml"), "--repository-cache", filepath.Join(dir, "flags", "cache")}
	for _, args := range [][]string{
		{"repo", "add", "viaenv", charts.URL},
		append([]string{"repo", "add", "viaflags", charts.URL}, flags...),
	} {
		if o := runPkg(t, sb, "", args...); o.code != 0 {
			t.Fatal(o.stderr)
		}
	}
	for _, p := range []string{"env/repos.yaml", "env/cache/viaenv-index.yaml", "flags/repos.yaml", "flags/cache/viaflags-index.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(sb["HELM_CONFIG_HOME"], "repositories.yaml")); err == nil {
		t.Error("the default repositories file was written")
	}
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"template", "viaenv/hello"}, true},
		{[]string{"template", "viaflags/hello"}, false},
		{append([]string{"template", "viaflags/hello"}, flags...), true},
		{append([]string{"show", "chart", "viaflags/hello"}, flags...), true},
		{append([]string{"search", "repo", "hello"}, flags...), true},
		{[]string{"repo", "list"}, true},
	} {
		o := runPkg(t, sb, "", tc.args...)
		if (o.code == 0) != tc.ok {
			t.Errorf("%v: exit %d, want success %v: %s", tc.args, o.code, tc.ok, o.stderr)
		}
		if tc.ok && tc.args[0] == "template" {
			if _, err := os.Stat(filepath.Join(dir, map[bool]string{true: "flags", false: "env"}[len(tc.args) > 2], "cache", "hello-0.2.0.tgz")); err != nil {
				t.Errorf("%v: archive not in the chosen cache: %v", tc.args, err)
			}
		}
	}
}
