package render

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
)

const personSchema = `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "required": ["name"],
  "properties": {
    "name": {"type": "string", "minLength": 2},
    "age": {"type": "integer", "minimum": 0},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
    "ratio": {"type": "number", "exclusiveMaximum": 1},
    "mode": {"enum": ["a", "b"]},
    "nested": {"$ref": "#/definitions/nested"}
  },
  "additionalProperties": false,
  "definitions": {"nested": {"type": "object", "properties": {"on": {"type": "boolean"}}, "required": ["on"]}}
}`

const schema2020 = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "data": {"type": "array", "contains": {"type": "string"}},
    "port": {"type": "integer", "maximum": 65535},
    "global": {"type": "object"}
  },
  "$defs": {"x": {"type": "string"}},
  "patternProperties": {"^x-": {"$ref": "#/$defs/x"}}
}`

// schemaSpecs are charts with schemas at several levels.
func schemaSpecs(t testing.TB, refDir string) map[string]valChartSpec {
	t.Helper()
	fileRef := "file://" + filepath.ToSlash(filepath.Join(refDir, "port.json"))
	return map[string]valChartSpec{
		"tree": {
			name: "root", schema: personSchema,
			subs: []valChartSpec{
				{name: "sub", schema: schema2020, subs: []valChartSpec{{name: "leaf", schema: personSchema}}},
				{name: "noschema", subs: []valChartSpec{{name: "deep", schema: schema2020}}},
			},
		},
		"broken": {
			name: "root", schema: `{"type": 5}`,
			subs: []valChartSpec{
				{name: "garbage", schema: `{"type": "object"} trailing`},
				{name: "notjson", schema: `{"type": `},
				{name: "badref", schema: `{"$ref": "#/nowhere"}`},
				{name: "urn", schema: `{"properties": {"a": {"$ref": "urn:example:thing"}}, "required": ["b"]}`},
				{name: "fileref", schema: `{"properties": {"port": {"$ref": "` + fileRef + `"}}}`},
				{name: "missingref", schema: `{"properties": {"port": {"$ref": "file:///definitely/not/here.json"}}}`},
			},
		},
	}
}

// schemaInputs are values validated against every schema chart.
var schemaInputs = map[string]string{
	"valid":   `{name: Jo, age: 3, tags: [a], sub: {data: [x, 1], port: 80, leaf: {name: Al}}, noschema: {deep: {port: 1}}}`,
	"invalid": `{name: J, age: -1.5, tags: [a, 2, c], ratio: 1, mode: c, extra: 1, nested: {}, sub: {data: [1], port: 70000, x-a: 3, leaf: {age: x}}, noschema: {deep: {data: 5}}}`,
	"types":   `{sub: [1], noschema: 5, garbage: x, urn: {a: 1}, fileref: {port: 99999}, missingref: {}}`,
	"nulls":   `{sub: null, noschema: {deep: null}, name: null}`,
	"empty":   ``,
	"broken":  `{garbage: {}, notjson: {}, badref: {}, urn: {a: 1, b: 2}, fileref: {port: 1}, missingref: {port: 1}}`,
	"ints":    `{}`,
}

// TestValidateAgainstSchemaMatchesHelm compares error texts and warnings
// with Helm's ValidateAgainstSchema. Helm reads file: references from disk
// itself; ours get them through LoadSchemaRef, given here a loader that
// reads the same files.
func TestValidateAgainstSchemaMatchesHelm(t *testing.T) {
	refDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(refDir, "port.json"), []byte(`{"type": "integer", "maximum": 65535}`), 0o644); err != nil {
		t.Fatal(err)
	}
	loadRef := func(raw string) ([]byte, error) {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, err
		}
		return os.ReadFile(u.Path)
	}
	for name, spec := range schemaSpecs(t, refDir) {
		for inName, in := range schemaInputs {
			t.Run(name+"/"+inName, func(t *testing.T) {
				hc, oc := spec.both(t)
				vals := valYAML(t, in)
				if inName == "ints" {
					// --set gives int64s; the validator sees those too.
					vals = map[string]any{"name": "Jo", "age": int64(-3), "sub": map[string]any{"port": int64(70000)}}
				}
				var wantErr error
				wantLog := valCaptureHelmLog(func() { wantErr = chartutil.ValidateAgainstSchema(hc, vals) })
				var w valWarnings
				p := ValuesProcessor{Warn: w.add, LoadSchemaRef: loadRef}
				gotErr := p.ValidateAgainstSchema(oc, vals)
				if normSchemaErr(gotErr) != normSchemaErr(wantErr) {
					t.Fatalf("error:\n%v\nHelm's:\n%v", gotErr, wantErr)
				}
				// Helm warns once per URN per process; we warn on each
				// compile. Compare the distinct messages.
				if got, want := dedupe(w.sorted()), dedupe(wantLog); len(want) > 0 && !valSameStrings(got, want) {
					t.Errorf("warnings = %q, Helm's = %q", got, want)
				}
			})
		}
	}
}

// additionalProps matches the validator's list of unexpected properties.
var additionalProps = regexp.MustCompile(`additional properties (.*) not allowed`)

// normSchemaErr puts the lines of each chart's section of a schema error
// in a canonical order. The
// validator walks maps, so Helm itself prints violations, and the names in
// "additional properties" lists, in a different order from run to run;
// the lines themselves are stable.
func normSchemaErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		if m := additionalProps.FindStringSubmatchIndex(l); m != nil {
			names := strings.Split(l[m[2]:m[3]], ", ")
			sort.Strings(names)
			lines[i] = l[:m[2]] + strings.Join(names, ", ") + l[m[3]:]
		}
	}
	// Sort within each chart's section, keeping the sections in order.
	start := 0
	for i := 1; i <= len(lines); i++ {
		if i == len(lines) || !strings.HasPrefix(lines[i], "-") && !strings.HasPrefix(lines[i], " ") {
			sort.Strings(lines[start+1 : i])
			start = i
		}
	}
	return strings.Join(lines, "\n")
}

func dedupe(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || s[i-1] != v {
			out = append(out, v)
		}
	}
	return out
}

// TestValidateAgainstSingleSchemaMatchesHelm uses Helm's own schema test
// data.
func TestValidateAgainstSingleSchemaMatchesHelm(t *testing.T) {
	t.Parallel()
	dir := valHelmPath(t, "pkg/chartutil/testdata")
	for _, tc := range []struct{ values, schema string }{
		{"test-values.yaml", "test-values.schema.json"},
		{"test-values-negative.yaml", "test-values.schema.json"},
		{"test-values.yaml", "test-values-invalid.schema.json"},
		{"coleridge.yaml", "test-values.schema.json"},
	} {
		t.Run(tc.values+"+"+tc.schema, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join(dir, tc.values))
			if err != nil {
				t.Fatal(err)
			}
			schema, err := os.ReadFile(filepath.Join(dir, tc.schema))
			if err != nil {
				t.Fatal(err)
			}
			vals, err := ReadValues(data)
			if err != nil {
				t.Fatal(err)
			}
			got := ValidateAgainstSingleSchema(vals, schema)
			want := chartutil.ValidateAgainstSingleSchema(chartutil.Values(vals), schema)
			if normSchemaErr(got) != normSchemaErr(want) {
				t.Fatalf("error:\n%v\nHelm's:\n%v", got, want)
			}
		})
	}
}

// TestValidateAgainstSchemaRefusesRemoteRefs: without LoadSchemaRef,
// file, http and https references fail to compile, touching nothing.
func TestValidateAgainstSchemaRefusesRemoteRefs(t *testing.T) {
	t.Parallel()
	for _, ref := range []string{"http://127.0.0.1:1/s.json", "https://example.com/s.json", "file:///etc/passwd", "other.json"} {
		t.Run(ref, func(t *testing.T) {
			t.Parallel()
			schema := []byte(`{"properties": {"a": {"$ref": "` + ref + `"}}}`)
			err := ValidateAgainstSingleSchema(map[string]any{"a": 1}, schema)
			if err == nil || !strings.Contains(err.Error(), "no URLLoader registered for") {
				t.Fatalf("error = %v, want a refusal", err)
			}
		})
	}
}

// TestSchemaCacheCompilesOnce checks that a schema shared by several
// charts is compiled once per call, and once overall with a SchemaCache.
func TestSchemaCacheCompilesOnce(t *testing.T) {
	t.Parallel()
	spec := valChartSpec{name: "root", schema: schema2020, subs: []valChartSpec{
		{name: "a", schema: schema2020}, {name: "b", schema: schema2020, subs: []valChartSpec{{name: "c", schema: schema2020}}},
	}}
	_, c := spec.both(t)
	var compiles atomic.Int32
	// A $ref through LoadSchemaRef is fetched once per compilation.
	refSchema := []byte(`{"$ref": "https://example.com/port.json"}`)
	c.Schema = refSchema
	c.Dependencies()[0].Schema = refSchema
	c.Dependencies()[1].Schema = refSchema
	c.Dependencies()[1].Dependencies()[0].Schema = refSchema
	p := ValuesProcessor{LoadSchemaRef: func(string) ([]byte, error) {
		compiles.Add(1)
		return []byte(`{"type": "object"}`), nil
	}}
	vals := map[string]any{"a": map[string]any{}, "b": map[string]any{"c": map[string]any{}}}
	if err := p.ValidateAgainstSchema(c, vals); err != nil {
		t.Fatal(err)
	}
	if n := compiles.Load(); n != 1 {
		t.Fatalf("schema compiled %d times in one call, want 1", n)
	}
	p.Schemas = &SchemaCache{}
	for range 3 {
		if err := p.ValidateAgainstSchema(c, vals); err != nil {
			t.Fatal(err)
		}
	}
	if n := compiles.Load(); n != 2 {
		t.Fatalf("schema compiled %d times over three cached calls, want 1", n-1)
	}
}

// BenchmarkValidateAgainstSchema compares validation of one chart's
// values, ours with a SchemaCache, against Helm's (which compiles on every
// call).
func BenchmarkValidateAgainstSchema(b *testing.B) {
	dir := valHelmPath(b, "pkg/chartutil/testdata")
	schema, err := os.ReadFile(filepath.Join(dir, "test-values.schema.json"))
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "test-values.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	vals, err := ReadValues(data)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("pkg-cached", func(b *testing.B) {
		b.ReportAllocs()
		p := ValuesProcessor{Schemas: &SchemaCache{}}
		for b.Loop() {
			if err := p.ValidateAgainstSingleSchema(vals, schema); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pkg", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := ValidateAgainstSingleSchema(vals, schema); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("helm", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := chartutil.ValidateAgainstSingleSchema(chartutil.Values(vals), schema); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestSchemaCacheConcurrent validates from many goroutines through one
// cache; run with -race.
func TestSchemaCacheConcurrent(t *testing.T) {
	t.Parallel()
	p := ValuesProcessor{Schemas: &SchemaCache{}}
	schemas := [][]byte{[]byte(personSchema), []byte(schema2020), []byte(`{"type": 5}`)}
	done := make(chan error, 24)
	for i := range 24 {
		go func() {
			done <- p.ValidateAgainstSingleSchema(map[string]any{"name": "x"}, schemas[i%len(schemas)])
		}()
	}
	var errs [3]string
	for range 24 {
		<-done
	}
	for i, s := range schemas {
		errs[i] = valErrText(p.ValidateAgainstSingleSchema(map[string]any{"name": "x"}, s))
	}
	if errs[0] == "<nil>" || errs[1] != "<nil>" || !strings.Contains(errs[2], "is not valid against metaschema") {
		t.Fatalf("errors = %q", errs)
	}
}
