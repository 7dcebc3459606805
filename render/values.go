package render

import (
	"fmt"

	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/render/internal/chartutil"
)

// GlobalKey is the values key whose table is shared with every subchart.
const GlobalKey = "global"

// Values is a tree of chart values as decoded from YAML: maps are
// map[string]any, lists are []any. It is defined in an internal package
// named chartutil so that templates printing its type (typeOf, and Go's own
// error messages such as dig's) read "chartutil.Values", as under Helm.
type Values = chartutil.Values

// isTable reports whether v is a values table (a map[string]any).
func isTable(v any) bool { return chartutil.IsTable(v) }

// ReadValues decodes a YAML document into Values as Helm does (through
// sigs.k8s.io/yaml, so numbers become float64). An empty or null document
// yields an empty, non-nil Values. Errors carry the YAML line, in Helm's
// words ("error converting YAML to JSON: yaml: line 3: ...").
func ReadValues(data []byte) (Values, error) {
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return Values{}, nil
	}
	return Values(m), nil
}

// copyTree deep-copies maps and lists of a values tree; scalars and other
// types are shared. A nil map or list stays nil (of its type), as Helm's
// copystructure-based copy leaves it.
func copyTree(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return copyMap(t)
	case Values:
		if t == nil {
			return t
		}
		return Values(copyMap(t))
	case []any:
		if t == nil {
			return t
		}
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = copyTree(e)
		}
		return out
	}
	return v
}

// copyMap deep-copies a values table; nil stays nil.
func copyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, e := range m {
		out[k] = copyTree(e)
	}
	return out
}

// ValuesProcessor runs Helm's value steps (dependency processing,
// coalescing, schema validation) with a place to send the warnings Helm
// would log. The zero value is ready to use and discards warnings; the
// package-level functions of the same names use it.
type ValuesProcessor struct {
	// Warn receives each warning Helm prints to its log while processing
	// values, worded as Helm words it (without the log's timestamp).
	Warn func(msg string)
	// LoadSchemaRef returns the document a values.schema.json $ref points
	// to when its URL has the file, http or https scheme. Helm reads such
	// references from disk or the network; render does neither, so with
	// LoadSchemaRef nil they fail to compile.
	LoadSchemaRef func(url string) ([]byte, error)
	// Schemas, if set, keeps compiled schemas across calls. Without it,
	// each distinct schema is compiled once per ValidateAgainstSchema call.
	Schemas *SchemaCache
}

// warnf formats and reports a warning.
func (p ValuesProcessor) warnf(format string, args ...any) {
	if p.Warn != nil {
		p.Warn(fmt.Sprintf(format, args...))
	}
}
