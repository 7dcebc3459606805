package cli_test

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// buildInfoLine is the shape of `helm version` and `pkg version`.
var buildInfoLine = regexp.MustCompile(`^version\.BuildInfo\{Version:"[^"]*", GitCommit:"[^"]*", GitTreeState:"[^"]*", GoVersion:"[^"]*"\}\n$`)

func TestVersion(t *testing.T) {
	t.Parallel()
	goVersion := runtime.Version()
	for _, tc := range []struct {
		name string
		args []string
		want string // exact standard output
		err  string // exact first Error: line, when it fails
	}{
		{name: "default", args: []string{"version"},
			want: `version.BuildInfo{Version:"v0.1.0-dev", GitCommit:"", GitTreeState:"", GoVersion:"` + goVersion + `"}` + "\n"},
		{name: "short", args: []string{"version", "--short"}, want: "v0.1.0-dev\n"},
		{name: "template", args: []string{"version", "--template", "{{.Version}}"}, want: "v0.1.0-dev"},
		{name: "template with every field", args: []string{"version", "--template", "{{.Version}}|{{.GitCommit}}|{{.GitTreeState}}|{{.GoVersion}}\n"},
			want: "v0.1.0-dev|||" + goVersion + "\n"},
		{name: "template over short", args: []string{"version", "--short", "--template", "v={{.Version}}"}, want: "v=v0.1.0-dev"},
		{name: "hidden client flag", args: []string{"version", "-c"},
			want: `version.BuildInfo{Version:"v0.1.0-dev", GitCommit:"", GitTreeState:"", GoVersion:"` + goVersion + `"}` + "\n"},
		{name: "template parse error", args: []string{"version", "--template", "{{"}, err: "Error: template: _:1: unclosed action"},
		{name: "template execution error", args: []string{"version", "--template", "{{.Nope}}"},
			err: `Error: template: _:1:2: executing "_" at <.Nope>: can't evaluate field Nope in type cli.BuildInfo`},
		{name: "an argument", args: []string{"version", "x"}, err: `Error: "pkg version" accepts no arguments`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := runPkg(t, newSandbox(t), "", tc.args...)
			if tc.err != "" {
				if p.code != 1 || firstErrorLine(p.stderr) != tc.err {
					t.Errorf("exit %d, stderr %q; want 1 and %q", p.code, p.stderr, tc.err)
				}
				return
			}
			if p.code != 0 || p.stdout != tc.want || p.stderr != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want stdout %q", p.code, p.stdout, p.stderr, tc.want)
			}
		})
	}
}

// TestVersionFormatMatchesHelm checks that the default output has the
// shape of Helm's, and that --template and --short see the same fields.
func TestVersionFormatMatchesHelm(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	dir := t.TempDir()
	h := runHelm(t, sb, dir, "", "version")
	p := runPkg(t, sb, "", "version")
	for who, o := range map[string]outcome{"helm": h, "pkg": p} {
		if o.code != 0 || !buildInfoLine.MatchString(o.stdout) {
			t.Errorf("%s version: exit %d, %q", who, o.code, o.stdout)
		}
	}
	h = runHelm(t, sb, dir, "", "version", "--template", "{{.Version}} {{.GitCommit}} {{.GitTreeState}} {{.GoVersion}}")
	if h.code != 0 || !regexp.MustCompile(`^v3\.22\.0 (?:[0-9a-f]{40})? clean go\S+$`).MatchString(h.stdout) {
		t.Errorf("helm version --template: %q", h.stdout)
	}
	h = runHelm(t, sb, dir, "", "version", "--short")
	if !regexp.MustCompile(`^v3\.22\.0(?:\+g[0-9a-f]{7})?\n$`).MatchString(h.stdout) {
		t.Errorf("helm version --short: %q", h.stdout)
	}
}

// TestVersionLinkFlags builds the binary as the Makefile does and checks
// that the link-time variables reach `pkg version`.
func TestVersionLinkFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "pkg")
	const prefix = "pkg.dev/pkg/cmd/pkg/internal/cli."
	ldflags := "-X " + prefix + "version=v1.2.3 -X " + prefix + "gitCommit=0123456789abcdef0123456789abcdef01234567 -X " + prefix + "gitTreeState=clean"
	build := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", bin, "./cmd/pkg")
	build.Dir = moduleRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for args, want := range map[string]string{
		"version":         `version.BuildInfo{Version:"v1.2.3", GitCommit:"0123456789abcdef0123456789abcdef01234567", GitTreeState:"clean", GoVersion:"` + runtime.Version() + `"}` + "\n",
		"version --short": "v1.2.3+g0123456\n",
	} {
		out, err := exec.Command(bin, strings.Fields(args)...).Output()
		if err != nil || string(out) != want {
			t.Errorf("pkg %s = %q, %v; want %q", args, out, err, want)
		}
	}
}
