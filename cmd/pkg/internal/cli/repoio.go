package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/gosuri/uitable"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"
)

// outputFormat is the value of -o/--output: table, json or yaml.
type outputFormat string

const (
	outputTable outputFormat = "table"
	outputJSON  outputFormat = "json"
	outputYAML  outputFormat = "yaml"
)

func (o *outputFormat) String() string { return string(*o) }
func (o *outputFormat) Type() string   { return "format" }
func (o *outputFormat) Set(s string) error {
	switch outputFormat(s) {
	case outputTable, outputJSON, outputYAML:
		*o = outputFormat(s)
		return nil
	}
	return fmt.Errorf("invalid format type")
}

// addOutputFlag registers -o/--output with Helm's wording.
func addOutputFlag(f *pflag.FlagSet, o *outputFormat) {
	*o = outputTable
	f.VarP(o, "output", "o", "prints the output in the specified format. Allowed values: table, json, yaml")
}

// writeStructured prints v as Helm's -o json (one line) or -o yaml.
func writeStructured(w io.Writer, format outputFormat, v any) error {
	switch format {
	case outputJSON:
		if err := json.NewEncoder(w).Encode(v); err != nil {
			return fmt.Errorf("unable to write JSON output: %w", err)
		}
		return nil
	case outputYAML:
		b, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("unable to write YAML output: %w", err)
		}
		_, err = w.Write(b)
		return err
	}
	return fmt.Errorf("invalid format type")
}

// writeTable prints rows as Helm's tables do (gosuri/uitable, cells
// padded and separated by tabs), with maxWidth bounding a column when not
// zero.
func writeTable(w io.Writer, maxWidth uint, rows [][]any) error {
	t := uitable.New()
	if maxWidth > 0 {
		t.MaxColWidth = maxWidth
	}
	for _, r := range rows {
		t.AddRow(r...)
	}
	_, err := w.Write(append(t.Bytes(), '\n'))
	if err != nil {
		return fmt.Errorf("unable to write table output: %w", err)
	}
	return nil
}
