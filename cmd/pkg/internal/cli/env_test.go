package cli_test

import (
	"strings"
	"testing"
)

// TestEnvMatchesHelm: `pkg env` prints what `helm env` prints, but for
// HELM_BIN (the program itself), with settings from flags and the
// environment; `pkg env NAME` prints one value.
func TestEnvMatchesHelm(t *testing.T) {
	helmRef(t)
	sb := newSandbox(t)
	sb["HELM_QPS"] = "2.5"
	sb["HELM_MAX_HISTORY"] = "4"
	sb["HELM_DEBUG"] = "1"
	args := []string{"env", "-n", "team-a", "--kube-context", "prod", "--burst-limit", "50", "--kubeconfig", "/etc/team-a/kubeconfig"}
	h, p := runHelm(t, sb, t.TempDir(), "", args...), runPkg(t, sb, "", args...)
	if h.code != 0 || p.code != 0 {
		t.Fatalf("helm: %d %s\npkg: %d %s", h.code, h.stderr, p.code, p.stderr)
	}
	withoutBin := func(s string) string {
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(l, "HELM_BIN=") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	if withoutBin(h.stdout) != withoutBin(p.stdout) {
		t.Errorf("helm env:\n%s\npkg env:\n%s", h.stdout, p.stdout)
	}
	if !strings.Contains(p.stdout, `HELM_NAMESPACE="team-a"`) || !strings.Contains(p.stdout, `HELM_MAX_HISTORY="4"`) || !strings.Contains(p.stdout, `KUBECONFIG="/etc/team-a/kubeconfig"`) {
		t.Errorf("pkg env:\n%s", p.stdout)
	}
	for _, c := range []struct{ name, want string }{{"HELM_CACHE_HOME", sb["HELM_CACHE_HOME"] + "\n"}, {"HELM_QPS", "2.50\n"}, {"NOPE", "\n"}} {
		if o := runPkg(t, sb, "", "env", c.name); o.code != 0 || o.stdout != c.want {
			t.Errorf("pkg env %s: %d %q, want %q", c.name, o.code, o.stdout, c.want)
		}
	}
	if o := runPkg(t, sb, "", "env", "A", "B"); o.code == 0 {
		t.Error("pkg env with two names succeeded")
	}
}
