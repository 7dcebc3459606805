package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"pkg.dev/pkg/internal/helmtest"
)

// The lint tests run `helm lint` (the v3.22.0 release binary) and `pkg
// lint` on the same command lines and require the same standard output,
// the same "Error:" line on standard error and the same exit status.

// helmRefBinary returns the reference helm binary (see helmtest.Binary).
func helmRefBinary(t *testing.T) string { return helmtest.Binary(t) }

// helmSourceDir is Helm's module directory, whose test charts are linted.
var helmSourceDir = helmtest.ModuleDir

// lintOutcome is what one lint command showed.
type lintOutcome struct {
	stdout    string
	errorLine string // the "Error: ..." lines of standard error
	code      int
}

// tempLintDir matches the folders archives are unpacked to; their names
// are random and appear in dependency findings.
var tempLintDir = regexp.MustCompile(regexp.QuoteMeta(filepath.Join(os.TempDir(), "helm-lint")) + `\d+`)

func normalizeLint(s string) string {
	return tempLintDir.ReplaceAllString(s, filepath.Join(os.TempDir(), "helm-lintN"))
}

func errorLines(stderr string) string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "Error:") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// helmEnv is an environment for the reference binary that reads no user
// configuration and no cluster.
func helmEnv(t *testing.T, home string) []string {
	t.Helper()
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"HELM_CACHE_HOME=" + filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME=" + filepath.Join(home, "config"),
		"HELM_DATA_HOME=" + filepath.Join(home, "data"),
		"KUBECONFIG=" + filepath.Join(home, "no-kubeconfig"),
	}
}

func runHelmLint(t *testing.T, bin, home string, args []string) lintOutcome {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"lint"}, args...)...)
	cmd.Env = helmEnv(t, home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", bin, err)
	}
	return lintOutcome{normalizeLint(stdout.String()), normalizeLint(errorLines(stderr.String())), code}
}

func runPkgLint(t *testing.T, args []string) lintOutcome {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := Env{Streams: Streams{In: strings.NewReader(""), Out: &stdout, Err: &stderr}}
	code := Run(context.Background(), env, append([]string{"lint"}, args...))
	return lintOutcome{normalizeLint(stdout.String()), normalizeLint(errorLines(stderr.String())), code}
}

func compareLint(t *testing.T, bin, home string, args []string) {
	t.Helper()
	want := runHelmLint(t, bin, home, args)
	got := runPkgLint(t, args)
	if got.stdout != want.stdout {
		t.Errorf("lint %s: standard output differs\n--- pkg\n%s--- helm\n%s", strings.Join(args, " "), got.stdout, want.stdout)
	}
	if got.errorLine != want.errorLine {
		t.Errorf("lint %s: error line %q, helm's %q", strings.Join(args, " "), got.errorLine, want.errorLine)
	}
	if got.code != want.code {
		t.Errorf("lint %s: exit status %d, helm's %d", strings.Join(args, " "), got.code, want.code)
	}
}

// ourCharts is where this repository's lint test charts are, relative to
// this package.
const ourCharts = "../../../../lint/testdata"

