package repo

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"pkg.dev/pkg/chart"
)

// IndexDirectory builds the index of the chart archives (*.tgz) in dir
// and its immediate subdirectories, as `helm repo index` does: each
// archive's URL is baseURL joined with its path relative to dir, files
// that do not load as charts are skipped, and created is the time
// recorded for every entry.
func IndexDirectory(dir, baseURL string, created time.Time) (*IndexFile, error) {
	fail := func(err error) (*IndexFile, error) {
		return nil, &Error{Op: OpIndexDir, URL: dir, Err: err}
	}
	top, err := filepath.Glob(filepath.Join(dir, "*.tgz"))
	if err != nil {
		return fail(err)
	}
	nested, err := filepath.Glob(filepath.Join(dir, "**", "*.tgz"))
	if err != nil {
		return fail(err)
	}
	idx := NewIndexFile(created)
	for _, archive := range append(top, nested...) {
		rel, err := filepath.Rel(dir, archive)
		if err != nil {
			return fail(err)
		}
		parent, file := filepath.Split(rel)
		parent = filepath.ToSlash(filepath.Clean(parent))
		url := baseURL
		if parent != "." {
			url = joinURL(baseURL, parent)
		}
		c, err := chart.Load(archive)
		if err != nil {
			continue
		}
		digest, err := DigestFile(archive)
		if err != nil {
			return fail(err)
		}
		if err := idx.Add(c.Metadata, file, url, digest, created); err != nil {
			return fail(fmt.Errorf("failed adding to %s to index: %w", file, err))
		}
	}
	return idx, nil
}

// IndexOptions configure WriteDirectoryIndex.
type IndexOptions struct {
	// URL is the repository's base URL for the archives' URLs.
	URL string
	// Merge names an existing index to merge the new entries into; the
	// archives found take precedence. A missing file is created empty.
	Merge string
	// JSON writes the index as JSON rather than YAML.
	JSON bool
	// Now is the generation and creation time.
	Now time.Time
	// Warn receives warnings about skipped entries of the merged index.
	Warn func(string)
}

// WriteDirectoryIndex writes dir/index.yaml for the archives in dir, as
// `helm repo index` does, atomically.
func WriteDirectoryIndex(dir string, o IndexOptions) error {
	idx, err := IndexDirectory(dir, o.URL, o.Now)
	if err != nil {
		return err
	}
	if o.Merge != "" {
		var old *IndexFile
		if _, err := os.Stat(o.Merge); os.IsNotExist(err) {
			old = NewIndexFile(o.Now)
			if err := old.WriteFile(o.Merge, 0o644, o.JSON); err != nil {
				return err
			}
		} else {
			old, err = LoadIndexFile(o.Merge, o.Warn)
			if err != nil {
				return fmt.Errorf("merge failed: %w", err)
			}
		}
		idx.Merge(old)
	}
	idx.SortEntries()
	return idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644, o.JSON)
}
