package chart

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	helmloader "helm.sh/helm/v3/pkg/chart/loader"
)

// TestLoadMatchesHelm loads every chart of Helm's testdata, directories and
// archives, with Helm's loader and ours, and compares the results.
func TestLoadMatchesHelm(t *testing.T) {
	mod := helmDir(t)
	quietHelmLog(t)
	charts := helmTestCharts(t, mod)
	if len(charts) < 100 {
		t.Fatalf("found only %d test charts in %s", len(charts), mod)
	}
	loaded := 0
	for _, rel := range charts {
		p := filepath.Join(mod, rel)
		theirs, herr := helmloader.Load(p)
		ours, oerr := Load(p)
		t.Run(rel, func(t *testing.T) {
			switch {
			case herr != nil && oerr != nil:
				t.Logf("both refuse: ours: %v; helm: %v", oerr, herr)
			case herr != nil:
				t.Fatalf("Helm refuses (%v), we load %s", herr, ours.Name())
			case oerr != nil:
				t.Fatalf("Helm loads, we refuse: %v", oerr)
			default:
				loaded++
				compareWithHelm(t, rel, ours, theirs)
			}
		})
	}
	if loaded < 100 {
		t.Errorf("only %d charts loaded on both sides", loaded)
	}
}

// writeTree creates files (path → contents) under dir.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const minimalChartYAML = "apiVersion: v2\nname: demo\nversion: 1.0.0\n"

// TestLoadDirMatchesHelm covers .helmignore rules, symbolic links and
// irregular files in chart directories built for the test.
func TestLoadDirMatchesHelm(t *testing.T) {
	quietHelmLog(t)
	base := map[string]string{
		"Chart.yaml":                  minimalChartYAML,
		"values.yaml":                 "a: 1\nb: [x, 2.5, true]\n",
		"README.md":                   "readme",
		"notes.txt":                   "top txt",
		"docs/a.txt":                  "doc txt",
		"docs/guide.md":               "guide",
		"templates/a.yaml":            "kind: A",
		"templates/a-b.yaml":          "kind: AB",
		"templates/a/x.yaml":          "kind: AX",
		"templates/.hidden.yaml":      "hidden",
		"templates/sub/.hidden.yaml":  "nested hidden",
		"templates/_helpers.tpl":      "{{/* */}}",
		"crds/crd.YAML":               "kind: CustomResourceDefinition",
		"charts/sub/Chart.yaml":       "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
		"charts/sub/templates/s.yaml": "kind: S",
		"charts/sub/notes.txt":        "sub txt",
		"ignore/me.txt":               "me",
	}
	tests := []struct {
		name   string
		ignore string // .helmignore contents; "" for none
	}{
		{"no helmignore", ""},
		{"base name glob", "*.txt\n"},
		{"dir only", "docs/\n"},
		{"anchored", "/README.md\n/notes.txt\n"},
		{"path glob", "templates/a*.yaml\ncharts/sub/*.txt\n"},
		{"comments blank and spaces", "# comment\n\n   ignore/   \n"},
		{"crlf and bom", "\xEF\xBB\xBFREADME.md\r\ndocs/\r\n"},
		{"negation", "!*.yaml\n"},
		{"negated dir", "!templates/\n"},
		{"double star", "docs/**/x\n"},
		{"bad glob", "[z-\n"},
		{"dotfiles", ".*\n"},
		{"ignore a whole subchart", "charts/sub/\n"},
		{"ignore Chart.yaml", "Chart.yaml\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "demo")
			writeTree(t, dir, base)
			if tt.ignore != "" {
				writeTree(t, dir, map[string]string{IgnoreFileName: tt.ignore})
			}
			loadBothAndCompare(t, dir)
		})
	}
}

