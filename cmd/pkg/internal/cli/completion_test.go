package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		shell string
		want  []string // fragments the script must hold
	}{
		{"bash", []string{"# bash completion V2 for pkg", "__start_pkg", "complete -o default -F __start_pkg pkg"}},
		{"zsh", []string{"#compdef pkg", "\ncompdef _pkg pkg\n"}},
		{"fish", []string{"complete -c pkg"}},
		{"powershell", []string{"Register-ArgumentCompleter", "pkg"}},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			t.Parallel()
			for _, args := range [][]string{{"completion", tc.shell}, {"completion", tc.shell, "--no-descriptions"}} {
				p := runPkg(t, newSandbox(t), "", args...)
				if p.code != 0 || p.stderr != "" {
					t.Fatalf("pkg %v: exit %d, stderr %q", args, p.code, p.stderr)
				}
				for _, w := range tc.want {
					if !strings.Contains(p.stdout, w) {
						t.Errorf("pkg %v: script lacks %q", args, w)
					}
				}
			}
		})
	}
}

// TestCompletionBashScriptParses checks the bash script with bash itself.
func TestCompletionBashScriptParses(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not found")
	}
	p := runPkg(t, newSandbox(t), "", "completion", "bash")
	script := filepath.Join(t.TempDir(), "pkg.bash")
	if err := os.WriteFile(script, []byte(p.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
		t.Errorf("bash -n: %v\n%s", err, out)
	}
}

// TestCompletionRequests drives cobra's hidden __complete command, which
// the scripts call: commands, subcommands and flags are offered.
func TestCompletionRequests(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", ""}, []string{"template", "show", "create", "package", "version", "completion", "lint"}},
		{[]string{"__complete", "show", ""}, []string{"all", "chart", "crds", "readme", "values"}},
		{[]string{"__complete", "template", "--sh"}, []string{"--show-only"}},
		{[]string{"__complete", "completion", ""}, []string{"bash", "fish", "powershell", "zsh"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			p := runPkg(t, newSandbox(t), "", tc.args...)
			if p.code != 0 {
				t.Fatalf("exit %d: %s", p.code, p.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(p.stdout, w) {
					t.Errorf("completions lack %q:\n%s", w, p.stdout)
				}
			}
			if strings.Contains(p.stdout, "docs") {
				t.Errorf("the hidden docs command is offered:\n%s", p.stdout)
			}
		})
	}
}
