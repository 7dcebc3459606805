package chart

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	helmignore "helm.sh/helm/v3/pkg/ignore"
)

// fakeInfo is the os.FileInfo Helm's matcher wants; only IsDir matters.
type fakeInfo struct{ dir bool }

func (f fakeInfo) Name() string       { return "x" }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() fs.FileMode  { return 0 }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.dir }
func (f fakeInfo) Sys() any           { return nil }

// ignorePaths are matched against every rule set; a trailing "/" marks a
// directory.
var ignorePaths = []string{
	"", ".", "./", "helm.txt", "rudder.txt", "tiller.txt", "a.txt", "cargo/", "cargo/a.txt",
	"cargo/b/c.txt", "mast/", "mast/a.txt", "templates/", "templates/.dotfile",
	"templates/.", "templates/a.yaml", "templates/sub/.hidden", "templates/_h.tpl",
	".joonix", ".git/", ".git/config", "docs/", "docs/x.md", "Chart.yaml",
	"values.yaml", "charts/", "charts/sub/", "charts/sub/values.yaml", "a[b].txt",
	"ab.txt", "foo~", "x.swp", "dir.bak/", "README.md", "readme.md", "a b.txt",
}

// ignoreRuleSets are .helmignore files to compare with Helm's matcher.
var ignoreRuleSets = []string{
	"helm.txt", "helm.*", "*.txt", "cargo/*.txt", "cargo/*.*", "ru[c-e]?er.txt",
	"templates/.?*", ".*", "cargo/", "helm.txt/", "!helm.txt", "!*.txt", "!cargo/",
	"/a.txt", "/cargo/a.txt", "/cargo/", "//cargo", "/", "!", "!/", "*", "*/",
	"a[b].txt", `a\[b\].txt`, "a?.txt", "*~\n*.swp\n*.bak\n", "docs/\n!docs/x.md",
	"*.txt\n!a.txt", "!a.txt\n*.txt", "  templates/*.yaml  ", "#*.txt", "\\#x",
	"charts/*/values.yaml", "charts/sub/", "*/", "a b.txt", "README.*\n/values.yaml\n",
	scaffoldHelmignore,
	"[a-c]*.txt\n[!a]*.txt", "[^a]*.txt",
}

func helmIgnores(t *testing.T, rules, p string) (bool, error) {
	t.Helper()
	r, err := helmignore.Parse(strings.NewReader(rules))
	if err != nil {
		return false, err
	}
	r.AddDefaults()
	dir := strings.HasSuffix(p, "/") && p != "./"
	return r.Ignore(p, fakeInfo{dir: dir}), nil
}

func TestIgnoreMatchesHelm(t *testing.T) {
	quietHelmLog(t)
	for _, rules := range ignoreRuleSets {
		t.Run(rules, func(t *testing.T) {
			ours, err := ParseIgnore(strings.NewReader(rules))
			if err != nil {
				t.Fatal(err)
			}
			ours = ours.withDefaults()
			for _, p := range ignorePaths {
				want, err := helmIgnores(t, rules, p)
				if err != nil {
					t.Fatal(err)
				}
				dir := strings.HasSuffix(p, "/") && p != "./"
				if got := ours.Ignore(p, dir); got != want {
					t.Errorf("Ignore(%q, dir=%v) = %v, Helm %v", p, dir, got, want)
				}
			}
		})
	}
}

func TestParseIgnoreErrors(t *testing.T) {
	tests := []struct {
		rules string
		want  string
		is    error
	}{
		{"foo/**/bar", "line 1", ErrDoubleStar},
		{"ok\n**", "line 2", ErrDoubleStar},
		{"a\nb\n[z-", "line 3", nil},
		{"\xEF\xBB\xBF[", "line 1", nil},
		{strings.Repeat("x", 70<<10), "too long", nil},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := ParseIgnore(strings.NewReader(tt.rules))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if _, herr := helmignore.Parse(strings.NewReader(tt.rules)); herr == nil {
				t.Error("Helm accepts it")
			}
		})
	}
}

func TestIgnoreZeroValue(t *testing.T) {
	var r *IgnoreRules
	if r.Ignore("a", false) || (&IgnoreRules{}).Ignore("templates/.x", false) {
		t.Error("empty rules ignore something")
	}
	if !(&IgnoreRules{}).withDefaults().Ignore("templates/.x", false) {
		t.Error("default rule missing")
	}
}

// FuzzIgnoreMatchesHelm compares our matcher with Helm's on arbitrary
// rules and paths.
func FuzzIgnoreMatchesHelm(f *testing.F) {
	for _, rules := range ignoreRuleSets {
		f.Add(rules, "cargo/a.txt", false)
		f.Add(rules, "templates/.x", false)
		f.Add(rules, "docs", true)
	}
	f.Fuzz(func(t *testing.T, rules, p string, dir bool) {
		hr, herr := helmignore.Parse(strings.NewReader(rules))
		ours, err := ParseIgnore(strings.NewReader(rules))
		if (err == nil) != (herr == nil) {
			t.Fatalf("parse: ours %v, Helm %v", err, herr)
		}
		if err != nil {
			return
		}
		if got, want := ours.Ignore(p, dir), hr.Ignore(p, fakeInfo{dir: dir}); got != want {
			t.Fatalf("Ignore(%q, %v) = %v, Helm %v", p, dir, got, want)
		}
	})
}
