package lint

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/chart"
)

// The chart loader locates its errors structurally (a *chart.FileError
// with the path from the chart root, wrapped in a *chart.Error naming the
// chart); `helm lint` prints Helm's loader wording instead, which names
// each subchart on the way down ("error unpacking subchart SUB in
// PARENT: ...") and the file that failed to parse ("cannot load
// values.yaml: ..."). helmLoadError rewords the loader's errors so.

// chartLevel is one chart of the tree an error path walks down: it knows
// its own name and how to reach its subcharts.
type chartLevel interface {
	name() string
	sub(entry string) chartLevel
}

// dirLevel is a chart unpacked in a directory.
type dirLevel struct{ dir string }

func (d dirLevel) name() string {
	md, err := readChartfile(filepath.Join(d.dir, chart.ChartfileName))
	if err != nil || md == nil {
		return ""
	}
	return md.Name
}

func (d dirLevel) sub(entry string) chartLevel {
	p := filepath.Join(d.dir, chart.ChartsDir, entry)
	if strings.HasSuffix(entry, ".tgz") {
		return archiveLevelFromFile(p)
	}
	return dirLevel{dir: p}
}

// archiveLevel is a chart held in memory as the files of an archive.
type archiveLevel struct{ files []*chart.File }

func archiveLevelFromFile(p string) chartLevel {
	f, err := os.Open(p)
	if err != nil {
		return archiveLevel{}
	}
	defer f.Close()
	files, _ := chart.LoadArchiveFiles(f)
	return archiveLevel{files: files}
}

func (a archiveLevel) name() string {
	for _, f := range a.files {
		if f.Name == chart.ChartfileName {
			md := new(chart.Metadata)
			_ = yaml.Unmarshal(f.Data, md)
			return md.Name
		}
	}
	return ""
}

func (a archiveLevel) sub(entry string) chartLevel {
	prefix := chart.ChartsDir + "/" + entry
	if strings.HasSuffix(entry, ".tgz") {
		for _, f := range a.files {
			if f.Name == prefix {
				files, _ := chart.LoadArchiveFiles(bytes.NewReader(f.Data))
				return archiveLevel{files: files}
			}
		}
		return archiveLevel{}
	}
	var inner []*chart.File
	for _, f := range a.files {
		if rest, ok := strings.CutPrefix(f.Name, prefix+"/"); ok {
			inner = append(inner, &chart.File{Name: rest, Data: f.Data})
		}
	}
	return archiveLevel{files: inner}
}

// loadError is a loader error reworded as Helm words it.
type loadError struct {
	text string
	err  error
}

func (e *loadError) Error() string { return e.text }
func (e *loadError) Unwrap() error { return e.err }

// helmLoadError rewords err, returned by loading the chart in dir, as
// Helm's loader would have worded the same failure.
func helmLoadError(err error, dir string) error {
	if err == nil {
		return nil
	}
	inner := err
	var ce *chart.Error
	if errors.As(err, &ce) {
		inner = ce.Err
	}
	return &loadError{text: loadErrorText(inner, dirLevel{dir: dir}), err: err}
}

// reportsCannotLoad reports whether Helm words parse errors of the file
// at path (relative to a chart) as "cannot load FILE: cause".
func reportsCannotLoad(path string) bool {
	switch path {
	case chart.ChartfileName, chart.LockfileName, chart.ValuesfileName,
		chart.RequirementsName, chart.RequirementsLock:
		return true
	}
	return false
}

// loadErrorText words err, which happened while loading the chart at
// level.
func loadErrorText(err error, level chartLevel) string {
	var ve *chart.ValidationError
	var fe *chart.FileError
	switch {
	case errors.As(err, &fe) && err == error(fe):
		return fileErrorText(fe, level)
	case errors.As(err, &ve) && err == error(ve):
		return ve.Error()
	case errors.Is(err, chart.ErrChartYAMLMissing):
		return "Chart.yaml file is missing"
	}
	// Subchart archives fail as archives do.
	return helmArchiveError(err).Error()
}

