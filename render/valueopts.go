package render

import (
	"strings"

	"sigs.k8s.io/yaml"
)

// ValueOptions are the user's values as given on the command line, in
// the order of the flags.
type ValueOptions struct {
	ValueFiles    []string // -f/--values: YAML files, later ones win
	Values        []string // --set
	StringValues  []string // --set-string
	FileValues    []string // --set-file
	JSONValues    []string // --set-json
	LiteralValues []string // --set-literal
}

// Merge combines the options into one values map as Helm's values.Options
// does: the -f files deep-merged in order, then every --set-json, --set,
// --set-string, --set-file and --set-literal argument in that order, each
// overwriting what came before.
//
// read returns the content of a values file or --set-file path. It is
// called with "-" for standard input (Helm also accepts " - " and the like,
// which are passed as "-"); whether it supports URLs is up to the caller.
// Read errors are returned as read gave them; parse errors read "failed to
// parse NAME: ...", as Helm prints them.
func (o ValueOptions) Merge(read func(name string) ([]byte, error)) (map[string]any, error) {
	readNamed := func(name string) ([]byte, error) {
		if strings.TrimSpace(name) == "-" {
			name = "-"
		}
		return read(name)
	}
	base := map[string]any{}
	for _, name := range o.ValueFiles {
		data, err := readNamed(name)
		if err != nil {
			return nil, &ValueFileError{Name: name, Err: err}
		}
		var m map[string]any
		if err := yaml.Unmarshal(data, &m); err != nil {
			return nil, &ValueFileError{Name: name, Parse: true, Err: err}
		}
		base = mergeMaps(base, m)
	}
	steps := []struct {
		flag  string
		args  []string
		parse func(string, map[string]any) error
	}{
		{"set-json", o.JSONValues, ParseSetJSON},
		{"set", o.Values, ParseSet},
		{"set-string", o.StringValues, ParseSetString},
		{"set-file", o.FileValues, func(s string, dest map[string]any) error {
			return ParseSetFile(s, dest, readNamed)
		}},
		{"set-literal", o.LiteralValues, ParseSetLiteral},
	}
	for _, step := range steps {
		for _, arg := range step.args {
			if err := step.parse(arg, base); err != nil {
				return nil, &SetFlagError{Flag: step.flag, Arg: arg, Err: err}
			}
		}
	}
	return base, nil
}

// mergeMaps returns a new map holding a with b merged over it: tables
// present on both sides merge recursively, anything else in b replaces
// what a has. Neither input is modified; values of b are shared.
func mergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if vm, ok := v.(map[string]any); ok {
			if om, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(om, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}
