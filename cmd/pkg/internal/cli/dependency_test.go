package cli_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/repo"
)

// depChart writes a chart "app" depending on hello from a configured
// repository (by alias), nested from the same repository (by URL), crds
// from an unconfigured repository and a local chart (file://), and
// returns its directory.
func depChart(t *testing.T, configured, unmanaged string) string {
	t.Helper()
	root := t.TempDir()
	app := filepath.Join(root, "app")
	local := filepath.Join(root, "local")
	for _, d := range []string{filepath.Join(app, "templates"), filepath.Join(local, "templates")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(local, "Chart.yaml"), "apiVersion: v2\nname: local\nversion: 0.3.0\n")
	write(filepath.Join(app, "Chart.yaml"), `apiVersion: v2
name: app
version: 1.0.0
dependencies:
- name: hello
  version: ^0.1.0
  repository: "@charts"
- name: nested
  version: ">=1.0.0"
  repository: `+configured+`
- name: crds
  version: 0.5.x
  repository: `+unmanaged+`/
- name: local
  version: ">=0.1.0"
  repository: file://../local
`)
	return app
}

// depOutcome runs a dependency command with helm or pkg.
func depRun(t *testing.T, who string, sb sandbox, args ...string) outcome {
	t.Helper()
	if who == "helm" {
		return runHelm(t, sb, t.TempDir(), "", args...)
	}
	return runPkg(t, sb, "", args...)
}

// lockOf reads a chart's Chart.lock.
func lockOf(t *testing.T, dir string) *chart.Lock {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "Chart.lock"))
	if err != nil {
		t.Fatal(err)
	}
	var l chart.Lock
	if err := yaml.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	return &l
}

func chartsListing(t *testing.T, dir string) []string {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(dir, "charts"))
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tgz") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestDependencyMatchesHelm runs dependency update, build and list with
// helm and pkg on copies of the same chart and compares the lock, the
// archives in charts/ and the output. Each side then builds from the
// other's lock.
func TestDependencyMatchesHelm(t *testing.T) {
	helmRef(t)
	charts := newChartRepo(t, "", "")
	other := newChartRepo(t, "", "", "crds")
	app := depChart(t, charts.URL, other.URL)
	dirs := map[string]string{}
	sbs := map[string]sandbox{}
	outs := map[string]outcome{}
	for _, who := range []string{"helm", "pkg"} {
		sbs[who] = newSandbox(t)
		if o := depRun(t, who, sbs[who], "repo", "add", "charts", charts.URL); o.code != 0 {
			t.Fatal(o.stderr)
		}
		dirs[who] = filepath.Join(t.TempDir(), "app")
		copyTree(t, filepath.Dir(app), filepath.Dir(dirs[who]))
		outs[who] = depRun(t, who, sbs[who], "dependency", "update", dirs[who])
		if outs[who].code != 0 {
			t.Fatalf("%s dependency update: %s", who, outs[who].stderr)
		}
	}
	if h, p := outs["helm"].stdout, outs["pkg"].stdout; h != p {
		t.Errorf("update output differs:\nhelm:\n%s\npkg:\n%s", h, p)
	}
	hl, pl := lockOf(t, dirs["helm"]), lockOf(t, dirs["pkg"])
	if hl.Digest != pl.Digest || !reflect.DeepEqual(hl.Dependencies, pl.Dependencies) {
		t.Errorf("locks differ:\nhelm: %s %+v\npkg:  %s %+v", hl.Digest, hl.Dependencies, pl.Digest, pl.Dependencies)
	}
	c, err := chart.LoadDir(dirs["helm"])
	if err != nil {
		t.Fatal(err)
	}
	// Helm hashes the dependencies with "@charts" replaced by its URL.
	for _, d := range c.Metadata.Dependencies {
		if d.Repository == "@charts" {
			d.Repository = charts.URL
		}
	}
	if sum, _ := repo.LockDigest(c.Metadata.Dependencies, hl.Dependencies); sum != hl.Digest {
		t.Errorf("LockDigest = %s, helm wrote %s", sum, hl.Digest)
	}
	if h, p := chartsListing(t, dirs["helm"]), chartsListing(t, dirs["pkg"]); !reflect.DeepEqual(h, p) {
		t.Errorf("charts/ differs: helm %v, pkg %v", h, p)
	}

	t.Run("list", func(t *testing.T) {
		// A stray file and a wrong version make the listing interesting.
		for _, who := range []string{"helm", "pkg"} {
			os.WriteFile(filepath.Join(dirs[who], "charts", "notes.txt"), []byte("x"), 0o644)
		}
		h := depRun(t, "helm", sbs["helm"], "dependency", "list", dirs["helm"])
		p := depRun(t, "pkg", sbs["pkg"], "dependency", "list", dirs["pkg"])
		if h.code != p.code || strings.ReplaceAll(h.stdout, dirs["helm"], "DIR") != strings.ReplaceAll(p.stdout, dirs["pkg"], "DIR") {
			t.Errorf("helm (%d):\n%s%s\npkg (%d):\n%s%s", h.code, h.stdout, h.stderr, p.code, p.stdout, p.stderr)
		}
	})

	t.Run("build from the other's lock", func(t *testing.T) {
		// build needs every repository configured.
		for _, who := range []string{"helm", "pkg"} {
			if o := depRun(t, who, sbs[who], "repo", "add", "other", other.URL); o.code != 0 {
				t.Fatal(o.stderr)
			}
		}
		for who, from := range map[string]string{"pkg": "helm", "helm": "pkg"} {
			dir := filepath.Join(t.TempDir(), "app")
			copyTree(t, filepath.Dir(dirs[from]), filepath.Dir(dir))
			os.RemoveAll(filepath.Join(dir, "charts"))
			o := depRun(t, who, sbs[who], "dependency", "build", dir, "--skip-refresh")
			if o.code != 0 {
				t.Fatalf("%s build: %s", who, o.stderr)
			}
			if got, want := chartsListing(t, dir), chartsListing(t, dirs[from]); !reflect.DeepEqual(got, want) {
				t.Errorf("%s built %v from %s's lock, want %v", who, got, from, want)
			}
		}
	})
}

