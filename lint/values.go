package lint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/render"
)

// valuesRules checks values.yaml: INFO when it is missing; otherwise it
// must parse and, with the overrides laid over it, satisfy
// values.schema.json when there is one. Only the top-level chart's values
// are checked, as in Helm; so is the schema, whatever
// SkipSchemaValidation says (Helm ignores it here too).
func (l *linter) valuesRules() {
	const file = chart.ValuesfileName
	p := filepath.Join(l.dir, file)
	if _, err := os.Stat(p); err != nil {
		l.res.check(Info, file, errors.New("file does not exist"))
		return
	}
	l.res.check(Error, file, valuesFileValid(p, l.opts.Values))
}

// valuesFileValid parses the values file at p and validates it, merged
// with overrides, against the schema beside it.
func valuesFileValid(p string, overrides map[string]any) error {
	vals, err := readValuesFile(p)
	if err != nil {
		return fmt.Errorf("unable to parse YAML: %w", err)
	}
	// Overrides win over the file. Like Helm, this merges into the
	// overrides' own nested tables.
	merged := coalesceTables(make(map[string]any, len(overrides)), overrides)
	merged = coalesceTables(merged, vals)

	schemaPath := strings.TrimSuffix(p, filepath.Ext(p)) + ".schema.json"
	schema, err := os.ReadFile(schemaPath)
	if len(schema) == 0 {
		return nil
	}
	if err != nil {
		return err
	}
	return render.ValidateAgainstSingleSchema(merged, schema)
}

// readValuesFile decodes a values file as Helm's chartutil does; decoding
// errors name Helm's type for values.
func readValuesFile(p string) (map[string]any, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var vals map[string]any
	if err := yaml.Unmarshal(b, &vals); err != nil {
		return nil, renameType(err, "map[string]interface {}", "chartutil.Values")
	}
	if vals == nil {
		vals = map[string]any{}
	}
	return vals, nil
}
