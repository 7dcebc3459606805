package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestBadArgumentsMatchHelm runs command lines that are wrong in how
// they call a command: unknown flags and commands, missing or extra
// arguments, bad flag values. pkg must exit 1 and print Helm's "Error:"
// message, with "pkg" where Helm names itself.
func TestBadArgumentsMatchHelm(t *testing.T) {
	hello := filepath.Join(chartsDir(t), "hello")
	cases := []cliCase{
		{name: "unknown command", args: []string{"frobnicate"}},
		{name: "unknown command with a suggestion", args: []string{"templat", hello}},
		{name: "unknown root flag", args: []string{"--frobnicate"}},
		{name: "unknown template flag", args: []string{"template", "--frobnicate", hello}},
		{name: "unknown shorthand", args: []string{"template", "-z", hello}},
		{name: "flag without its value", args: []string{"template", hello, "--kube-version"}},
		{name: "bad bool value", args: []string{"template", hello, "--include-crds=maybe"}},
		{name: "bad duration", args: []string{"template", hello, "--timeout", "soon"}},
		{name: "bad labels", args: []string{"template", hello, "--labels", "novalue"}},
		{name: "bad int global flag", args: []string{"template", hello, "--burst-limit", "many"}},
		{name: "template without a chart", args: []string{"template"}},
		{name: "template with three arguments", args: []string{"template", "a", "b", "c"}},
		{name: "show without a chart", args: []string{"show", "values"}},
		{name: "show with two charts", args: []string{"show", "chart", hello, hello}},
		{name: "show unknown flag", args: []string{"show", "chart", "--frobnicate", hello}},
		{name: "show jsonpath on chart", args: []string{"show", "chart", "--jsonpath", "{}", hello}},
		{name: "create without a name", args: []string{"create"}},
		{name: "create with two names", args: []string{"create", "a", "b"}},
		{name: "package without a path", args: []string{"package"}},
		{name: "version with an argument", args: []string{"version", "extra"}},
		{name: "version bad short", args: []string{"version", "--short=maybe"}},
		{name: "completion with an argument", args: []string{"completion", "bash", "extra"}},
		{name: "completion unknown flag", args: []string{"completion", "zsh", "--frobnicate"}},
	}
	runCases(t, cases)
}

// TestBadArgumentsExitStatus checks pkg alone, without the reference: a
// usage error is one "Error:" line (plus the usage line Helm adds), exit
// status 1, and nothing on standard output.
func TestBadArgumentsExitStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `Error: unknown command "frobnicate" for "pkg"`},
		{[]string{"template", "--frobnicate"}, `Error: unknown flag: --frobnicate`},
		{[]string{"template"}, `Error: "pkg template" requires at least 1 argument`},
		{[]string{"show", "chart"}, `Error: "pkg show chart" requires 1 argument`},
		{[]string{"create"}, `Error: "pkg create" requires 1 argument`},
		{[]string{"version", "x"}, `Error: "pkg version" accepts no arguments`},
		{[]string{"package"}, `Error: need at least one argument, the path to the chart`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			p := runPkg(t, newSandbox(t), "", tc.args...)
			if p.code != 1 || p.stdout != "" || firstErrorLine(p.stderr) != tc.want {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1, nothing, %q", p.code, p.stdout, p.stderr, tc.want)
			}
		})
	}
}