// loadBothAndCompare loads dir with both loaders and compares.
func loadBothAndCompare(t *testing.T, dir string) *Chart {
	t.Helper()
	theirs, herr := helmloader.Load(dir)
	ours, oerr := Load(dir)
	switch {
	case herr != nil && oerr != nil:
		t.Logf("both refuse: ours: %v; helm: %v", oerr, herr)
		return nil
	case herr != nil:
		t.Fatalf("Helm refuses (%v), we load", herr)
	case oerr != nil:
		t.Fatalf("Helm loads, we refuse: %v", oerr)
	}
	compareWithHelm(t, dir, ours, theirs)
	return ours
}

func TestLoadDirSymlinks(t *testing.T) {
	quietHelmLog(t)
	setup := func(t *testing.T) (root, chartDir string) {
		root = t.TempDir()
		chartDir = filepath.Join(root, "demo")
		writeTree(t, chartDir, map[string]string{
			"Chart.yaml":       minimalChartYAML,
			"templates/a.yaml": "kind: A",
		})
		writeTree(t, root, map[string]string{
			"LICENSE":                    "outside license",
			"shared/t.yaml":              "kind: Shared",
			"shared/deeper/u.yaml":       "kind: Deeper",
			"subchart/Chart.yaml":        "apiVersion: v2\nname: linked\nversion: 2.0.0\n",
			"subchart/templates/cm.yaml": "kind: ConfigMap",
		})
		return root, chartDir
	}
	symlink := func(t *testing.T, target, link string) {
		t.Helper()
		if err := os.Symlink(target, link); err != nil {
			t.Skipf("cannot create symlinks: %v", err)
		}
	}

	t.Run("file and folders outside the chart", func(t *testing.T) {
		_, dir := setup(t)
		symlink(t, "../LICENSE", filepath.Join(dir, "LICENSE"))
		symlink(t, "../../shared", filepath.Join(dir, "templates", "shared"))
		if err := os.MkdirAll(filepath.Join(dir, "charts"), 0o755); err != nil {
			t.Fatal(err)
		}
		symlink(t, "../../subchart", filepath.Join(dir, "charts", "linked"))
		symlink(t, "a.yaml", filepath.Join(dir, "templates", "b.yaml"))
		c := loadBothAndCompare(t, dir)
		if c == nil || len(c.Templates) != 4 || len(c.Dependencies()) != 1 {
			t.Fatalf("unexpected chart: %+v", c)
		}
	})
	t.Run("broken link", func(t *testing.T) {
		_, dir := setup(t)
		symlink(t, "nowhere", filepath.Join(dir, "templates", "gone.yaml"))
		if c := loadBothAndCompare(t, dir); c != nil {
			t.Fatal("loaded a chart with a broken link")
		}
		_, err := Load(dir)
		if !strings.Contains(err.Error(), "templates/gone.yaml") {
			t.Errorf("error does not name the link: %v", err)
		}
	})
	t.Run("link to a device", func(t *testing.T) {
		if _, err := os.Stat("/dev/null"); err != nil {
			t.Skip("no /dev/null")
		}
		_, dir := setup(t)
		symlink(t, "/dev/null", filepath.Join(dir, "templates", "null.yaml"))
		if c := loadBothAndCompare(t, dir); c != nil {
			t.Fatal("loaded a chart with a device")
		}
		_, err := Load(dir)
		if !errors.Is(err, ErrIrregularFile) || !strings.Contains(err.Error(), "templates/null.yaml") {
			t.Errorf("error = %v, want ErrIrregularFile naming the file", err)
		}
	})
	t.Run("ignored link to a device", func(t *testing.T) {
		_, dir := setup(t)
		symlink(t, "/dev/null", filepath.Join(dir, "null"))
		writeTree(t, dir, map[string]string{IgnoreFileName: "null\n"})
		loadBothAndCompare(t, dir)
	})
	t.Run("loop back to a parent", func(t *testing.T) {
		// Helm walks such a loop until paths get too long; we stop at once.
		_, dir := setup(t)
		symlink(t, "..", filepath.Join(dir, "templates", "loop"))
		_, err := Load(dir)
		if !errors.Is(err, ErrSymlinkLoop) || !strings.Contains(err.Error(), "templates/loop") {
			t.Errorf("error = %v, want ErrSymlinkLoop naming templates/loop", err)
		}
	})
	t.Run("chart directory is a link", func(t *testing.T) {
		root, dir := setup(t)
		link := filepath.Join(root, "alias")
		symlink(t, dir, link)
		loadBothAndCompare(t, link)
	})
}

