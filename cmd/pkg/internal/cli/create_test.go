package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCreateMatchesHelm runs `create` with helm and pkg in two
// directories and compares what they print and the trees they write:
// every path, mode and byte.
func TestCreateMatchesHelm(t *testing.T) {
	helmRef(t)
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, root string) // run in each side's root first
		arg   string                          // NAME, relative to the root
		exp   expectation
	}{
		{name: "new chart", arg: "mychart"},
		{name: "name with dots and dashes", arg: "my.chart-2_x"},
		{name: "in an existing directory", arg: "sub/mychart", setup: mkdirs("sub")},
		{name: "over an existing chart", arg: "mychart", setup: func(t *testing.T, root string) {
			t.Helper()
			writeFiles(t, root, map[string]string{
				"mychart/Chart.yaml":           "name: old\n",
				"mychart/templates/extra.yaml": "kept: true\n",
				"mychart/notes.md":             "kept\n",
			})
		}},
		{name: "over an existing file", arg: "afile", setup: func(t *testing.T, root string) {
			writeFiles(t, root, map[string]string{"afile": "x\n"})
		}, exp: expectation{errOurs, regexp.MustCompile(`^Error: creating chart "afile": file ROOT/afile already exists and is not a directory$`)}},
		{name: "parent is a file", arg: "afile/x", setup: func(t *testing.T, root string) {
			writeFiles(t, root, map[string]string{"afile": "x\n"})
		}, exp: expectation{errOurs, regexp.MustCompile(`^Error: creating chart "x": no such directory ROOT/afile$`)}},
		{name: "missing parent", arg: "no/such/dir",
			exp: expectation{errOurs, regexp.MustCompile(`^Error: creating chart "dir": stat ROOT/no/such: no such file or directory$`)}},
		{name: "invalid name", arg: "bad*name",
			exp: expectation{errOurs, regexp.MustCompile(`^Error: creating chart "bad\*name": invalid chart name: chart name must match the regular expression "\^\[a-zA-Z0-9\._-\]\+\$"$`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := newSandbox(t)
			hroot, proot := t.TempDir(), t.TempDir()
			if tc.setup != nil {
				tc.setup(t, hroot)
				tc.setup(t, proot)
			}
			h := runHelm(t, sb, hroot, "", "create", filepath.Join(hroot, tc.arg))
			p := runPkg(t, sb, "", "create", filepath.Join(proot, tc.arg))
			for _, o := range []*outcome{&h, &p} {
				o.stdout = strings.NewReplacer(hroot, "ROOT", proot, "ROOT").Replace(o.stdout)
				o.stderr = strings.NewReplacer(hroot, "ROOT", proot, "ROOT").Replace(o.stderr)
			}
			compareOutcomes(t, h, p, tc.exp, nil)
			compareTrees(t, treeListing(t, hroot), treeListing(t, proot))
		})
	}
}

// TestCreateStarterUnsupported pins down a known gap: --starter is
// refused with a clear message.
func TestCreateStarterUnsupported(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	p := runPkg(t, newSandbox(t), "", "create", filepath.Join(root, "c"), "--starter", "mystarter")
	if p.code != 1 || !strings.Contains(firstErrorLine(p.stderr), "--starter: creating a chart from a starter is not supported yet") {
		t.Errorf("got %d, %q", p.code, p.stderr)
	}
}

func mkdirs(dirs ...string) func(t *testing.T, root string) {
	return func(t *testing.T, root string) {
		t.Helper()
		for _, d := range dirs {
			if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
