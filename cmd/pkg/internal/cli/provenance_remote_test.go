package cli_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/internal/testcluster"
	"pkg.dev/pkg/repo"
)

// signedRepo is a chart repository on loopback holding hello 0.1.0
// signed with a fresh key (its .prov beside it), nested 1.0.0 unsigned,
// and hello 0.2.0 whose .prov was made for other bytes (a digest
// mismatch).
type signedRepo struct {
	URL     string
	pubring string // the signer's public keyring
	other   string // a keyring without the signer's key
}

// signChart saves c into dest and signs it with the key "Chart Signer"
// of secring, and returns the archive's path.
func signChart(t *testing.T, c *chart.Chart, dest, secring string) string {
	t.Helper()
	archive, err := chart.Save(c, dest)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := repo.LoadKeyring(secring)
	if err != nil {
		t.Fatal(err)
	}
	key, err := repo.SigningKey(ring, "Chart Signer")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Sign(archive, key, nil); err != nil {
		t.Fatal(err)
	}
	return archive
}

func newSignedRepo(t *testing.T) *signedRepo {
	t.Helper()
	keys := t.TempDir()
	secring, pubring := writeKeyrings(t, keys, "")
	_, other := writeKeyrings(t, t.TempDir(), "")
	dir := t.TempDir()
	sign := func(c *chart.Chart, dest string) string {
		t.Helper()
		return signChart(t, c, dest, secring)
	}
	load := func(name string) *chart.Chart {
		c, err := chart.Load(filepath.Join(chartsDir(t), name))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	sign(load("hello"), dir)
	if _, err := chart.Save(load("nested"), dir); err != nil {
		t.Fatal(err)
	}
	// hello 0.2.0: signed, then replaced by other bytes of the same name
	// (the index records the new bytes' digest, so only the provenance
	// check can catch it).
	c := load("hello")
	c.Metadata.Version = "0.2.0"
	signed := sign(c, t.TempDir())
	prov, err := os.ReadFile(signed + ".prov")
	if err != nil {
		t.Fatal(err)
	}
	c.Metadata.Description = "tampered"
	if _, err := chart.Save(c, dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello-0.2.0.tgz.prov"), prov, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := repo.WriteDirectoryIndex(dir, repo.IndexOptions{Now: time.Unix(1700000000, 0).UTC()}); err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(s.Close)
	return &signedRepo{URL: s.URL, pubring: pubring, other: other}
}

// TestPullVerifyFromRepository downloads charts with --verify and --prov
// from an HTTP repository with helm and pkg: the same output, the same
// files, the same failures; and pkg leaves nothing behind when a check
// fails (helm keeps the archive).
func TestPullVerifyFromRepository(t *testing.T) {
	helmRef(t)
	sbHelm, sbPkg := newSandbox(t), newSandbox(t)
	r := newSignedRepo(t)
	for _, sb := range []sandbox{sbHelm, sbPkg} {
		args := []string{"repo", "add", "signed", r.URL}
		var o outcome
		if sb["HOME"] == sbHelm["HOME"] {
			o = runHelm(t, sb, t.TempDir(), "", args...)
		} else {
			o = runPkg(t, sb, "", args...)
		}
		if o.code != 0 {
			t.Fatal(o.stderr)
		}
	}
	cases := []struct {
		name  string
		args  []string
		files string // what pkg leaves in the destination
		fail  string // a part of pkg's error
	}{
		{"repo/chart", []string{"signed/hello", "--version", "0.1.0", "--verify"}, "hello-0.1.0.tgz hello-0.1.0.tgz.prov", ""},
		{"--repo", []string{"hello", "--repo", r.URL, "--version", "0.1.0", "--verify"}, "hello-0.1.0.tgz hello-0.1.0.tgz.prov", ""},
		{"chart url", []string{r.URL + "/hello-0.1.0.tgz", "--verify"}, "hello-0.1.0.tgz hello-0.1.0.tgz.prov", ""},
		{"untar", []string{"signed/hello", "--version", "0.1.0", "--verify", "--untar"}, "hello", ""},
		{"prov only", []string{"signed/hello", "--version", "0.1.0", "--prov"}, "hello-0.1.0.tgz hello-0.1.0.tgz.prov", ""},
		{"prov missing, --prov", []string{"signed/nested", "--prov"}, "nested-1.0.0.tgz", ""},
		{"prov missing, --verify", []string{"signed/nested", "--verify"}, "",
			`failed to fetch provenance "` + r.URL + `/nested-1.0.0.tgz.prov": downloading provenance of chart "nested-1.0.0" from repository "signed"`},
		{"unknown signer", []string{"signed/hello", "--version", "0.1.0", "--verify", "--keyring", r.other}, "",
			`verifying chart "hello-0.1.0.tgz" from ` + r.URL + `/hello-0.1.0.tgz: ` + r.URL + `/hello-0.1.0.tgz.prov: the signature does not verify with the keyring: openpgp: signature made by unknown entity`},
		{"digest mismatch", []string{"signed/hello", "--version", "0.2.0", "--verify"}, "",
			`verifying chart "hello-0.2.0.tgz" from ` + r.URL + `/hello-0.2.0.tgz: sha256 sum does not match for hello-0.2.0.tgz`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hdir, pdir := t.TempDir(), t.TempDir()
			args := append([]string{"pull", "--keyring", r.pubring}, tc.args...)
			h := runHelm(t, sbHelm, hdir, "", args...)
			p := runPkg(t, sbPkg, "", append(args, "-d", pdir)...)
			if h.code != p.code {
				t.Fatalf("exit status: helm %d, pkg %d\nhelm: %s\npkg: %s", h.code, p.code, h.stderr, p.stderr)
			}
			if h.stdout != p.stdout {
				t.Errorf("standard output:\nhelm: %q\npkg:  %q", h.stdout, p.stdout)
			}
			if got := names(t, pdir); got != tc.files {
				t.Errorf("pkg left %q in the destination, want %q", got, tc.files)
			}
			if tc.fail != "" && !strings.Contains(p.stderr, tc.fail) {
				t.Errorf("pkg's error %q lacks %q", p.stderr, tc.fail)
			}
			if p.code == 0 && tc.files != "hello" {
				// The same files as helm's, byte for byte.
				for _, f := range strings.Fields(tc.files) {
					hb, _ := os.ReadFile(filepath.Join(hdir, f))
					pb, _ := os.ReadFile(filepath.Join(pdir, f))
					if len(hb) == 0 || string(hb) != string(pb) {
						t.Errorf("%s differs from helm's", f)
					}
				}
			}
		})
	}

	// template and show verify what they download, as install does.
	t.Run("template and show", func(t *testing.T) {
		for _, args := range [][]string{
			{"template", "rel", "signed/hello", "--version", "0.1.0", "--verify", "--keyring", r.pubring},
			{"show", "chart", "signed/hello", "--version", "0.1.0", "--verify", "--keyring", r.pubring},
			{"template", "rel", "signed/hello", "--version", "0.2.0", "--verify", "--keyring", r.pubring},
			{"template", "rel", "signed/nested", "--verify", "--keyring", r.pubring},
			{"template", "rel", "hello", "--repo", r.URL, "--version", "0.1.0", "--verify", "--keyring", r.other},
		} {
			h := runHelm(t, sbHelm, t.TempDir(), "", args...)
			p := runPkg(t, sbPkg, "", args...)
			if h.code != p.code || h.stdout != p.stdout {
				t.Errorf("%q: helm %d %s / pkg %d %s\nhelm stdout:\n%s\npkg stdout:\n%s", args, h.code, h.stderr, p.code, p.stderr, h.stdout, p.stdout)
			}
		}
		// A chart that failed verification is not left in the cache.
		cache := filepath.Join(sbPkg["HELM_CACHE_HOME"], "repository")
		for _, f := range []string{"hello-0.2.0.tgz", "nested-1.0.0.tgz"} {
			if _, err := os.Stat(filepath.Join(cache, f)); err == nil {
				t.Errorf("%s was cached though it did not verify", f)
			}
		}
	})
}

// TestInstallVerifyFromRepository: install and upgrade --verify check
// what they download from a repository as helm's do, against two API
// servers: a signed chart installs, an unknown signer, a missing .prov
// and a tampered archive fail and install nothing.
func TestInstallVerifyFromRepository(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the reference helm binary against two API servers")
	}
	helmRef(t)
	r := newSignedRepo(t)
	ours, theirs := testcluster.Start(t), testcluster.Start(t)
	psb, hsb := newSandbox(t), newSandbox(t)
	psb["KUBECONFIG"], hsb["KUBECONFIG"] = ours.Kubeconfig, theirs.Kubeconfig
	for _, sb := range []sandbox{psb, hsb} {
		if o := runHelm(t, sb, t.TempDir(), "", "repo", "add", "signed", r.URL); o.code != 0 {
			t.Fatal(o.stderr)
		}
	}
	for _, args := range [][]string{
		{"install", "web", "signed/hello", "--version", "0.1.0", "--verify", "--keyring", r.pubring},
		{"upgrade", "web", "signed/hello", "--version", "0.1.0", "--verify", "--keyring", r.other},
		{"upgrade", "web", "hello", "--repo", r.URL, "--version", "0.1.0", "--verify", "--keyring", r.pubring},
		{"install", "web2", "signed/nested", "--verify", "--keyring", r.pubring},
		{"install", "web3", r.URL + "/hello-0.2.0.tgz", "--verify", "--keyring", r.pubring},
		{"list", "-a"},
	} {
		p := runPkg(t, psb, "", args...)
		h := runHelm(t, hsb, t.TempDir(), "", args...)
		name := strings.Join(args[:min(3, len(args))], " ")
		if p.code != h.code {
			t.Errorf("%s: exit helm %d, pkg %d\nhelm: %s\npkg: %s", name, h.code, p.code, h.stderr, p.stderr)
			continue
		}
		if hs, ps := normalizeRelease(h.stdout), normalizeRelease(p.stdout); hs != ps {
			t.Errorf("%s: output differs:\n%s", name, diffText(hs, ps))
		}
	}
}