// listCharts returns the charts (folders and archives) directly in dir.
func listCharts(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() || strings.HasSuffix(e.Name(), ".tgz") || strings.HasSuffix(e.Name(), ".tar.gz") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

// TestLintChartsMatchHelm lints each of Helm's lint and command test
// charts, and ours, one command per chart.
func TestLintChartsMatchHelm(t *testing.T) {
	bin := helmRefBinary(t)
	mod, err := helmSourceDir()
	if err != nil || mod == "" {
		t.Fatalf("locating helm.sh/helm/v3: %v", err)
	}
	home := t.TempDir()
	var charts []string
	charts = append(charts, listCharts(t, filepath.Join(mod, "pkg", "lint", "rules", "testdata"))...)
	charts = append(charts, listCharts(t, filepath.Join(mod, "cmd", "helm", "testdata", "testcharts"))...)
	charts = append(charts, listCharts(t, ourCharts)...)
	for _, c := range charts {
		t.Run(filepath.Base(c), func(t *testing.T) {
			t.Parallel()
			compareLint(t, bin, home, []string{c})
		})
	}
}

// TestLintFlagsMatchHelm covers the flags and multi-chart runs.
func TestLintFlagsMatchHelm(t *testing.T) {
	bin := helmRefBinary(t)
	mod, err := helmSourceDir()
	if err != nil || mod == "" {
		t.Fatalf("locating helm.sh/helm/v3: %v", err)
	}
	home := t.TempDir()
	helmCharts := filepath.Join(mod, "cmd", "helm", "testdata", "testcharts")
	ours := func(name string) string { return filepath.Join(ourCharts, name) }
	valuesFile := filepath.Join(t.TempDir(), "override.yaml")
	if err := os.WriteFile(valuesFile, []byte("mode: b\ndb:\n  user: admin\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	archives := buildArchives(t)

	tests := []struct {
		name string
		args []string
	}{
		{"no argument lints the current folder", nil},
		{"missing chart", []string{"does-not-exist"}},
		{"missing chart quiet", []string{"--quiet", "does-not-exist/"}},
		{"missing archive", []string{"does-not-exist.tgz"}},
		{"strict fails on warnings", []string{"--strict", ours("names")}},
		{"strict without warnings", []string{"--strict", ours("good")}},
		{"strict with only info", []string{"--strict", filepath.Join(helmCharts, "alpine")}},
		{"quiet good chart", []string{"--quiet", ours("good")}},
		{"quiet chart with info only", []string{"--quiet", filepath.Join(helmCharts, "alpine")}},
		{"quiet chart with warnings", []string{"--quiet", filepath.Join(helmCharts, "chart-with-only-crds"), ours("deprecated")}},
		{"quiet two charts one failing", []string{"--quiet", filepath.Join(helmCharts, "alpine"), filepath.Join(helmCharts, "chart-bad-requirements")}},
		{"several charts", []string{ours("good"), ours("names"), ours("deps-mismatch"), filepath.Join(helmCharts, "compressedchart-0.1.0.tgz")}},
		{"same chart twice", []string{ours("good"), ours("good")}},
		{"with subcharts", []string{"--with-subcharts", ours("parent")}},
		{"with subcharts and overrides", []string{"--with-subcharts", "--set", "image.tag=x_y", ours("parent")}},
		{"with subcharts quiet", []string{"--with-subcharts", "--quiet", "--kube-version", "1.20", ours("parent")}},
		{"with subcharts strict", []string{"--with-subcharts", "--strict", ours("deps-mismatch")}},
		{"with bad subcharts", []string{"--with-subcharts", filepath.Join(helmCharts, "chart-with-bad-subcharts")}},
		{"with subcharts of a chart without any", []string{"--with-subcharts", ours("good")}},
		{"with archived subcharts", []string{"--with-subcharts", archives.parentDir}},
		{"archive with archived subcharts", []string{"--with-subcharts", archives.parentArchive}},
		{"kube version older", []string{"--kube-version", "1.22.0", ours("deprecated")}},
		{"kube version older strict", []string{"--kube-version", "1.22.0", "--strict", filepath.Join(helmCharts, "chart-with-deprecated-api")}},
		{"kube version oldest", []string{"--kube-version", "v1.7.3", ours("deprecated")}},
		{"kube version newer", []string{"--kube-version", "v1.40.0", ours("deprecated")}},
		{"kube version with suffix", []string{"--kube-version", "v1.29.3-eks+abc", ours("deprecated"), ours("kube-constraint")}},
		{"kube version invalid", []string{"--kube-version", "abc", ours("good")}},
		{"set breaks the schema", []string{"--set", "replicaCount=0", ours("good")}},
		{"set fixes the schema", []string{"--set", "mode=a", "--set", "db.user=u", ours("values-schema")}},
		{"values file", []string{"-f", valuesFile, ours("values-schema")}},
		{"set-string and set-json", []string{"--set-string", "mode=a", "--set-json", `db={"user":"u","host":"h"}`, ours("values-schema")}},
		{"null override", []string{"--set", "db=null", ours("values-schema")}},
		{"skip schema validation", []string{"--skip-schema-validation", "--set", "replicaCount=0", ours("good")}},
		{"skip schema validation, values rule still checks", []string{"--skip-schema-validation", filepath.Join(helmCharts, "chart-with-schema-negative")}},
		{"bad set", []string{"--set", "a.b[=x", ours("good")}},
		{"missing values file", []string{"-f", "no-such-values.yaml", ours("good")}},
		{"namespace", []string{"-n", "Bad_NS", ours("names")}},
		{"subchart enabled by an override", []string{"--set", "broken.enabled=true", ours("subchart-values")}},
		{"subchart disabled by a tag", []string{"--set", "tags.risky=false", "--set", "broken.enabled=null", ours("subchart-values")}},
		{"values from standard input", []string{"-f", "-", ours("values-schema")}},
		{"flags after paths", []string{ours("good"), "--strict", ours("names")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			compareLint(t, bin, home, tt.args)
		})
	}
}

// testArchives are charts packed at test time: a parent folder whose
// charts/ holds a packed subchart, and the same parent packed whole.
type testArchives struct {
	parentDir, parentArchive string
}

func buildArchives(t *testing.T) testArchives {
	t.Helper()
	root := t.TempDir()
	parent := filepath.Join(root, "packed-parent")
	if err := os.CopyFS(parent, os.DirFS(filepath.Join(ourCharts, "parent"))); err != nil {
		t.Fatal(err)
	}
	// Replace the "other" subchart folder by its archive.
	other := filepath.Join(parent, "charts", "other")
	writeArchive(t, filepath.Join(parent, "charts", "other-0.1.0.tgz"), other, "other")
	if err := os.RemoveAll(other); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(root, "parent-0.1.0.tgz")
	writeArchive(t, archive, parent, "parent")
	return testArchives{parentDir: parent, parentArchive: archive}
}

// writeArchive packs dir as a chart archive whose entries sit under
// top/, as `helm package` lays them out.
func writeArchive(t *testing.T, dst, dir, top string) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: top + "/" + filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = gz.Close()
	}
	if err == nil {
		err = os.WriteFile(dst, buf.Bytes(), 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}
