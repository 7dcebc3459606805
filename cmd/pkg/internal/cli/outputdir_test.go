package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTemplateOutputDirMatchesHelm runs `template --output-dir` with helm
// and pkg into two directories and compares the trees they write (paths,
// modes, contents) and the "wrote" lines on standard output. Each command
// runs twice into the same directory, since Helm appends hooks to files
// that already exist.
func TestTemplateOutputDirMatchesHelm(t *testing.T) {
	helmRef(t)
	c := chartsDir(t)
	in := writeTestInputs(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"hello", []string{filepath.Join(c, "hello")}},
		{"hooks", []string{filepath.Join(c, "hooks")}},
		{"hooks skip-tests", []string{filepath.Join(c, "hooks"), "--skip-tests"}},
		{"hooks no-hooks", []string{filepath.Join(c, "hooks"), "--no-hooks"}},
		{"multidoc", []string{filepath.Join(c, "multidoc")}},
		{"subcharts", []string{filepath.Join(c, "nested")}},
		{"crds", []string{filepath.Join(c, "crds"), "--include-crds"}},
		{"release-name", []string{"my-release", filepath.Join(c, "hooks"), "--release-name"}},
		{"release-name with crds", []string{filepath.Join(c, "crds"), "--include-crds", "--release-name"}},
		{"show-only", []string{filepath.Join(c, "hello"), "-s", "templates/service.yaml"}},
		{"post-renderer", []string{filepath.Join(c, "hello"), "--post-renderer", in.addLabel}},
		{"archive", []string{filepath.Join(c, "tgz-deps")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := newSandbox(t)
			root := t.TempDir()
			hdir, pdir := filepath.Join(root, "helm-out"), filepath.Join(root, "pkg-out")
			for run := 1; run <= 2; run++ {
				h := runHelm(t, sb, root, "", append([]string{"template", "--output-dir", hdir}, tc.args...)...)
				p := runPkg(t, sb, "", append([]string{"template", "--output-dir", pdir}, tc.args...)...)
				h.stdout = strings.ReplaceAll(h.stdout, hdir, "OUT")
				p.stdout = strings.ReplaceAll(p.stdout, pdir, "OUT")
				compareOutcomes(t, h, p, expectation{}, nil)
				compareTrees(t, treeListing(t, hdir), treeListing(t, pdir))
			}
		})
	}
}

// TestTemplateOutputDirUntouchedOnError checks that a render that fails
// writes nothing into --output-dir, with pkg as with Helm.
func TestTemplateOutputDirUntouchedOnError(t *testing.T) {
	helmRef(t)
	c := chartsDir(t)
	errs := filepath.Join(c, "errors")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"template error", []string{filepath.Join(errs, "fail-call")}},
		{"YAML error", []string{filepath.Join(errs, "invalid-yaml-output")}},
		{"YAML error with debug", []string{filepath.Join(errs, "invalid-yaml-output"), "--debug"}},
		{"schema violation", []string{filepath.Join(errs, "schema-violation")}},
		{"kube-version", []string{filepath.Join(c, "kubeversion"), "--kube-version", "1.10.0"}},
		{"missing dependency", []string{filepath.Join(errs, "missing-dependency")}},
		{"bad values", []string{filepath.Join(c, "hello"), "--set", "a[x]=1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := newSandbox(t)
			root := t.TempDir()
			for _, who := range []string{"helm", "pkg"} {
				dir := filepath.Join(root, who)
				// A file a successful render of the chart would overwrite,
				// and one it would not touch.
				seed := map[string]string{
					filepath.Join(dir, "keep.txt"):                            "kept\n",
					filepath.Join(dir, "fail-call", "templates", "fail.yaml"): "old\n",
				}
				for name, body := range seed {
					if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				before := treeListing(t, dir)
				args := append([]string{"template", "--output-dir", dir}, tc.args...)
				var o outcome
				if who == "helm" {
					o = runHelm(t, sb, root, "", args...)
				} else {
					o = runPkg(t, sb, "", args...)
				}
				if o.code == 0 {
					t.Fatalf("%s succeeded; the case needs a failing render", who)
				}
				if strings.Contains(o.stdout, "wrote ") {
					t.Errorf("%s printed wrote lines:\n%s", who, o.stdout)
				}
				after := treeListing(t, dir)
				if len(after) != len(before) {
					t.Errorf("%s changed the output directory: %d entries before, %d after", who, len(before), len(after))
				}
				for p, b := range before {
					if after[p] != b {
						t.Errorf("%s changed %s", who, p)
					}
				}
			}
		})
	}
}

// TestTemplateOutputDirPostRendererFails covers a deliberate difference:
// with --output-dir Helm writes the files and then runs the post-renderer
// (on empty input); when that fails, the files stay. pkg runs the
// post-renderer first, so a failure leaves the directory untouched. The
// error is Helm's.
func TestTemplateOutputDirPostRendererFails(t *testing.T) {
	helmRef(t)
	in := writeTestInputs(t)
	sb := newSandbox(t)
	root := t.TempDir()
	chart := filepath.Join(chartsDir(t), "hello")
	hdir, pdir := filepath.Join(root, "helm-out"), filepath.Join(root, "pkg-out")
	h := runHelm(t, sb, root, "", "template", chart, "--output-dir", hdir, "--post-renderer", in.failing)
	p := runPkg(t, sb, "", "template", chart, "--output-dir", pdir, "--post-renderer", in.failing)
	if h.code != 1 || p.code != 1 {
		t.Fatalf("exit status: helm %d, pkg %d", h.code, p.code)
	}
	if hl, pl := firstErrorLine(h.stderr), firstErrorLine(p.stderr); hl != pl || !strings.Contains(pl, "error while running post render on files") {
		t.Errorf("Error: line:\nhelm: %s\npkg:  %s", hl, pl)
	}
	if got := errorText(p.stderr); !strings.Contains(got, "post-renderer refused the manifests\n: exit status 3\n\nUse --debug flag to render out invalid YAML\n") {
		t.Errorf("pkg's error does not carry the post-renderer's output:\n%s", got)
	}
	if !strings.Contains(h.stdout, "wrote "+hdir) {
		t.Errorf("helm no longer writes before post-rendering; pkg can follow it again:\n%s", h.stdout)
	}
	if p.stdout != "" {
		t.Errorf("pkg printed %q", p.stdout)
	}
	if _, err := os.Stat(pdir); !os.IsNotExist(err) {
		t.Errorf("pkg created %s: %v", pdir, err)
	}
}
