package cli

import (
	"os"
	"path/filepath"
	"testing"
)

func TestNamespaceResolution(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	b := filepath.Join(dir, "b")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(a, "current-context: dev\ncontexts:\n- name: dev\n  context: {namespace: team-a}\n")
	write(b, "current-context: prod\ncontexts:\n- name: prod\n  context: {namespace: team-b}\n- name: dev\n  context: {namespace: ignored}\n")
	envOf := func(vars map[string]string) Env {
		return Env{Getenv: func(k string) string { return vars[k] }}
	}
	tests := []struct {
		name string
		g    globalOptions
		vars map[string]string
		want string
	}{
		{"flag wins", globalOptions{namespace: "x", kubeconfig: a}, nil, "x"},
		{"HELM_NAMESPACE", globalOptions{kubeconfig: a}, map[string]string{"HELM_NAMESPACE": "y"}, "y"},
		{"current context", globalOptions{kubeconfig: a}, nil, "team-a"},
		{"--kube-context", globalOptions{kubeconfig: b, kubeContext: "dev"}, nil, "ignored"},
		{"KUBECONFIG merge: first wins", globalOptions{}, map[string]string{"KUBECONFIG": a + string(os.PathListSeparator) + b}, "team-a"},
		{"HELM_KUBECONTEXT", globalOptions{}, map[string]string{"KUBECONFIG": b, "HELM_KUBECONTEXT": "dev"}, "ignored"},
		{"no kubeconfig", globalOptions{}, map[string]string{"HOME": dir}, "default"},
		{"missing file", globalOptions{kubeconfig: filepath.Join(dir, "nope")}, nil, "default"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.g.namespaceOrDefault(envOf(tc.vars)); got != tc.want {
				t.Errorf("namespace = %q, want %q", got, tc.want)
			}
		})
	}
}
