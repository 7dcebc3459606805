package cli_test

import (
	"path/filepath"
	"testing"
)

// TestDependencyUpdateFlag: template, install's shared loader and package
// with --dependency-update fetch a missing file:// dependency first, as
// helm does, and print the same.
func TestDependencyUpdateFlag(t *testing.T) {
	helmRef(t)
	mk := func(root string) string {
		writeFiles(t, root, map[string]string{
			"child/Chart.yaml":         "apiVersion: v2\nname: child\nversion: 0.2.0\n",
			"child/templates/cm.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: child-{{ .Release.Name }}\n",
			"parent/Chart.yaml":        "apiVersion: v2\nname: parent\nversion: 1.0.0\ndependencies:\n- name: child\n  version: ^0.2.0\n  repository: file://../child\n",
			"parent/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: parent-{{ .Release.Name }}\n",
		})
		return filepath.Join(root, "parent")
	}
	for _, args := range [][]string{
		{"template", "r", "--dependency-update"},
		{"package", "--dependency-update", "-d"},
	} {
		hdir, pdir := t.TempDir(), t.TempDir()
		hchart, pchart := mk(hdir), mk(pdir)
		hargs := append(append([]string{}, args...), hchart)
		pargs := append(append([]string{}, args...), pchart)
		if args[0] == "package" {
			hargs = []string{"package", "--dependency-update", "-d", hdir, hchart}
			pargs = []string{"package", "--dependency-update", "-d", pdir, pchart}
		}
		h := runHelm(t, newSandbox(t), hdir, "", hargs...)
		p := runPkg(t, newSandbox(t), "", pargs...)
		if h.code != 0 || p.code != 0 {
			t.Fatalf("%v: exit helm %d pkg %d\nhelm: %s\npkg: %s", args, h.code, p.code, h.stderr, p.stderr)
		}
		if args[0] == "template" && h.stdout != p.stdout {
			t.Errorf("%v: output differs:\n%s", args, diffText(h.stdout, p.stdout))
		}
		if args[0] == "package" {
			ht, pt := treeListing(t, filepath.Join(hdir, "parent")), treeListing(t, filepath.Join(pdir, "parent"))
			if _, ok := pt["charts/child-0.2.0.tgz"]; !ok {
				t.Errorf("package -u did not fetch the dependency: %v", pt)
			}
			if len(ht) != len(pt) {
				t.Errorf("helm and pkg left different trees:\nhelm %v\npkg %v", ht, pt)
			}
		}
	}
}
