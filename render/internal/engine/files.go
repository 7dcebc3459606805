package engine

import (
	"encoding/base64"
	"path"
	"strings"

	"github.com/gobwas/glob"
	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/chart"
)

// files is what templates see as .Files: a chart's non-template files by
// path. Its methods are the ones Helm gives .Files, with the same names
// and signatures, because a method shadows a map key of the same name in
// a template ({{ .Files.Get }} calls Get, {{ index .Files "Get" }} reads a
// file). Do not add exported methods.
type files map[string][]byte

// NewFiles indexes a chart's files by name; later duplicates win.
func NewFiles(from []*chart.File) files {
	m := make(files, len(from))
	for _, f := range from {
		m[f.Name] = f.Data
	}
	return m
}

// GetBytes returns the named file's contents, or an empty slice.
func (f files) GetBytes(name string) []byte {
	if data, ok := f[name]; ok {
		return data
	}
	return []byte{}
}

// Get returns the named file's contents as a string, or "".
func (f files) Get(name string) string {
	return string(f.GetBytes(name))
}

// Glob returns the files whose path matches pattern. Patterns follow
// github.com/gobwas/glob with '/' as separator, as in Helm: "*" stays
// within one directory, "**" crosses them, and {a,b}, [abc] and ? work. An
// invalid pattern matches every file.
func (f files) Glob(pattern string) files {
	g, err := glob.Compile(pattern, '/')
	if err != nil {
		g, _ = glob.Compile("**")
	}
	out := make(files)
	for name, data := range f {
		if g.Match(name) {
			out[name] = data
		}
	}
	return out
}

// AsConfig renders the files as a YAML map from base name to contents,
// for the data of a ConfigMap. Files sharing a base name overwrite each
// other.
func (f files) AsConfig() string {
	if f == nil {
		return ""
	}
	m := make(map[string]string, len(f))
	for name, data := range f {
		m[path.Base(name)] = string(data)
	}
	return encodeYAML(m)
}

// AsSecrets is AsConfig with the contents base64-encoded, for the data of
// a Secret.
func (f files) AsSecrets() string {
	if f == nil {
		return ""
	}
	m := make(map[string]string, len(f))
	for name, data := range f {
		m[path.Base(name)] = base64.StdEncoding.EncodeToString(data)
	}
	return encodeYAML(m)
}

// Lines returns the named file split at "\n", ignoring one trailing
// newline; a missing or empty file gives no lines.
func (f files) Lines(name string) []string {
	data := f[name]
	if len(data) == 0 {
		return []string{}
	}
	s := strings.TrimSuffix(string(data), "\n")
	return strings.Split(s, "\n")
}

// encodeYAML is toYaml's encoding of a flat string map: sigs.k8s.io/yaml's,
// without the final newline, "" on error.
func encodeYAML(m map[string]string) string {
	b, err := yaml.Marshal(m)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}