// TestDependencyVerifyFromRepository resolves dependencies with --verify
// with helm and pkg: signed ones are fetched with their .prov, an
// unsigned or tampered one fails and pkg leaves charts/ as it was.
func TestDependencyVerifyFromRepository(t *testing.T) {
	helmRef(t)
	sb := newSandbox(t)
	r := newSignedRepo(t)
	// helm's dependency build wants the repository added.
	if o := runPkg(t, sb, "", "repo", "add", "signed", r.URL); o.code != 0 {
		t.Fatal(o.stderr)
	}
	cases := []struct {
		name, dep string
		ok        bool
		fail      string
	}{
		{"signed", "- name: hello\n  version: 0.1.0\n  repository: " + r.URL + "\n", true, ""},
		{"unsigned", "- name: nested\n  version: 1.0.0\n  repository: " + r.URL + "\n", false,
			"could not download " + r.URL + "/nested-1.0.0.tgz: failed to fetch provenance"},
		{"tampered", "- name: hello\n  version: 0.2.0\n  repository: " + r.URL + "\n", false,
			"sha256 sum does not match for hello-0.2.0.tgz"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			listings := map[string]string{}
			for _, who := range []string{"helm", "pkg"} {
				dir := filepath.Join(t.TempDir(), "app")
				if err := os.MkdirAll(filepath.Join(dir, "charts"), 0o755); err != nil {
					t.Fatal(err)
				}
				os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n"+tc.dep), 0o644)
				old, err := chart.Load(filepath.Join(chartsDir(t), "hello"))
				if err != nil {
					t.Fatal(err)
				}
				old.Metadata.Version = "0.0.9"
				if _, err := chart.Save(old, filepath.Join(dir, "charts")); err != nil {
					t.Fatal(err)
				}
				for _, verb := range []string{"update", "build"} {
					args := []string{"dependency", verb, dir, "--verify", "--keyring", r.pubring}
					var o outcome
					if who == "helm" {
						o = runHelm(t, sb, dir, "", args...)
					} else {
						o = runPkg(t, sb, "", args...)
					}
					if (o.code == 0) != tc.ok {
						t.Fatalf("%s dependency %s: exit %d: %s", who, verb, o.code, o.stderr)
					}
					if who == "pkg" && tc.fail != "" && !strings.Contains(o.stderr, tc.fail) {
						t.Errorf("pkg's error %q lacks %q", o.stderr, tc.fail)
					}
					if !tc.ok {
						break
					}
				}
				listings[who] = names(t, filepath.Join(dir, "charts"))
			}
			if tc.ok && listings["pkg"] != "hello-0.1.0.tgz" {
				t.Errorf("pkg's charts/: %q", listings["pkg"])
			}
			if !tc.ok && listings["pkg"] != "hello-0.0.9.tgz" {
				t.Errorf("pkg changed charts/ though verification failed: %q", listings["pkg"])
			}
			if tc.ok && listings["helm"] != listings["pkg"] {
				t.Errorf("charts/ differ: helm %q, pkg %q", listings["helm"], listings["pkg"])
			}
		})
	}
}

// names lists the entries of dir, space-separated and sorted.
func names(t *testing.T, dir string) string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return strings.Join(out, " ")
}
