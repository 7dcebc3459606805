package cli_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"pkg.dev/pkg/cmd/pkg/internal/cli"

	"pkg.dev/pkg/internal/helmtest"
	"pkg.dev/pkg/internal/testcluster"
)

// The differential tests in this package run the reference Helm binary
// (v3.22.0, built as released) and pkg's command tree, in-process, on the
// same command lines, and compare what they print and how they exit.

// moduleRoot is the directory holding go.mod, found from the test's
// working directory (the package directory).
func moduleRoot(t *testing.T) string { return helmtest.ModuleRoot(t) }

// helmRef returns the reference helm binary: $PKG_HELM_REF, else
// .cache/helm-ref/helm under the module root (`make helm-ref` builds it),
// else /tmp/helm-ref/helm. Without one the test is skipped, unless
// PKG_REQUIRE_HELM_REF=1 (as in CI) makes that a failure. Under -short
// the differential tests are skipped.
func helmRef(t *testing.T) string { return helmtest.Binary(t) }

// chartsDir is the repository's shared test charts.
func chartsDir(t *testing.T) string {
	return filepath.Join(moduleRoot(t), "testdata", "charts")
}

// localCharts is this package's own test charts.
func localCharts(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "charts"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// outcome is what one command printed and how it exited.
type outcome struct {
	stdout string
	stderr string
	code   int
}

// sandbox is an environment that reads no user configuration: a fresh
// home and Helm directories, no kubeconfig.
type sandbox map[string]string

func newSandbox(t *testing.T) sandbox {
	home := t.TempDir()
	return sandbox{
		"HOME":             home,
		"PATH":             os.Getenv("PATH"),
		"KUBECONFIG":       filepath.Join(home, "no-kubeconfig"),
		"HELM_CONFIG_HOME": filepath.Join(home, "config"),
		"HELM_CACHE_HOME":  filepath.Join(home, "cache"),
		"HELM_DATA_HOME":   filepath.Join(home, "data"),
	}
}

// apiSandbox is newSandbox pointed at a fresh API server of its own.
func apiSandbox(t *testing.T) (*testcluster.Cluster, sandbox) {
	t.Helper()
	tc := testcluster.Start(t)
	sb := newSandbox(t)
	sb["KUBECONFIG"] = tc.Kubeconfig
	return tc, sb
}

func (s sandbox) list() []string {
	var out []string
	for k, v := range s {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// runHelm runs the reference binary in dir with stdin.
func runHelm(t *testing.T, sb sandbox, dir, stdin string, args ...string) outcome {
	t.Helper()
	cmd := exec.Command(helmRef(t), args...)
	cmd.Dir = dir
	cmd.Env = sb.list()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("running helm %q: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return outcome{stdout.String(), stderr.String(), code}
}

// runPkg runs pkg's command tree in-process. Relative paths in args are
// relative to the test's working directory, so tests pass absolute ones.
func runPkg(t *testing.T, sb sandbox, stdin string, args ...string) outcome {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), cli.Env{
		Streams: cli.Streams{In: strings.NewReader(stdin), Out: &stdout, Err: &stderr},
		Getenv:  func(k string) string { return sb[k] },
		Environ: sb.list,
	}, args)
	return outcome{stdout.String(), stderr.String(), code}
}

// helmLogLine matches the lines Helm's libraries log on standard error
// with the standard logger ("manifest_sorter.go:199: info: ..."), and
// its --debug traces; pkg does not print them.
var helmLogLine = regexp.MustCompile(`^[a-z_]+\.go:\d+: `)

// errorText is the part of standard error that tests compare: every line
// but Helm's log lines.
func errorText(stderr string) string {
	var keep []string
	for _, l := range strings.SplitAfter(stderr, "\n") {
		if !helmLogLine.MatchString(l) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}

// firstErrorLine is the first line starting with "Error:".
func firstErrorLine(stderr string) string {
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "Error:") {
			return l
		}
	}
	return ""
}

// fileLine matches a chart file named in an error, with the line number
// that follows it (as "file:12:" or, for YAML errors, "... line 12").
var (
	fileRef  = regexp.MustCompile(`(?:[\w.-]+/)*[\w.-]+\.(?:yaml|yml|tpl|txt|json)\b(?::(\d+))?`)
	yamlLine = regexp.MustCompile(`\bline (\d+)\b`)
)

// errorLocation is the first chart file and line an error names, as
// "FILE:LINE" (or "FILE" without a line), or "" when it names none.
func errorLocation(msg string) string {
	m := fileRef.FindStringSubmatchIndex(msg)
	if m == nil {
		return ""
	}
	file := msg[m[0]:m[1]]
	if m[2] >= 0 {
		return file
	}
	if l := yamlLine.FindStringSubmatch(msg[m[1]:]); l != nil {
		return file + ":" + l[1]
	}
	return file
}

// errMode says how the standard error of a failing command is compared.
type errMode int

const (
	// errExact: the same standard error, Helm's log lines aside, and
	// with the command's name, where Helm's message quotes it, read "pkg".
	errExact errMode = iota
	// errLines: the same lines in any order (Helm lists schema
	// violations in a random order).
	errLines
	// errFirstLine: the same first "Error:" line, and on success no
	// comparison of standard error (--debug, where Helm adds traces).
	errFirstLine
	// errLocation: pkg words the error its own way (matched by the
	// case's want pattern), but the chart file and line named first are
	// the same as Helm's.
	errLocation
	// errOurs: pkg words the error its own way on purpose; only the
	// case's want pattern is checked, and that Helm fails too.
	errOurs
)

// expectation is how one command line's two outcomes must relate.
type expectation struct {
	mode errMode
	want *regexp.Regexp // pkg's "Error:" line, for errLocation and errOurs
}

// compareOutcomes checks that pkg exited as Helm did, printed the same
// standard output (compared random-aware when Helm's own output varies
// between runs; rerun runs Helm again) and the same error.
func compareOutcomes(t *testing.T, h, p outcome, exp expectation, rerun func() outcome) {
	t.Helper()
	if h.code != p.code {
		t.Errorf("exit status: helm %d, pkg %d\nhelm stderr:\n%s\npkg stderr:\n%s", h.code, p.code, h.stderr, p.stderr)
	}
	if h.stdout != p.stdout {
		var again outcome
		if rerun != nil {
			again = rerun()
		}
		if rerun == nil || again.stdout == h.stdout {
			t.Errorf("standard output differs from helm's:\n%s", diffText(h.stdout, p.stdout))
		} else if err := compareRandomAware(h.stdout, again.stdout, p.stdout); err != nil {
			t.Errorf("standard output differs from helm's beyond its random parts: %v", err)
		}
	}
	if h.code == 0 && p.code == 0 {
		if exp.mode == errFirstLine {
			return // --debug: Helm traces on standard error
		}
		if he, pe := errorText(h.stderr), errorText(p.stderr); he != pe {
			t.Errorf("standard error differs:\nhelm:\n%s\npkg:\n%s", he, pe)
		}
		return
	}
	hl, pl := firstErrorLine(h.stderr), firstErrorLine(p.stderr)
	if hl == "" || pl == "" {
		t.Errorf("missing Error: line\nhelm stderr:\n%s\npkg stderr:\n%s", h.stderr, p.stderr)
		return
	}
	switch exp.mode {
	case errExact:
		if he, pe := helmToPkg(errorText(h.stderr)), errorText(p.stderr); he != pe {
			t.Errorf("standard error differs:\nhelm:\n%s\npkg:\n%s", he, pe)
		}
	case errLines:
		hs, ps := sortedLines(errorText(h.stderr)), sortedLines(errorText(p.stderr))
		if hs != ps {
			t.Errorf("standard error differs (in any order):\nhelm:\n%s\npkg:\n%s", h.stderr, p.stderr)
		}
	case errFirstLine:
		if hl != pl {
			t.Errorf("Error: line differs:\nhelm: %s\npkg:  %s", hl, pl)
		}
	case errLocation, errOurs:
		if exp.want == nil || !exp.want.MatchString(pl) {
			t.Errorf("pkg's Error: line %q does not match %v (helm said %q)", pl, exp.want, hl)
		}
		if exp.mode == errLocation {
			hloc, ploc := errorLocation(hl), errorLocation(pl)
			if hloc == "" {
				t.Errorf("helm's error names no file; use errOurs: %q", hl)
			}
			if hloc != ploc {
				t.Errorf("error location: helm %q, pkg %q\nhelm: %s\npkg:  %s", hloc, ploc, hl, pl)
			}
		}
	}
}

// helmToPkg renames the command in the places Helm's usage errors quote
// it: `"helm show chart" requires…`, `Usage:  helm …`, `for "helm"`,
// `Run 'helm --help'`.
func helmToPkg(s string) string {
	return strings.NewReplacer(
		`"helm"`, `"pkg"`,
		`"helm `, `"pkg `,
		"Usage:  helm ", "Usage:  pkg ",
		"'helm --help'", "'pkg --help'",
	).Replace(s)
}

func sortedLines(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// diffText shows the first differing line of two texts with context.
func diffText(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(wl) && i < len(gl) && wl[i] == gl[i] {
		i++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at line %d (helm %d lines, pkg %d lines)\n", i+1, len(wl), len(gl))
	for k := max(0, i-3); k < i; k++ {
		fmt.Fprintf(&b, "  %s\n", wl[k])
	}
	at := func(ls []string) string {
		if i < len(ls) {
			return ls[i]
		}
		return "<end>"
	}
	fmt.Fprintf(&b, "- %s\n+ %s\n", at(wl), at(gl))
	return b.String()
}

// copyTree copies the directory src to dst, keeping file modes.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func treeListing(t *testing.T, root string) map[string]string { return helmtest.Tree(t, root) }

// compareTrees reports every path whose presence, mode or content differs.
func compareTrees(t *testing.T, want, got map[string]string) {
	t.Helper()
	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			t.Errorf("%s: written by helm, not by pkg", p)
		case g != w:
			t.Errorf("%s differs:\n%s", p, diffText(w, g))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: written by pkg, not by helm", p)
		}
	}
}

func regexpMust(expr string) *regexp.Regexp { return regexp.MustCompile(expr) }
