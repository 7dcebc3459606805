package chart

import (
	"errors"
	"fmt"
	"strconv"
)

// Operations named by Error.Op.
const (
	OpLoad     = "loading chart"
	OpValidate = "validating chart"
	OpSave     = "packaging chart"
	OpCreate   = "creating chart"
)

// Sentinel errors. Test for them with errors.Is; the errors returned by
// this package wrap them with the file, entry or chart they concern.
var (
	// ErrChartYAMLMissing means a chart has no Chart.yaml at its root.
	ErrChartYAMLMissing = errors.New("Chart.yaml file is missing")
	// ErrNoFiles means an archive holds no files at all.
	ErrNoFiles = errors.New("no files in chart archive")
	// ErrNotArchive means a file given as a chart is not gzip-compressed.
	ErrNotArchive = errors.New("not a gzipped archive")
	// ErrIllegalPath means an archive entry is absolute, escapes the
	// chart's directory or is otherwise not a path inside the chart.
	ErrIllegalPath = errors.New("path is not inside the chart directory")
	// ErrLink means an archive entry is a symbolic or hard link; charts
	// are untrusted and links are refused.
	ErrLink = errors.New("links are not allowed in chart archives")
	// ErrIrregularFile means a device, pipe, socket or other non-regular
	// file was found where a chart file was expected.
	ErrIrregularFile = errors.New("not a regular file")
	// ErrFileTooLarge means one file is bigger than MaxDecompressedFileSize.
	ErrFileTooLarge = errors.New("file is larger than the maximum file size")
	// ErrChartTooLarge means the files of an archive together exceed
	// MaxDecompressedChartSize.
	ErrChartTooLarge = errors.New("decompressed chart is larger than the maximum chart size")
	// ErrTooManyEntries means an archive holds more than MaxArchiveEntries
	// entries.
	ErrTooManyEntries = errors.New("archive has too many entries")
	// ErrTooDeep means subcharts are nested more than MaxSubchartDepth
	// levels deep.
	ErrTooDeep = errors.New("subcharts are nested too deeply")
	// ErrSymlinkLoop means a symbolic link in a chart directory points back
	// at one of its own parent directories.
	ErrSymlinkLoop = errors.New("symbolic link loops back to a parent directory")
	// ErrInvalidName means a chart name cannot be used as a file name.
	ErrInvalidName = errors.New("invalid chart name")
	// ErrInvalidChart is wrapped by every ValidationError.
	ErrInvalidChart = errors.New("invalid chart")
	// ErrDoubleStar means an ignore pattern uses "**", which .helmignore
	// does not support.
	ErrDoubleStar = errors.New("double-star (**) syntax is not supported")
)

// Error is the error returned by the exported functions of this package:
// the operation, the chart (a path or a chart name, possibly empty) and
// the cause.
type Error struct {
	Op   string
	Name string
	Err  error
}

// Error formats the error as `loading chart "NAME": cause`.
func (e *Error) Error() string {
	if e.Name == "" {
		return e.Op + ": " + e.Err.Error()
	}
	return e.Op + " " + strconv.Quote(e.Name) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// FileError locates an error in one file of a chart, such as
// "values.yaml" or "charts/sub" for a subchart. Parse errors from YAML
// carry the line in their message.
type FileError struct {
	// Path is the file's path relative to the chart root, with slashes.
	Path string
	Err  error
}

// Error formats the error as "PATH: cause".
func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// EntryError locates an error in one entry of a chart archive; Entry is
// the entry's name exactly as stored in the archive.
type EntryError struct {
	Entry string
	Err   error
}

// Error formats the error as `archive entry "NAME": cause`.
func (e *EntryError) Error() string {
	return "archive entry " + strconv.Quote(e.Entry) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *EntryError) Unwrap() error { return e.Err }

// ValidationError is a rule of the chart format that metadata breaks. Its
// message reads as Helm's does ("validation: chart.metadata.name is
// required").
type ValidationError struct {
	Msg string
}

func validationErrorf(format string, args ...any) *ValidationError {
	return &ValidationError{Msg: fmt.Sprintf(format, args...)}
}

// Error returns "validation: " followed by the rule that was broken.
func (e *ValidationError) Error() string { return "validation: " + e.Msg }

// Unwrap returns ErrInvalidChart.
func (e *ValidationError) Unwrap() error { return ErrInvalidChart }
