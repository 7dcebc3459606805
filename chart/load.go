package chart

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Bounds on what a chart may hold. The first two are Helm's.
const (
	// MaxDecompressedChartSize bounds the decompressed size of all files of
	// a chart archive (100 MiB). Subchart archives inside it count against
	// the same budget.
	MaxDecompressedChartSize int64 = 100 << 20
	// MaxDecompressedFileSize bounds the size of any one file of a chart
	// (5 MiB), in an archive or in a directory.
	MaxDecompressedFileSize int64 = 5 << 20
	// MaxArchiveEntries bounds the number of entries of a chart archive,
	// subchart archives included.
	MaxArchiveEntries = 100_000
	// MaxSubchartDepth bounds how deeply subcharts may be nested.
	MaxSubchartDepth = 64
)

// File names with a meaning in a chart.
const (
	// ChartfileName is the chart's metadata.
	ChartfileName = "Chart.yaml"
	// LockfileName holds the resolved dependencies of a v2 chart.
	LockfileName = "Chart.lock"
	// ValuesfileName holds the default values.
	ValuesfileName = "values.yaml"
	// SchemafileName is the JSON schema the values must satisfy.
	SchemafileName = "values.schema.json"
	// RequirementsName lists the dependencies of a v1 chart.
	RequirementsName = "requirements.yaml"
	// RequirementsLock holds the resolved dependencies of a v1 chart.
	RequirementsLock = "requirements.lock"
	// TemplatesDir holds the templates.
	TemplatesDir = "templates"
	// ChartsDir holds the subcharts, as folders or .tgz archives.
	ChartsDir = "charts"

	provenanceFileExt = ".prov"
)

// utf8BOM is removed from the start of every file.
const utf8BOM = "\xEF\xBB\xBF"

// Load loads a chart from a directory or from a gzipped tar archive (a
// .tgz file, whatever its name). A directory's .helmignore is honoured; an
// archive's is not, as in Helm.
func Load(name string) (*Chart, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, &Error{Op: OpLoad, Name: name, Err: unwrapPathError(err)}
	}
	if fi.IsDir() {
		return LoadDir(name)
	}
	return loadArchiveFile(name)
}

// LoadFiles builds a chart from files already in memory, named relative to
// the chart root with slashes (as LoadArchiveFiles returns them). Files
// under charts/ become subcharts, folders or .tgz archives; every file is
// also kept in Raw.
func LoadFiles(files []*File) (*Chart, error) {
	l := newLoader()
	c, err := l.loadFiles(files, 0)
	if err != nil {
		return nil, &Error{Op: OpLoad, Name: c.Name(), Err: err}
	}
	return c, nil
}

// loader holds the budget one load may spend: decompressed bytes and
// archive entries are shared by a chart and all its subchart archives.
type loader struct {
	fileSize int64 // bound on one file
	budget   int64 // decompressed bytes left for archive contents
	entries  int   // archive entries left
}

func newLoader() *loader {
	return &loader{
		fileSize: MaxDecompressedFileSize,
		budget:   MaxDecompressedChartSize,
		entries:  MaxArchiveEntries,
	}
}

