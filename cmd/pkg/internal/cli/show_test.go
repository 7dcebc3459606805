package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// packageWith packages the chart directory src into dest with helm or pkg
// and returns the archive's path.
func packageWith(t *testing.T, who string, sb sandbox, src, dest string, extra ...string) string {
	t.Helper()
	args := append([]string{"package", src, "-d", dest}, extra...)
	var o outcome
	if who == "helm" {
		o = runHelm(t, sb, t.TempDir(), "", args...)
	} else {
		o = runPkg(t, sb, "", args...)
	}
	if o.code != 0 {
		t.Fatalf("%s %v: %s", who, args, o.stderr)
	}
	return strings.TrimPrefix(strings.TrimSpace(o.stdout), "Successfully packaged chart and saved it to: ")
}

func TestShowMatchesHelm(t *testing.T) {
	helmRef(t)
	c := chartsDir(t)
	readme := filepath.Join(localCharts(t), "readme-crds")
	sb := newSandbox(t)
	dest := t.TempDir()
	charts := map[string]string{
		"hello":                  filepath.Join(c, "hello"),
		"crds":                   filepath.Join(c, "crds"),
		"nested":                 filepath.Join(c, "nested"),
		"legacy-v1":              filepath.Join(c, "legacy-v1"),
		"tgz-deps":               filepath.Join(c, "tgz-deps"),
		"schema":                 filepath.Join(c, "schema"),
		"library":                filepath.Join(c, "errors", "library-chart"),
		"readme-crds":            readme,
		"readme-crds.tgz by pkg": packageWith(t, "pkg", sb, readme, filepath.Join(dest, "pkg")),
		"crds.tgz by helm":       packageWith(t, "helm", sb, filepath.Join(c, "crds"), filepath.Join(dest, "helm")),
	}
	var cases []cliCase
	for name, path := range charts {
		for _, part := range []string{"chart", "values", "readme", "crds", "all"} {
			cases = append(cases, cliCase{name: part + " " + name, args: []string{"show", part, path}})
		}
	}
	cases = append(cases,
		cliCase{name: "inspect alias", args: []string{"inspect", "chart", readme}},
		cliCase{name: "missing chart path", args: []string{"show", "chart", filepath.Join(dest, "nope")}},
		cliCase{name: "bare chart name", args: []string{"show", "values", "nope"}},
		cliCase{name: "no chart", args: []string{"show", "chart"}},
		cliCase{name: "two charts", args: []string{"show", "readme", readme, readme}},
		cliCase{name: "version of a local chart", args: []string{"show", "chart", readme, "--version", "1.0.0", "--devel"}},
		cliCase{name: "bad Chart.yaml", args: []string{"show", "chart", filepath.Join(c, "errors", "bad-chart-yaml")},
			exp: expectation{errLocation, regexpMust(`^Error: loading chart ".*": Chart\.yaml: error converting YAML to JSON: yaml: line 4: `)}},
	)
	runCases(t, cases)
}

// TestShowJSONPathUnsupported pins down a known gap: --jsonpath is
// accepted but refused with a clear message.
func TestShowJSONPathUnsupported(t *testing.T) {
	t.Parallel()
	p := runPkg(t, newSandbox(t), "", "show", "values", filepath.Join(localCharts(t), "readme-crds"), "--jsonpath", "{.zeta}")
	if p.code != 1 || firstErrorLine(p.stderr) != "Error: --jsonpath is not supported yet" {
		t.Errorf("got %d, %q", p.code, p.stderr)
	}
}
