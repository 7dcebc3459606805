package render

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/BurntSushi/toml"
	"sigs.k8s.io/yaml"
	yaml3 "sigs.k8s.io/yaml/goyaml.v3"
)

// The encoding functions Helm adds to the template language. They use the
// libraries Helm uses, called the same way, so that their output (key
// order, quoting, number formats) is Helm's byte for byte. They never fail
// a template: encoders return "" (toToml: the error text) and decoders put
// the error into the result.

// encodeYAML encodes v as YAML through JSON (so JSON tags and key order
// apply), without the final newline. Plain values trees take the direct
// encoder of yamlenc.go, which writes the same bytes.
func encodeYAML(v any) string {
	if b, ok := encodeYAMLFast(v); ok {
		return strings.TrimSuffix(string(b), "\n")
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}

// encodeYAMLPretty encodes v with the YAML v3 encoder at a 2-space indent
// (lists indented under their key), without the final newline.
func encodeYAMLPretty(v any) string {
	var buf bytes.Buffer
	enc := yaml3.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// decodeYAML decodes a YAML mapping; on failure the map holds the error text
// under "Error".
func decodeYAML(s string) map[string]any {
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

// decodeYAMLArray decodes a YAML sequence; on failure the list holds only
// the error text.
func decodeYAMLArray(s string) []any {
	a := []any{}
	if err := yaml.Unmarshal([]byte(s), &a); err != nil {
		return []any{err.Error()}
	}
	return a
}

// encodeJSON encodes v as compact JSON.
func encodeJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// decodeJSON decodes a JSON object; on failure the map holds the error text
// under "Error".
func decodeJSON(s string) map[string]any {
	m := map[string]any{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

// decodeJSONArray decodes a JSON array; on failure the list holds only the
// error text.
func decodeJSONArray(s string) []any {
	a := []any{}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return []any{err.Error()}
	}
	return a
}

// encodeTOML encodes v as TOML; on failure it returns the error text.
func encodeTOML(v any) string {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(v); err != nil {
		return err.Error()
	}
	return buf.String()
}

// decodeTOML decodes a TOML document; on failure the map holds the error
// text under "Error".
func decodeTOML(s string) map[string]any {
	m := map[string]any{}
	if err := toml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}
