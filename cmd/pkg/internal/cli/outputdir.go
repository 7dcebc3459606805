package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"pkg.dev/pkg/render"
)

// templateOutput is what `template --output-dir` writes: one file per
// template, holding every document rendered from it. The files are
// collected first and written only once the whole render has succeeded,
// so a failing render leaves the directory untouched.
//
// The layout, the order of the "wrote" lines and the way files are filled
// are Helm's, quirks included: CRDs go under dir even with
// --release-name; a file is started afresh the first time a run writes it
// and appended to after that; hooks are appended to a file that already
// exists, even one left by an earlier run.
type templateOutput struct {
	dir        string // --output-dir, as given
	releaseDir string // the release name with --release-name, else ""
	entries    []outputEntry
}

type outputEntry struct {
	base string // directory the name is joined to
	name string // the document's source path, such as "mychart/templates/a.yaml"
	body string
	hook bool
}

// addManifests queues the CRDs (when rendered) and the manifests of res.
func (t *templateOutput) addManifests(res *render.Result) {
	for _, c := range res.CRDs {
		t.entries = append(t.entries, outputEntry{base: t.dir, name: c.Filename, body: string(c.File.Data)})
	}
	for _, m := range res.Manifests {
		t.entries = append(t.entries, outputEntry{base: t.templatesDir(), name: m.Name, body: m.Content})
	}
}

// addHooks queues the hooks, leaving out test hooks when skipTests.
func (t *templateOutput) addHooks(hooks []*render.Hook, skipTests bool) {
	for _, h := range hooks {
		if skipTests && h.IsTest() {
			continue
		}
		t.entries = append(t.entries, outputEntry{base: t.templatesDir(), name: h.Path, body: h.Manifest, hook: true})
	}
}

func (t *templateOutput) templatesDir() string {
	if t.releaseDir == "" {
		return t.dir
	}
	return filepath.Join(t.dir, t.releaseDir)
}

// write writes the queued files and prints a "wrote PATH" line for each
// document on w.
func (t *templateOutput) write(w io.Writer) error {
	contents := map[string]*bytes.Buffer{}
	for _, e := range t.entries {
		target := strings.Join([]string{e.base, e.name}, string(filepath.Separator))
		b, seen := contents[target]
		if !seen {
			b = &bytes.Buffer{}
			contents[target] = b
			if e.hook {
				old, err := os.ReadFile(target)
				switch {
				case err == nil:
					b.Write(old)
				case !errors.Is(err, fs.ErrNotExist):
					return err
				}
			}
		}
		fmt.Fprintf(b, "---\n# Source: %s\n%s\n", e.name, e.body)
	}
	written := map[string]bool{}
	for _, e := range t.entries {
		target := strings.Join([]string{e.base, e.name}, string(filepath.Separator))
		if !written[target] {
			if err := os.MkdirAll(path.Dir(target), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(target, contents[target].Bytes(), 0o666); err != nil {
				return err
			}
			written[target] = true
		}
		fmt.Fprintf(w, "wrote %s\n", target)
	}
	return nil
}