// TestDependencyFailuresLeaveCharts checks that a stale lock makes build
// fail, and that failed updates and builds leave charts/ and Chart.lock as
// they were.
func TestDependencyFailuresLeaveCharts(t *testing.T) {
	t.Parallel()
	charts := newChartRepo(t, "", "")
	other := newChartRepo(t, "", "", "crds")
	sb := newSandbox(t)
	if o := runPkg(t, sb, "", "repo", "add", "charts", charts.URL); o.code != 0 {
		t.Fatal(o.stderr)
	}
	app := depChart(t, charts.URL, other.URL)
	if o := runPkg(t, sb, "", "dependency", "update", app); o.code != 0 {
		t.Fatal(o.stderr)
	}
	chartYAML := filepath.Join(app, "Chart.yaml")
	orig, _ := os.ReadFile(chartYAML)
	cases := []struct {
		name   string
		edit   func(string) string
		args   []string
		want   *regexp.Regexp
		before func()
		after  func()
	}{
		{name: "stale lock", edit: func(s string) string { return strings.Replace(s, "^0.1.0", "^0.2.0", 1) },
			args: []string{"dependency", "build", app},
			want: regexp.MustCompile(`^Error: the lock file \(Chart.lock\) is out of sync with the dependencies file \(Chart.yaml\). Please update the dependencies$`)},
		{name: "no such version", edit: func(s string) string { return strings.Replace(s, "^0.1.0", "^7.0.0", 1) },
			args: []string{"dependency", "update", app},
			want: regexp.MustCompile(`can't get a valid version for 1 subchart\(s\): "hello" \(repository "` + regexp.QuoteMeta(charts.URL) + `", version "\^7.0.0"\)`)},
		{name: "unknown chart", edit: func(s string) string { return strings.Replace(s, "name: hello", "name: nope", 1) },
			args: []string{"dependency", "update", app},
			want: regexp.MustCompile(`nope chart not found in repo ` + regexp.QuoteMeta(charts.URL))},
		{name: "missing local chart", edit: func(s string) string { return strings.Replace(s, "file://../local", "file://../gone", 1) },
			args: []string{"dependency", "update", app},
			want: regexp.MustCompile(`directory .*gone not found`)},
		{name: "archive removed from the server", edit: func(s string) string { return s },
			args:   []string{"dependency", "build", app},
			want:   regexp.MustCompile(`could not download .*hello-0.1.0.tgz.*404`),
			before: func() { os.Rename(filepath.Join(charts.dir, "hello-0.1.0.tgz"), filepath.Join(charts.dir, "moved")) },
			after:  func() { os.Rename(filepath.Join(charts.dir, "moved"), filepath.Join(charts.dir, "hello-0.1.0.tgz")) }},
		{name: "tampered archive", edit: func(s string) string { return s },
			args: []string{"dependency", "build", app},
			want: regexp.MustCompile(`digest mismatch`),
			before: func() {
				b, _ := os.ReadFile(filepath.Join(charts.dir, "hello-0.1.0.tgz"))
				os.WriteFile(filepath.Join(charts.dir, "hello-0.1.0.tgz.orig"), b, 0o644)
				other, _ := os.ReadFile(filepath.Join(charts.dir, "hello-0.2.0.tgz"))
				os.WriteFile(filepath.Join(charts.dir, "hello-0.1.0.tgz"), other, 0o644)
			},
			after: func() {
				os.Rename(filepath.Join(charts.dir, "hello-0.1.0.tgz.orig"), filepath.Join(charts.dir, "hello-0.1.0.tgz"))
			}},
		{name: "unconfigured repository on build", edit: func(s string) string { return s },
			args: []string{"dependency", "build", app},
			want: regexp.MustCompile(`no repository definition for ` + regexp.QuoteMeta(other.URL) + `/. Please add the missing repos via 'pkg repo add'`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(chartYAML, []byte(tc.edit(string(orig))), 0o644)
			defer os.WriteFile(chartYAML, orig, 0o644)
			if tc.before != nil {
				tc.before()
			}
			if tc.after != nil {
				defer tc.after()
			}
			before := treeListing(t, app)
			args := tc.args
			if tc.name == "archive removed from the server" || tc.name == "tampered archive" {
				// The crds dependency's repository is not configured:
				// build would stop there first, so configure it.
				if o := runPkg(t, sb, "", "repo", "add", "other", other.URL); o.code != 0 {
					t.Fatal(o.stderr)
				}
				defer runPkg(t, sb, "", "repo", "remove", "other")
			}
			o := runPkg(t, sb, "", args...)
			if o.code == 0 {
				t.Fatalf("succeeded:\n%s", o.stdout)
			}
			if !tc.want.MatchString(firstErrorLine(o.stderr)) {
				t.Errorf("error %q does not match %v", firstErrorLine(o.stderr), tc.want)
			}
			after := treeListing(t, app)
			delete(before, "Chart.yaml")
			delete(after, "Chart.yaml")
			if !reflect.DeepEqual(before, after) {
				t.Errorf("charts/ or Chart.lock changed:\nbefore %v\nafter  %v", keysOf(before), keysOf(after))
			}
		})
	}
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