func TestLoadDirFileTooLarge(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"Chart.yaml": minimalChartYAML})
	big := make([]byte, MaxDecompressedFileSize+1)
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	if !errors.Is(err, ErrFileTooLarge) || !strings.Contains(err.Error(), "big.bin") {
		t.Fatalf("error = %v, want ErrFileTooLarge naming big.bin", err)
	}
	if _, herr := helmloader.Load(dir); herr == nil {
		t.Error("Helm loads it")
	}
	// Exactly at the bound is fine.
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), big[1:], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err != nil {
		t.Fatal(err)
	}
}

// TestLoadFilesMatchesHelm feeds in-memory file lists to both loaders.
func TestLoadFilesMatchesHelm(t *testing.T) {
	quietHelmLog(t)
	sub := buildArchive(t,
		entry{name: "sub/Chart.yaml", body: "apiVersion: v2\nname: sub\nversion: 0.2.0\n"},
		entry{name: "sub/values.yaml", body: "x: 1\n"},
	)
	tests := []struct {
		name  string
		order []string // keys of contents, in load order; the name is up to ":"
	}{
		{name: "Chart.yaml last", order: []string{"values.yaml", "templates/a.yaml", "Chart.yaml"}},
		{name: "no apiVersion is v1", order: []string{"Chart.yaml:v1", "requirements.yaml", "requirements.lock"}},
		{name: "v2 with requirements", order: []string{"Chart.yaml", "requirements.yaml", "requirements.lock"}},
		{name: "Chart.lock", order: []string{"Chart.yaml", "Chart.lock"}},
		{name: "null lock", order: []string{"Chart.yaml", "Chart.lock:null"}},
		{name: "null values", order: []string{"Chart.yaml", "values.yaml:null"}},
		{name: "empty values", order: []string{"Chart.yaml", "values.yaml:empty"}},
		{name: "list values", order: []string{"Chart.yaml", "values.yaml:list"}},
		{name: "schema", order: []string{"Chart.yaml", "values.schema.json"}},
		{name: "no Chart.yaml", order: []string{"values.yaml"}},
		{name: "only requirements", order: []string{"requirements.yaml"}},
		{name: "two Chart.yaml", order: []string{"Chart.yaml", "Chart.yaml:v1"}},
		{name: "provenance and ignored subcharts", order: []string{"Chart.yaml", "charts/sub-0.2.0.tgz.prov", "charts/_skip/x", "charts/.skip/Chart.yaml"}},
		{name: "stray file in charts", order: []string{"Chart.yaml", "charts/README.md"}},
		{name: "archive subchart", order: []string{"Chart.yaml", "charts/sub-0.2.0.tgz"}},
		{name: "folder named like an archive", order: []string{"Chart.yaml", "charts/x.tgz/Chart.yaml"}},
		{name: "folder subcharts", order: []string{"Chart.yaml", "charts/b/Chart.yaml", "charts/a/Chart.yaml", "charts/a/charts/c/Chart.yaml"}},
		{name: "invalid subchart", order: []string{"Chart.yaml", "charts/bad/Chart.yaml:noversion"}},
		{name: "bad alias", order: []string{"Chart.yaml:badalias"}},
		{name: "weird text", order: []string{"Chart.yaml:weird"}},
	}
	contents := map[string]string{
		"Chart.yaml":                      "apiVersion: v2\nname: top\nversion: 1.0.0\n",
		"Chart.yaml:v1":                   "name: top\nversion: 1.0.0\n",
		"Chart.yaml:noversion":            "apiVersion: v2\nname: bad\n",
		"Chart.yaml:badalias":             "apiVersion: v2\nname: top\nversion: 1.0.0\ndependencies:\n- name: a\n  alias: a.b\n",
		"Chart.yaml:weird":                "apiVersion: v2\nname: top\nversion: 1.0.0\ndescription: \"tab\\there\\u0007bell\\u00a0nbsp\"\nkeywords: [\"a\\nb\"]\n",
		"requirements.yaml":               "dependencies:\n- name: dep\n  version: 1.x\n  repository: https://example.com\n",
		"requirements.lock":               "digest: abc\ndependencies:\n- name: dep\n  version: 1.2.3\n  repository: https://example.com\n",
		"Chart.lock":                      "generated: \"2024-01-02T03:04:05Z\"\ndigest: sha256:x\ndependencies: []\n",
		"Chart.lock:null":                 "null\n",
		"values.yaml":                     "a: 1\nb: {c: [1, 2]}\n",
		"values.yaml:null":                "null\n",
		"values.yaml:empty":               "",
		"values.yaml:list":                "- a\n",
		"values.schema.json":              `{"type": "object"}`,
		"templates/a.yaml":                "kind: A",
		"charts/sub-0.2.0.tgz.prov":       "signature",
		"charts/_skip/x":                  "x",
		"charts/.skip/Chart.yaml":         "apiVersion: v2\nname: skip\nversion: 1.0.0\n",
		"charts/README.md":                "not a chart",
		"charts/sub-0.2.0.tgz":            string(sub),
		"charts/x.tgz/Chart.yaml":         "apiVersion: v2\nname: x\nversion: 1.0.0\n",
		"charts/a/Chart.yaml":             "apiVersion: v2\nname: a\nversion: 1.0.0\n",
		"charts/b/Chart.yaml":             "apiVersion: v2\nname: b\nversion: 1.0.0\n",
		"charts/a/charts/c/Chart.yaml":    "apiVersion: v2\nname: c\nversion: 1.0.0\n",
		"charts/bad/Chart.yaml:noversion": "apiVersion: v2\nname: bad\n",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ours []*File
			var theirs []*helmloader.BufferedFile
			for _, key := range tt.order {
				body, ok := contents[key]
				if !ok {
					t.Fatalf("no contents for %s", key)
				}
				name, _, _ := strings.Cut(key, ":")
				ours = append(ours, &File{Name: name, Data: []byte(body)})
				theirs = append(theirs, &helmloader.BufferedFile{Name: name, Data: []byte(body)})
			}
			hc, herr := helmloader.LoadFiles(theirs)
			oc, oerr := LoadFiles(ours)
			switch {
			case herr != nil && oerr != nil:
				t.Logf("both refuse: ours: %v; helm: %v", oerr, herr)
			case herr != nil:
				t.Fatalf("Helm refuses (%v), we load", herr)
			case oerr != nil:
				t.Fatalf("Helm loads, we refuse: %v", oerr)
			default:
				compareWithHelm(t, tt.name, oc, hc)
			}
		})
	}
}

