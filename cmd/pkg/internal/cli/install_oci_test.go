package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	"pkg.dev/pkg/internal/testcluster"
)

// TestInstallFromRegistryMatchesHelm installs, upgrades and inspects a
// release whose chart comes from a real OCI registry (Debian's
// docker-registry), with helm and pkg each against its own API server:
// by version, by tag, and by digest. Outputs must match.
func TestInstallFromRegistryMatchesHelm(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the reference helm binary, a registry and two API servers")
	}
	helmRef(t)
	host := startRegistry(t, "", "")
	sb := newSandbox(t)
	work := t.TempDir()
	dist := filepath.Join(work, "dist")
	if o := runPkg(t, sb, "", "package", filepath.Join(chartsDir(t), "hello"), "-d", dist); o.code != 0 {
		t.Fatal(o.stderr)
	}
	remote := "oci://" + host + "/charts"
	o := runPkg(t, sb, "", "push", filepath.Join(dist, "hello-0.1.0.tgz"), remote, "--plain-http")
	if o.code != 0 {
		t.Fatal(o.stderr)
	}
	digest := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(o.stderr, "\n", 2)[1], "Digest: "))
	if !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("no digest in %q", o.stderr)
	}

	ours, theirs := testcluster.Start(t), testcluster.Start(t)
	psb, hsb := newSandbox(t), newSandbox(t)
	psb["KUBECONFIG"], hsb["KUBECONFIG"] = ours.Kubeconfig, theirs.Kubeconfig
	steps := [][]string{
		{"install", "web", remote + "/hello", "--version", "0.1.0", "--plain-http"},
		{"upgrade", "web", remote + "/hello:0.1.0", "--plain-http", "--set", "replicaCount=2"},
		{"upgrade", "web", remote + "/hello@" + digest, "--plain-http", "--reuse-values"},
		{"upgrade", "--install", "web2", remote + "/hello", "--plain-http"},
		{"install", "bad", remote + "/nope", "--version", "1.0.0", "--plain-http"},
		{"history", "web"},
		{"get", "values", "web"},
		{"list", "-a"},
	}
	for _, args := range steps {
		p := runPkg(t, psb, "", args...)
		h := runHelm(t, hsb, t.TempDir(), "", args...)
		name := strings.Join(args[:min(3, len(args))], " ")
		if p.code != h.code {
			t.Errorf("%s: exit helm %d, pkg %d\nhelm: %s\npkg: %s", name, h.code, p.code, h.stderr, p.stderr)
			continue
		}
		if hs, ps := normalizeRelease(h.stdout), normalizeRelease(p.stdout); hs != ps {
			t.Errorf("%s: output differs:\n%s", name, diffText(hs, ps))
		}
	}
	// Three revisions, the last deployed, each from the registry's chart.
	if o := runPkg(t, psb, "", "history", "web"); o.code != 0 || strings.Count(o.stdout, "hello-0.1.0") != 3 || !strings.Contains(o.stdout, "deployed") {
		t.Errorf("history: %d %s %s", o.code, o.stdout, o.stderr)
	}
	if o := runPkg(t, psb, "", "get", "values", "web"); !strings.Contains(o.stdout, "replicaCount: 2") {
		t.Errorf("--reuse-values from a chart pulled by digest lost the values: %s %s", o.stdout, o.stderr)
	}
	// The release pkg installed records the chart the registry served.
	if o := runPkg(t, psb, "", "get", "metadata", "web", "-o", "json"); o.code != 0 || !strings.Contains(o.stdout, `"chart":"hello"`) || !strings.Contains(o.stdout, `"version":"0.1.0"`) {
		t.Errorf("get metadata: %d %s %s", o.code, o.stdout, o.stderr)
	}
}
