package repo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Cache is the repository cache directory Helm uses
// ($HELM_CACHE_HOME/repository by default): NAME-index.yaml and
// NAME-charts.txt per repository, and downloaded chart archives.
type Cache struct {
	Dir string
}

// IndexPath is where the index of repository name is cached.
func (c Cache) IndexPath(name string) string { return filepath.Join(c.Dir, name+"-index.yaml") }

// ChartsPath is where the chart names of repository name are cached.
func (c Cache) ChartsPath(name string) string { return filepath.Join(c.Dir, name+"-charts.txt") }

// LoadIndex reads the cached index of repository name.
func (c Cache) LoadIndex(name string, warn func(string)) (*IndexFile, error) {
	i, err := LoadIndexFile(c.IndexPath(name), warn)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Repo = name
		}
		return nil, err
	}
	return i, nil
}

// LoadChartIndex reads the cached index of repository name to resolve
// the chart chartName; see LoadIndexChart.
func (c Cache) LoadChartIndex(name, chartName string, warn func(string)) (*IndexFile, error) {
	i, err := LoadIndexChart(c.IndexPath(name), chartName, warn)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Repo = name
		}
		return nil, err
	}
	return i, nil
}

// StoreIndex caches the index of repository name: raw, the bytes the
// server sent, as NAME-index.yaml and the chart names of idx, sorted, as
// NAME-charts.txt. Both files are replaced together or not at all.
func (c Cache) StoreIndex(name string, raw []byte, idx *IndexFile) error {
	names := make([]string, 0, len(idx.Entries))
	for n := range idx.Entries {
		names = append(names, n)
	}
	slices.Sort(names)
	var charts strings.Builder
	for _, n := range names {
		charts.WriteString(n)
		charts.WriteByte('\n')
	}
	err := writeFilesAtomic(map[string][]byte{
		c.ChartsPath(name): []byte(charts.String()),
		c.IndexPath(name):  raw,
	}, 0o644)
	if err != nil {
		return &Error{Op: OpWriteCache, Repo: name, URL: c.Dir, Err: err}
	}
	return nil
}

// RemoveIndex deletes the cached files of repository name; missing files
// are not an error.
func (c Cache) RemoveIndex(name string) error {
	for _, p := range []string{c.ChartsPath(name), c.IndexPath(name)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return &Error{Op: OpWriteCache, Repo: name, URL: p, Err: err}
		}
	}
	return nil
}

// StoreArchive writes a chart archive atomically as Dir/filename (only
// the base name of filename is used) and returns its path.
func (c Cache) StoreArchive(filename string, data []byte) (string, error) {
	return StoreArchive(c.Dir, filename, data)
}

// StoreArchive writes a chart archive atomically as dir/filename (only
// the base name of filename is used) and returns its path.
func StoreArchive(dir, filename string, data []byte) (string, error) {
	base := filepath.Base(filepath.FromSlash(filename))
	if base == "." || base == ".." || base == string(filepath.Separator) || strings.ContainsAny(base, "/\\") {
		return "", fmt.Errorf("%q cannot be used as the file name of a chart archive", filename)
	}
	dest := filepath.Join(dir, base)
	if err := writeFileAtomic(dest, data, 0o644); err != nil {
		return "", err
	}
	return dest, nil
}