// TestLoadErrorsNameFileAndLine checks that a user can find the problem
// from the message alone.
func TestLoadErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
		is    error
	}{
		{
			name:  "values.yaml syntax",
			files: map[string]string{"Chart.yaml": minimalChartYAML, "values.yaml": "a: 1\nb: 2\nc: [\n"},
			want:  []string{`loading chart "`, "values.yaml: ", "line 3"},
		},
		{
			name:  "values.yaml bad mapping",
			files: map[string]string{"Chart.yaml": minimalChartYAML, "values.yaml": "a: 1\nb:\n  - x\n  y: 2\n"},
			want:  []string{"values.yaml: ", "line 3"},
		},
		{
			name:  "Chart.yaml syntax",
			files: map[string]string{"Chart.yaml": "apiVersion: v2\nname: [demo\n"},
			want:  []string{"Chart.yaml: ", "line 2"},
		},
		{
			name:  "Chart.yaml wrong type",
			files: map[string]string{"Chart.yaml": "apiVersion: v2\nname: demo\nversion: 1.0.0\nkeywords: oops\n"},
			want:  []string{"Chart.yaml: ", "keywords"},
		},
		{
			name:  "Chart.lock",
			files: map[string]string{"Chart.yaml": minimalChartYAML, "Chart.lock": "digest: [\n"},
			want:  []string{"Chart.lock: ", "line"},
		},
		{
			name:  "subchart values",
			files: map[string]string{"Chart.yaml": minimalChartYAML, "charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 1.0.0\n", "charts/sub/values.yaml": "x: 1\ny: : 2\n"},
			want:  []string{"charts/sub/values.yaml: ", "line 2"},
		},
		{
			name:  "validation",
			files: map[string]string{"Chart.yaml": "apiVersion: v2\nname: demo\nversion: one\n"},
			want:  []string{`Chart.yaml: validation: chart.metadata.version "one" is invalid`},
			is:    ErrInvalidChart,
		},
		{
			name:  "no Chart.yaml",
			files: map[string]string{"values.yaml": "a: 1\n"},
			want:  []string{"Chart.yaml file is missing"},
			is:    ErrChartYAMLMissing,
		},
		{
			name:  "helmignore",
			files: map[string]string{"Chart.yaml": minimalChartYAML, ".helmignore": "ok\n**/x\n"},
			want:  []string{".helmignore: line 2: double-star"},
			is:    ErrDoubleStar,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "demo")
			writeTree(t, dir, tt.files)
			_, err := Load(dir)
			if err == nil {
				t.Fatal("loaded")
			}
			var e *Error
			if !errors.As(err, &e) || e.Op != OpLoad || e.Name != dir {
				t.Errorf("error %#v is not an *Error for %s", err, dir)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

func TestLoadPathErrors(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"values.yaml": "a: 1\n",
		"notes.txt":   "hello",
		"empty":       "",
	})
	tests := []struct {
		name string
		is   error
		want string
	}{
		{"missing", fs.ErrNotExist, "no such file"},
		{"values.yaml", ErrNotArchive, "YAML"},
		{"notes.txt", ErrNotArchive, "chart archive"},
		{"empty", ErrNotArchive, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name)
			c, err := Load(p)
			if c != nil || !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load(%s) = %v, %v; want %v containing %q", tt.name, c, err, tt.is, tt.want)
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the path", err)
			}
			if _, herr := helmloader.Load(p); herr == nil {
				t.Error("Helm loads it")
			}
		})
	}
}

