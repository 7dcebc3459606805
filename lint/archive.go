package lint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/chart"
)

// unpackArchive extracts the chart archive at path into a folder named
// for the chart inside dir, as Helm does before linting an archive, and
// returns that folder. Files are written as stored, without parsing.
func unpackArchive(path, dir string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("unable to open tarball: %w", err)
	}
	defer f.Close()
	if err := expandChart(f, dir); err != nil {
		return "", fmt.Errorf("unable to extract tarball: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("unable to read temporary output directory %s: %w", dir, err)
	}
	if len(entries) == 0 || !entries[0].IsDir() {
		name := ""
		if len(entries) > 0 {
			name = entries[0].Name()
		}
		return "", fmt.Errorf("unexpected file %s in temporary output directory %s", name, dir)
	}
	return filepath.Join(dir, entries[0].Name()), nil
}

// expandChart writes the files of the archive read from f under
// dir/NAME, NAME being the chart's name from its Chart.yaml.
func expandChart(f *os.File, dir string) error {
	files, err := chart.LoadArchiveFiles(f)
	if err != nil {
		return helmArchiveError(err)
	}
	var name string
	for _, file := range files {
		if file.Name != chart.ChartfileName {
			continue
		}
		md := &chart.Metadata{}
		if err := yaml.Unmarshal(file.Data, md); err != nil {
			return fmt.Errorf("cannot load Chart.yaml: %w", err)
		}
		name = md.Name
	}
	switch {
	case name == "":
		return errors.New("chart name not specified")
	case name == "." || name == "..":
		return fmt.Errorf("chart name %q is not allowed", name)
	case name != filepath.Base(name):
		return fmt.Errorf("chart name %q must not contain path separators", name)
	}
	root := filepath.Join(filepath.Clean(dir), name)
	for _, file := range files {
		// LoadArchiveFiles refuses names that leave the chart; check
		// again rather than trust it with the file system.
		out := filepath.Join(root, filepath.FromSlash(file.Name))
		if !strings.HasPrefix(out, root+string(filepath.Separator)) {
			return fmt.Errorf("archive entry %q is outside the chart", file.Name)
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(out, file.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
