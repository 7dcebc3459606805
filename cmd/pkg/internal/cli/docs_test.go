package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsPages generates the CLI reference as `make docs` does and checks
// that every command has a page, that pages link to pages that exist, and
// that nothing of the generating machine (its home directory) leaks in.
func TestDocsPages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sb := newSandbox(t)
	p := runPkg(t, sb, "", "docs", "--dir", dir)
	if p.code != 0 {
		t.Fatalf("docs: exit %d: %s", p.code, p.stderr)
	}
	want := []string{"pkg.md", "pkg_template.md", "pkg_show.md", "pkg_show_values.md", "pkg_create.md", "pkg_package.md",
		"pkg_version.md", "pkg_lint.md", "pkg_completion.md", "pkg_completion_bash.md"}
	for _, name := range want {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("missing page: %v", err)
		}
	}
	link := regexp.MustCompile(`\]\(([^)]+\.md)\)`)
	pages, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	for _, page := range pages {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		if strings.Contains(text, sb["HOME"]) || strings.Contains(text, os.Getenv("HOME")+"/") {
			t.Errorf("%s names the generating machine's home directory", filepath.Base(page))
		}
		if !strings.HasPrefix(text, "# pkg") {
			t.Errorf("%s does not start with its command's title", filepath.Base(page))
		}
		if strings.Contains(text, "pkg_docs.md") || strings.Contains(text, "pkg docs") {
			t.Errorf("%s documents the hidden docs command", filepath.Base(page))
		}
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			if _, err := os.Stat(filepath.Join(dir, m[1])); err != nil {
				t.Errorf("%s links to a missing page %s", filepath.Base(page), m[1])
			}
		}
	}
}