// TestLoadVerifiesHelmFacts pins a few facts about Helm's frobnitz chart
// that the differential test would not catch if both loaders went wrong the
// same way (they do not share code).
func TestLoadVerifiesHelmFacts(t *testing.T) {
	mod := helmDir(t)
	for _, rel := range []string{"pkg/chart/loader/testdata/frobnitz", "pkg/chart/loader/testdata/frobnitz-1.2.3.tgz"} {
		c, err := Load(filepath.Join(mod, rel))
		if err != nil {
			t.Fatal(err)
		}
		if c.Name() != "frobnitz" || c.Metadata.Version != "1.2.3" || c.Lock == nil {
			t.Errorf("%s: metadata %+v", rel, c.Metadata)
		}
		if len(c.Templates) != 1 || c.Templates[0].Name != "templates/template.tpl" {
			t.Errorf("%s: templates %v", rel, c.Templates)
		}
		var names []string
		for _, d := range c.Dependencies() {
			names = append(names, d.Name())
		}
		if strings.Join(names, ",") != "alpine,mariner" {
			t.Errorf("%s: dependencies %v", rel, names)
		}
		for _, f := range c.Files {
			if strings.HasPrefix(f.Name, "ignore/") {
				t.Errorf("%s: ignored file %s loaded", rel, f.Name)
			}
		}
	}
}
