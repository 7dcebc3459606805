package render

import (
	"fmt"

	"pkg.dev/pkg/render/internal/chartutil"
)

// ErrNoTable reports that a values path does not name a table (a map).
// Its text matches Helm's chartutil.ErrNoTable.
type ErrNoTable = chartutil.ErrNoTable

// ErrNoValue reports that a values path does not name a scalar or list.
// Its text matches Helm's chartutil.ErrNoValue.
type ErrNoValue = chartutil.ErrNoValue

// ValueFileError reports a values file (-f) that could not be read or
// parsed. Its text is Helm's: "failed to parse NAME: CAUSE" for parse
// errors, and the reader's own error for read failures.
type ValueFileError struct {
	// Name is the file name as the user gave it.
	Name string
	// Parse is true when the file was read but is not valid YAML.
	Parse bool
	Err   error
}

// Error returns the text Helm prints for the failure.
func (e *ValueFileError) Error() string {
	if e.Parse {
		return fmt.Sprintf("failed to parse %s: %v", e.Name, e.Err)
	}
	return e.Err.Error()
}

// Unwrap returns the underlying read or parse error.
func (e *ValueFileError) Unwrap() error { return e.Err }

// SetFlagError reports a --set style argument that could not be parsed.
// Its text is Helm's: "failed parsing --set data: CAUSE"; for --set-json,
// Helm drops the cause and prints the argument instead, and so does this.
type SetFlagError struct {
	// Flag is the flag name without dashes: "set", "set-string",
	// "set-file", "set-json" or "set-literal".
	Flag string
	// Arg is the argument as given.
	Arg string
	Err error
}

// Error returns the text Helm prints for the failure.
func (e *SetFlagError) Error() string {
	if e.Flag == "set-json" {
		return fmt.Sprintf("failed parsing --set-json data %s", e.Arg)
	}
	return fmt.Sprintf("failed parsing --%s data: %v", e.Flag, e.Err)
}

// Unwrap returns the parser's error.
func (e *SetFlagError) Unwrap() error { return e.Err }