// fileErrorText words a failure located in a file or subchart of level.
func fileErrorText(fe *chart.FileError, level chartLevel) string {
	if rest, ok := strings.CutPrefix(fe.Path, chart.ChartsDir+"/"); ok {
		entry, tail, _ := strings.Cut(rest, "/")
		sub := level.sub(entry)
		cause := fe.Err
		if tail != "" {
			cause = &chart.FileError{Path: tail, Err: fe.Err}
		}
		return "error unpacking subchart " + entry + " in " + level.name() + ": " + loadErrorText(cause, sub)
	}
	if !reportsCannotLoad(fe.Path) {
		return fe.Error()
	}
	var ve *chart.ValidationError
	if fe.Path == chart.ChartfileName && errors.As(fe.Err, &ve) {
		// Metadata that breaks the chart format: Helm's text as it is.
		return fe.Err.Error()
	}
	return "cannot load " + fe.Path + ": " + fe.Err.Error()
}

// helmArchiveError rewords an error of chart.LoadArchiveFiles as Helm's
// archive reader words the same failure.
func helmArchiveError(err error) error {
	if err == nil {
		return nil
	}
	inner := err
	var ce *chart.Error
	if errors.As(err, &ce) {
		inner = ce.Err
	}
	var ee *chart.EntryError
	text := inner.Error()
	switch {
	case errors.Is(inner, chart.ErrNoFiles):
		text = "no files in chart archive"
	case errors.Is(inner, chart.ErrChartTooLarge):
		text = fmt.Sprintf("decompressed chart is larger than the maximum file size %d", chart.MaxDecompressedChartSize)
	case errors.As(inner, &ee) && errors.Is(ee.Err, chart.ErrFileTooLarge):
		text = fmt.Sprintf("decompressed chart file %q is larger than the maximum file size %d", ee.Entry, chart.MaxDecompressedFileSize)
	case errors.As(inner, &ee) && errors.Is(ee.Err, chart.ErrIllegalPath):
		if t := illegalEntryText(ee.Entry); t != "" {
			text = t
		}
	case errors.As(inner, &ee):
		// Links and special files, which Helm does not refuse: keep ours.
	default:
		// Decompression and tar errors, which Helm reports bare.
		if u := errors.Unwrap(inner); u != nil && !isChartSentinel(u) {
			text = u.Error()
		}
	}
	return &loadError{text: text, err: err}
}

// isChartSentinel reports whether err is one of the chart package's
// sentinel errors, whose wrapping carries detail worth keeping.
func isChartSentinel(err error) bool {
	for _, s := range []error{chart.ErrTooManyEntries, chart.ErrTooDeep, chart.ErrLink, chart.ErrIrregularFile, chart.ErrIllegalPath, chart.ErrFileTooLarge, chart.ErrChartTooLarge, chart.ErrNotArchive} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// illegalEntryText says why Helm refuses the archive entry named entry,
// applying Helm's checks in Helm's order, or "" if none applies.
func illegalEntryText(entry string) string {
	sep := "/"
	if strings.Contains(entry, `\`) {
		sep = `\`
	}
	parts := strings.Split(entry, sep)
	rel := strings.ReplaceAll(strings.Join(parts[1:], sep), sep, "/")
	if path.IsAbs(rel) {
		return "chart illegally contains absolute paths"
	}
	rel = path.Clean(rel)
	switch {
	case rel == ".":
		return fmt.Sprintf("chart illegally contains content outside the base directory: %q", entry)
	case strings.HasPrefix(rel, ".."):
		return "chart illegally references parent directory"
	case len(rel) >= 3 && rel[1] == ':' && rel[2] == '/' && unicode.IsLetter(rune(rel[0])) && rel[0] < utf8.RuneSelf:
		return "chart contains illegally named files"
	case parts[0] == chart.ChartfileName:
		return "chart yaml not in base directory"
	}
	return ""
}
