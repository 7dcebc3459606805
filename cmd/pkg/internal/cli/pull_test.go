package cli_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPullMatchesHelm pulls the same charts with helm and pkg and
// compares what each wrote (archives are compared by name: both download
// the same bytes, which the digest check confirms) and printed.
func TestPullMatchesHelm(t *testing.T) {
	helmRef(t)
	charts := newChartRepo(t, "", "")
	auth := newChartRepo(t, "user", "secret", "hello")
	sbHelm, sbPkg := newSandbox(t), newSandbox(t)
	for _, args := range [][]string{
		{"repo", "add", "charts", charts.URL},
		{"repo", "add", "private", auth.URL, "--username", "user", "--password", "secret"},
	} {
		if o := runHelm(t, sbHelm, t.TempDir(), "", args...); o.code != 0 {
			t.Fatal(o.stderr)
		}
		if o := runPkg(t, sbPkg, "", args...); o.code != 0 {
			t.Fatal(o.stderr)
		}
	}
	cases := []struct {
		name string
		args []string
	}{
		{"latest", []string{"charts/hello"}},
		{"exact version", []string{"charts/hello", "--version", "0.1.0"}},
		{"constraint", []string{"charts/hello", "--version", "^0.2"}},
		{"devel", []string{"charts/hello", "--devel"}},
		{"several", []string{"charts/hello", "charts/nested"}},
		{"untar", []string{"charts/nested", "--untar"}},
		{"untar into a directory", []string{"charts/tgz-deps", "--untar", "--untardir", "unpacked"}},
		{"repo url", []string{"hello", "--repo", charts.URL}},
		{"repo url with version", []string{"hello", "--repo", charts.URL, "--version", "0.2.0"}},
		{"chart url", []string{charts.URL + "/nested-1.0.0.tgz"}},
		{"private repository", []string{"private/hello"}},
		{"private repo url", []string{"hello", "--repo", auth.URL, "--username", "user", "--password", "secret"}},
		{"unknown chart", []string{"charts/nope"}},
		{"unknown version", []string{"charts/hello", "--version", "9.9.9"}},
		{"unknown repository", []string{"nope/hello"}},
		{"bare name", []string{"hello"}},
		{"missing chart url", []string{charts.URL + "/nope-1.0.0.tgz"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hdir, pdir := t.TempDir(), t.TempDir()
			h := runHelm(t, sbHelm, hdir, "", append([]string{"pull"}, tc.args...)...)
			p := runPkg(t, sbPkg, "", append([]string{"pull", "-d", pdir}, tc.args...)...)
			if h.code != p.code {
				t.Fatalf("exit status: helm %d, pkg %d\nhelm: %s\npkg: %s", h.code, p.code, h.stderr, p.stderr)
			}
			if h.stdout != p.stdout {
				t.Errorf("standard output:\nhelm: %s\npkg:  %s", h.stdout, p.stdout)
			}
			if h.code != 0 {
				return
			}
			hl, pl := listing(t, hdir), listing(t, pdir)
			if hl != pl {
				t.Errorf("files differ:\nhelm:\n%s\npkg:\n%s", hl, pl)
			}
		})
	}
}

// listing names the files under dir with their sizes.
func listing(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if fi.IsDir() {
			b.WriteString(rel + "/\n")
			return nil
		}
		data, _ := os.ReadFile(p)
		fmt.Fprintf(&b, "%s %d\n", rel, len(data))
		return nil
	})
	return b.String()
}

// TestTemplateAndShowFromRepository renders and shows charts given as
// REPO/CHART, --repo URL and archive URL with helm and pkg.
func TestTemplateAndShowFromRepository(t *testing.T) {
	helmRef(t)
	charts := newChartRepo(t, "", "")
	sbHelm, sbPkg := newSandbox(t), newSandbox(t)
	for _, sb := range []sandbox{sbHelm, sbPkg} {
		if o := runHelm(t, sb, t.TempDir(), "", "repo", "add", "charts", charts.URL); o.code != 0 {
			t.Fatal(o.stderr)
		}
	}
	cases := [][]string{
		{"template", "rel", "charts/hello"},
		{"template", "rel", "charts/hello", "--version", "0.2.0"},
		{"template", "rel", "charts/hello", "--devel"},
		{"template", "rel", "hello", "--repo", charts.URL},
		{"template", "rel", charts.URL + "/nested-1.0.0.tgz"},
		{"template", "rel", "charts/nope"},
		{"show", "chart", "charts/hello"},
		{"show", "values", "charts/nested"},
		{"show", "chart", "charts/hello", "--version", "0.1.0"},
		{"show", "chart", "hello", "--repo", charts.URL, "--devel"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			h := runHelm(t, sbHelm, t.TempDir(), "", args...)
			p := runPkg(t, sbPkg, "", args...)
			if h.code != p.code || h.stdout != p.stdout {
				t.Errorf("helm (%d):\n%s%s\npkg (%d):\n%s%s", h.code, h.stdout, h.stderr, p.code, p.stdout, p.stderr)
			}
		})
	}
}

// TestPullBadArchives checks that a tampered archive (digest mismatch)
// and an archive escaping its directory are refused with an error naming
// the repository, URL and chart, and that nothing is written.
func TestPullBadArchives(t *testing.T) {
	t.Parallel()
	charts := newChartRepo(t, "", "")
	sb := newSandbox(t)
	if o := runPkg(t, sb, "", "repo", "add", "charts", charts.URL); o.code != 0 {
		t.Fatal(o.stderr)
	}
	// Tamper with hello 0.1.0 after indexing: same chart, other bytes.
	tampered := filepath.Join(charts.dir, "hello-0.1.0.tgz")
	other, err := os.ReadFile(filepath.Join(charts.dir, "hello-0.2.0.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tampered, other, 0o644); err != nil {
		t.Fatal(err)
	}
	// Replace nested with an archive whose entry escapes the chart.
	evil := evilArchive(t)
	if err := os.WriteFile(filepath.Join(charts.dir, "nested-1.0.0.tgz"), evil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"digest mismatch", []string{"pull", "charts/hello", "--version", "0.1.0"}, []string{"digest mismatch", `"charts"`, charts.URL + "/hello-0.1.0.tgz", "hello"}},
		{"digest mismatch untar", []string{"pull", "charts/hello", "--version", "0.1.0", "--untar"}, []string{"digest mismatch"}},
		{"path traversal", []string{"pull", "charts/nested", "--untar"}, []string{"not a valid chart archive", charts.URL + "/nested-1.0.0.tgz", `"charts"`}},
		{"template path traversal", []string{"template", "charts/nested"}, []string{"not a valid chart archive"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dest := t.TempDir()
			before := treeListing(t, sb["HOME"])
			args := tc.args
			if args[0] == "pull" {
				args = append(args, "-d", dest)
			}
			o := runPkg(t, sb, "", args...)
			if o.code == 0 {
				t.Fatalf("succeeded: %s", o.stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(o.stderr, w) {
					t.Errorf("error %q does not name %q", o.stderr, w)
				}
			}
			if entries, _ := os.ReadDir(dest); len(entries) != 0 {
				t.Errorf("pull left %d files in the destination", len(entries))
			}
			if after := treeListing(t, sb["HOME"]); len(after) != len(before) {
				t.Errorf("the cache changed")
			}
		})
	}
}

// evilArchive is a gzipped tar whose second entry leaves the chart.
func evilArchive(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []struct{ name, body string }{
		{"nested/Chart.yaml", "apiVersion: v2\nname: nested\nversion: 1.0.0\n"},
		{"nested/../../../escape.txt", "gotcha"},
	} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(f.body))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}
