package cli_test

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestPackageLoadsInHelm packages charts with pkg and checks that Helm's
// binary reads the archives exactly as it reads the chart directories, and
// that the archives hold what Helm's own archives hold.
func TestPackageLoadsInHelm(t *testing.T) {
	helmRef(t)
	c := chartsDir(t)
	for _, tc := range []struct {
		name  string
		src   string
		extra []string
	}{
		{"hello", filepath.Join(c, "hello"), nil},
		{"subcharts", filepath.Join(c, "nested"), nil},
		{"archived subcharts", filepath.Join(c, "tgz-deps"), nil},
		{"crds", filepath.Join(c, "crds"), nil},
		{"helmignore", filepath.Join(c, "helmignore"), nil},
		{"library", filepath.Join(c, "errors", "library-chart"), nil},
		{"readme and crds", filepath.Join(localCharts(t), "readme-crds"), nil},
		{"version and app-version", filepath.Join(c, "hello"), []string{"--version", "2.3.4-rc.1+build.5", "--app-version", "9.9"}},
		{"nested destination", filepath.Join(c, "hello"), []string{"-d", "deeper/still"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := newSandbox(t)
			root := t.TempDir()
			hdest, pdest := filepath.Join(root, "helm"), filepath.Join(root, "pkg")
			extra := tc.extra
			if len(extra) == 2 && extra[0] == "-d" {
				hdest, pdest = filepath.Join(hdest, extra[1]), filepath.Join(pdest, extra[1])
				extra = nil
			}
			h := runHelm(t, sb, root, "", append([]string{"package", tc.src, "-d", hdest}, extra...)...)
			p := runPkg(t, sb, "", append([]string{"package", tc.src, "-d", pdest}, extra...)...)
			hs := strings.ReplaceAll(h.stdout, hdest, "DEST")
			ps := strings.ReplaceAll(p.stdout, pdest, "DEST")
			compareOutcomes(t, outcome{hs, h.stderr, h.code}, outcome{ps, p.stderr, p.code}, expectation{}, nil)
			if h.code != 0 || p.code != 0 {
				return
			}
			harchive := strings.TrimPrefix(strings.TrimSpace(h.stdout), "Successfully packaged chart and saved it to: ")
			parchive := strings.TrimPrefix(strings.TrimSpace(p.stdout), "Successfully packaged chart and saved it to: ")
			if filepath.Base(harchive) != filepath.Base(parchive) {
				t.Fatalf("archive names: helm %s, pkg %s", harchive, parchive)
			}
			if hl, pl := archiveListing(t, harchive), archiveListing(t, parchive); hl != pl {
				t.Errorf("archive contents differ:\n%s", diffText(hl, pl))
			}
			// Helm reads pkg's archive as it reads its own.
			for _, args := range [][]string{{"show", "chart"}, {"show", "values"}, {"show", "all"}, {"template", "rel"}} {
				if args[0] == "template" && tc.name == "library" {
					continue
				}
				want := runHelm(t, sb, root, "", append(args, harchive)...)
				got := runHelm(t, sb, root, "", append(args, parchive)...)
				if want.code != 0 || got.code != 0 || want.stdout != got.stdout {
					t.Errorf("helm %v: helm's archive and pkg's differ (exit %d and %d):\n%s%s", args, want.code, got.code, got.stderr, diffText(want.stdout, got.stdout))
				}
			}
		})
	}
}

// archiveListing describes a chart archive's entries (name, mode and
// content), sorted by name: what must match between helm's archive and
// pkg's, whose entries may be ordered and dated differently.
func archiveListing(t *testing.T, name string) string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var entries []string
	for {
		hd, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, fmt.Sprintf("%s %o %c\n%s", hd.Name, hd.Mode, hd.Typeflag, data))
	}
	sort.Strings(entries)
	return strings.Join(entries, "\n")
}

func TestPackageErrorsMatchHelm(t *testing.T) {
	c := chartsDir(t)
	errs := filepath.Join(c, "errors")
	dest := t.TempDir()
	archive := packageWith(t, "pkg", newSandbox(t), filepath.Join(c, "hello"), filepath.Join(dest, "archives"))
	d := func(args ...string) []string {
		return append(append([]string{"package"}, args...), "-d", filepath.Join(dest, "out"))
	}
	runCases(t, []cliCase{
		{name: "no arguments", args: []string{"package"}},
		{name: "missing path", args: d(filepath.Join(dest, "nope"))},
		{name: "missing dependencies", args: d(filepath.Join(errs, "missing-dependency"))},
		{name: "invalid --version", args: d(filepath.Join(c, "hello"), "--version", "one.two"),
			exp: expectation{errOurs, regexp.MustCompile(`^Error: invalid chart version "one\.two": invalid semantic version$`)}},
		{name: "invalid version in Chart.yaml", args: d(filepath.Join(errs, "bad-version")),
			exp: expectation{errOurs, regexp.MustCompile(`^Error: loading chart ".*/bad-version": Chart\.yaml: validation: chart\.metadata\.version "one\.two" is invalid$`)}},
		{name: "bad Chart.yaml", args: d(filepath.Join(errs, "bad-chart-yaml")),
			exp: expectation{errLocation, regexp.MustCompile(`^Error: loading chart ".*/bad-chart-yaml": Chart\.yaml: error converting YAML to JSON: yaml: line 4: `)}},
		{name: "no Chart.yaml", args: d(errs),
			exp: expectation{errLocation, regexp.MustCompile(`^Error: loading chart ".*/errors": Chart\.yaml file is missing$`)}},
		{name: "an archive", args: d(archive),
			exp: expectation{errOurs, regexp.MustCompile(`^Error: .*/hello-0\.1\.0\.tgz is not a chart directory: only unpacked charts can be packaged$`)}},
		{name: "sign without key", args: d(filepath.Join(c, "hello"), "--sign")},
		{name: "sign with a missing keyring", args: d(filepath.Join(c, "hello"), "--sign", "--key", "me", "--keyring", filepath.Join(dest, "none.gpg"))},
	})
}

// TestPackageDefaultDestination checks the path printed for the default
// destination, the working directory, which Helm prints absolute. It
// changes the working directory, so it cannot run in parallel.
func TestPackageDefaultDestination(t *testing.T) {
	helmRef(t)
	sb := newSandbox(t)
	src := filepath.Join(chartsDir(t), "hello")
	hdir, pdir := t.TempDir(), t.TempDir()
	h := runHelm(t, sb, hdir, "", "package", src)
	t.Chdir(pdir)
	p := runPkg(t, sb, "", "package", src)
	h.stdout = strings.ReplaceAll(h.stdout, hdir, "CWD")
	p.stdout = strings.ReplaceAll(p.stdout, pdir, "CWD")
	compareOutcomes(t, h, p, expectation{}, nil)
	if want := "Successfully packaged chart and saved it to: CWD/hello-0.1.0.tgz\n"; p.stdout != want {
		t.Errorf("stdout = %q, want %q", p.stdout, want)
	}
}
