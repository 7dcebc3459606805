package chartutil

import (
	"errors"
	"fmt"
)

// ErrNoTable reports that a values path does not name a table (a map).
// Its text matches Helm's chartutil.ErrNoTable.
type ErrNoTable struct {
	// Key is the path element that is missing or not a table.
	Key string
}

// Error returns Helm's text: "KEY" is not a table.
func (e ErrNoTable) Error() string { return fmt.Sprintf("%q is not a table", e.Key) }

// ErrNoValue reports that a values path does not name a scalar or list.
// Its text matches Helm's chartutil.ErrNoValue.
type ErrNoValue struct {
	// Key is the last path element, which is missing or is a table.
	Key string
}

// Error returns Helm's text: "KEY" is not a value.
func (e ErrNoValue) Error() string { return fmt.Sprintf("%q is not a value", e.Key) }

// errEmptyPath is returned by PathValue for an empty path.
var errEmptyPath = errors.New("YAML path cannot be empty")