// loadFiles sorts files into a chart the way Helm does. On error it returns
// what it has loaded so far (for naming the chart in the error).
func (l *loader) loadFiles(files []*File, depth int) (*Chart, error) {
	c := &Chart{Raw: make([]*File, 0, len(files))}

	// Chart.yaml first, wherever it is in the list: later files depend on
	// its apiVersion.
	for _, f := range files {
		c.Raw = append(c.Raw, &File{Name: f.Name, Data: f.Data})
		if f.Name != ChartfileName {
			continue
		}
		if c.Metadata == nil {
			c.Metadata = new(Metadata)
		}
		if err := yaml.Unmarshal(f.Data, c.Metadata); err != nil {
			return c, &FileError{Path: f.Name, Err: err}
		}
		// Helm 2 charts may omit apiVersion; they are v1 charts.
		if c.Metadata.APIVersion == "" {
			c.Metadata.APIVersion = APIVersionV1
		}
	}

	subcharts := make(map[string][]*File)
	for _, f := range files {
		switch name := f.Name; {
		case name == ChartfileName:
		case name == LockfileName:
			c.Lock = new(Lock)
			if err := yaml.Unmarshal(f.Data, &c.Lock); err != nil {
				return c, &FileError{Path: name, Err: err}
			}
		case name == ValuesfileName:
			c.Values = make(map[string]any)
			if err := yaml.Unmarshal(f.Data, &c.Values); err != nil {
				return c, &FileError{Path: name, Err: err}
			}
		case name == SchemafileName:
			c.Schema = f.Data
		case name == RequirementsName:
			// Dependencies of apiVersion v1 charts. Helm reads the file
			// whatever the apiVersion, but keeps it as a file only for v1.
			if c.Metadata == nil {
				c.Metadata = new(Metadata)
			}
			if err := yaml.Unmarshal(f.Data, c.Metadata); err != nil {
				return c, &FileError{Path: name, Err: err}
			}
			if c.Metadata.APIVersion == APIVersionV1 {
				c.Files = append(c.Files, &File{Name: name, Data: f.Data})
			}
		case name == RequirementsLock:
			c.Lock = new(Lock)
			if err := yaml.Unmarshal(f.Data, &c.Lock); err != nil {
				return c, &FileError{Path: name, Err: err}
			}
			if c.Metadata == nil {
				c.Metadata = new(Metadata)
			}
			if c.Metadata.APIVersion == APIVersionV1 {
				c.Files = append(c.Files, &File{Name: name, Data: f.Data})
			}
		case strings.HasPrefix(name, TemplatesDir+"/"):
			c.Templates = append(c.Templates, &File{Name: name, Data: f.Data})
		case strings.HasPrefix(name, ChartsDir+"/"):
			if path.Ext(name) == provenanceFileExt {
				c.Files = append(c.Files, &File{Name: name, Data: f.Data})
				continue
			}
			rest := name[len(ChartsDir)+1:]
			sub, _, _ := strings.Cut(rest, "/")
			subcharts[sub] = append(subcharts[sub], &File{Name: rest, Data: f.Data})
		default:
			c.Files = append(c.Files, &File{Name: name, Data: f.Data})
		}
	}

	if c.Metadata == nil {
		return c, ErrChartYAMLMissing
	}
	if err := c.Metadata.Validate(); err != nil {
		return c, &FileError{Path: ChartfileName, Err: err}
	}
	if err := l.loadSubcharts(c, subcharts, depth); err != nil {
		return c, err
	}
	return c, nil
}

// loadSubcharts loads the entries of charts/ and adds them to c in the
// lexical order of their names under charts/. (Helm adds them in Go's
// random map order; a fixed order makes loading reproducible.)
func (l *loader) loadSubcharts(c *Chart, subcharts map[string][]*File, depth int) error {
	names := make([]string, 0, len(subcharts))
	for n := range subcharts {
		// Entries starting with "_" or "." are not charts.
		if strings.IndexAny(n, "_.") == 0 {
			continue
		}
		names = append(names, n)
	}
	slices.Sort(names)

	for _, n := range names {
		where := ChartsDir + "/" + n
		if depth+1 > MaxSubchartDepth {
			return &FileError{Path: where, Err: fmt.Errorf("%w (more than %d levels)", ErrTooDeep, MaxSubchartDepth)}
		}
		files := subcharts[n]
		var (
			sc  *Chart
			err error
		)
		if path.Ext(n) == ".tgz" {
			if files[0].Name != n {
				return &FileError{Path: where, Err: fmt.Errorf("expected a chart archive, found %s", files[0].Name)}
			}
			sc, err = l.loadArchive(bytes.NewReader(files[0].Data), depth+1)
		} else {
			// Strip "NAME/"; files directly under charts/ that are not
			// archives belong to no chart and are dropped.
			inner := make([]*File, 0, len(files))
			for _, f := range files {
				_, rest, ok := strings.Cut(f.Name, "/")
				if !ok {
					continue
				}
				inner = append(inner, &File{Name: rest, Data: f.Data})
			}
			sc, err = l.loadFiles(inner, depth+1)
		}
		if err != nil {
			return inFile(where, err)
		}
		c.AddDependency(sc)
	}
	return nil
}

// inFile wraps err as happening in the file or folder p. An error that
// already names a file of a subchart folder gets the joined path.
func inFile(p string, err error) error {
	if fe, ok := err.(*FileError); ok && !strings.HasSuffix(p, ".tgz") {
		return &FileError{Path: p + "/" + fe.Path, Err: fe.Err}
	}
	return &FileError{Path: p, Err: err}
}

// unwrapPathError drops the *fs.PathError around err: the path is already
// named by the error that wraps it.
func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
