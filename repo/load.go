package repo

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/chart"
)

// LoadIndexFile reads and parses the index at path; see ParseIndex.
func LoadIndexFile(path string, warn func(string)) (*IndexFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Op: OpLoadIndex, URL: path, Err: err}
	}
	i, err := ParseIndex(b, path, warn)
	if err != nil {
		return nil, &Error{Op: OpLoadIndex, URL: path, Err: err}
	}
	return i, nil
}

// ParseIndex parses an index.yaml (or its JSON form) read from source, a
// path or URL used in messages. Like Helm it drops null entries and
// entries whose metadata fails validation, calling warn (when not nil)
// with Helm's message for each, defaults an entry's apiVersion to v1 and
// sorts every chart's versions newest first. An index without apiVersion
// is an error wrapping ErrNoAPIVersion; empty data is ErrEmptyIndex.
func ParseIndex(data []byte, source string, warn func(string)) (*IndexFile, error) {
	if len(data) == 0 {
		return nil, ErrEmptyIndex
	}
	i, err := decodeIndex(data)
	if err != nil {
		return nil, err
	}
	return finishIndex(i, source, warn)
}

// LoadIndexChart reads the index at path to resolve the one chart name.
// When the index has the block layout Helm writes, only the top-level
// fields and that chart's versions are decoded, which for a big index is
// far faster than loading it all, and the returned index's Entries holds
// name alone. Otherwise, or when the chart is not found that way, the
// whole index is loaded as by LoadIndexFile. Only the decoded part is
// checked: use it on indexes that were loaded whole once, such as the
// cache, which is written only after a successful load.
func LoadIndexChart(path, name string, warn func(string)) (*IndexFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Op: OpLoadIndex, URL: path, Err: err}
	}
	if i, ok := decodeIndexChart(b, name); ok {
		i, err := finishIndex(i, path, warn)
		if err != nil {
			return nil, &Error{Op: OpLoadIndex, URL: path, Err: err}
		}
		return i, nil
	}
	i, err := ParseIndex(b, path, warn)
	if err != nil {
		return nil, &Error{Op: OpLoadIndex, URL: path, Err: err}
	}
	return i, nil
}

// finishIndex applies Helm's loading rules to a decoded index: null and
// invalid entries dropped, apiVersion defaulted, versions sorted.
func finishIndex(i *IndexFile, source string, warn func(string)) (*IndexFile, error) {
	for name, vs := range i.Entries {
		kept := vs[:0]
		for _, cv := range vs {
			if cv == nil {
				if warn != nil {
					warn(fmt.Sprintf("skipping loading invalid entry for chart %q from %s: empty entry", name, source))
				}
				continue
			}
			if cv.Metadata == nil {
				cv.Metadata = &chart.Metadata{}
			}
			if cv.APIVersion == "" {
				cv.APIVersion = chart.APIVersionV1
			}
			if err := cv.Validate(); err != nil && !isSkippableValidation(err) {
				if warn != nil {
					warn(fmt.Sprintf("skipping loading invalid entry for chart %q %q from %s: %s", name, cv.Version, source, err))
				}
				continue
			}
			kept = append(kept, cv)
		}
		clear(vs[len(kept):])
		i.Entries[name] = kept
	}
	i.SortEntries()
	if i.APIVersion == "" {
		return i, ErrNoAPIVersion
	}
	return i, nil
}

// isSkippableValidation reports the one validation failure Helm lets pass
// in an index: two dependencies sharing a name or alias.
func isSkippableValidation(err error) bool {
	var ve *chart.ValidationError
	return errors.As(err, &ve) && strings.HasPrefix(ve.Msg, "more than one dependency with name or alias")
}

// decodeIndex decodes JSON when data is valid JSON, as Helm does, else
// YAML: through the fast node decoder when it can decode the document
// exactly, else through sigs.k8s.io/yaml as Helm does.
func decodeIndex(data []byte) (*IndexFile, error) {
	i := &IndexFile{}
	if json.Valid(data) {
		if err := json.Unmarshal(data, i); err != nil {
			return nil, err
		}
		return i, nil
	}
	if fast, ok := decodeIndexNodes(data); ok {
		return fast, nil
	}
	if err := yaml.Unmarshal(data, i); err != nil {
		return nil, err
	}
	return i, nil
}
