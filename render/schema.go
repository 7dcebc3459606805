package render

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"pkg.dev/pkg/chart"
)

// schemaURL is the name every values schema is compiled under, as in Helm;
// it shows in compile errors and relative $refs resolve against it.
const schemaURL = "file:///values.schema.json"

// ValidateAgainstSchema checks values against the values.schema.json of
// the chart and, with each one's own section of the values, of every
// subchart (recursively), as Helm's chartutil.ValidateAgainstSchema does.
// The error lists every chart that fails, "name:" and then each violation
// with its path, in Helm's words (those of santhosh-tekuri/jsonschema/v6).
// Each distinct schema is compiled once per call.
//
// Helm fetches $refs with file, http and https URLs; render refuses them
// unless ValuesProcessor.LoadSchemaRef is set. URN references are
// accepted as permissive schemas with a warning, as in Helm.
func ValidateAgainstSchema(c *chart.Chart, vals map[string]any) error {
	return ValuesProcessor{}.ValidateAgainstSchema(c, vals)
}

// ValidateAgainstSingleSchema checks values against one schema document,
// as Helm's chartutil.ValidateAgainstSingleSchema does.
func ValidateAgainstSingleSchema(vals map[string]any, schema []byte) error {
	return ValuesProcessor{}.ValidateAgainstSingleSchema(vals, schema)
}

// ValidateAgainstSchema is the package-level ValidateAgainstSchema with
// the processor's warnings, reference loader and cache.
func (p ValuesProcessor) ValidateAgainstSchema(c *chart.Chart, vals map[string]any) error {
	cache := p.Schemas
	if cache == nil {
		cache = &SchemaCache{}
	}
	return p.validateTree(c, vals, cache)
}

// ValidateAgainstSingleSchema is the package-level
// ValidateAgainstSingleSchema with the processor's settings.
func (p ValuesProcessor) ValidateAgainstSingleSchema(vals map[string]any, schema []byte) error {
	cache := p.Schemas
	if cache == nil {
		cache = &SchemaCache{}
	}
	return p.validateOne(vals, schema, cache)
}

func (p ValuesProcessor) validateTree(c *chart.Chart, vals map[string]any, cache *SchemaCache) error {
	var b strings.Builder
	if c.Schema != nil {
		if err := p.validateOne(vals, c.Schema, cache); err != nil {
			fmt.Fprintf(&b, "%s:\n%s", c.Name(), err.Error())
		}
	}
	for _, sub := range c.Dependencies() {
		raw := vals[sub.Name()]
		if raw == nil {
			continue
		}
		section, ok := raw.(map[string]any)
		if !ok {
			fmt.Fprintf(&b, "%s:\ninvalid type for values: expected object (map), got %T\n", sub.Name(), raw)
			continue
		}
		if err := p.validateTree(sub, section, cache); err != nil {
			b.WriteString(err.Error())
		}
	}
	if b.Len() > 0 {
		return errors.New(b.String())
	}
	return nil
}

// validateOne checks vals against one schema.
func (p ValuesProcessor) validateOne(vals map[string]any, schema []byte, cache *SchemaCache) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unable to validate schema: %s", r)
		}
	}()
	compiled, err := cache.get(schema, p.compile)
	if err != nil {
		return err
	}
	if vals == nil {
		vals = map[string]any{}
	}
	if err := compiled.Validate(vals); err != nil {
		return &SchemaError{Err: err}
	}
	return nil
}

// compile compiles one values schema the way Helm configures the compiler.
func (p ValuesProcessor) compile(schema []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, err
	}
	loaders := jsonschema.SchemeURLLoader{"urn": urnLoader{p}}
	if p.LoadSchemaRef != nil {
		ref := refLoader(p.LoadSchemaRef)
		for _, scheme := range []string{"file", "http", "https"} {
			loaders[scheme] = ref
		}
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(loaders)
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, err
	}
	return c.Compile(schemaURL)
}

// SchemaError is a values schema violation. Its text is the validator's
// list of violations without its first line, ending in a newline, as Helm
// prints it.
type SchemaError struct {
	// Err is the validator's error, a *jsonschema.ValidationError.
	Err error
}

// Error returns the violations as Helm lists them.
func (e *SchemaError) Error() string {
	s := strings.TrimPrefix(e.Err.Error(), "jsonschema validation failed with '"+schemaURL+"#'\n")
	return s + "\n"
}

// Unwrap returns the validator's error.
func (e *SchemaError) Unwrap() error { return e.Err }

// refLoader adapts LoadSchemaRef to the validator's loader interface.
type refLoader func(url string) ([]byte, error)

// Load fetches and decodes one referenced document.
func (l refLoader) Load(url string) (any, error) {
	data, err := l(url)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(data))
}

// urnLoader accepts any urn: reference as the always-valid schema, with a
// warning, as Helm does when no URN resolver is configured.
type urnLoader struct{ p ValuesProcessor }

// Load returns the always-valid schema and warns.
func (l urnLoader) Load(url string) (any, error) {
	l.p.warnf("WARNING: unresolved URN reference ignored; using permissive schema: %s", url)
	return true, nil
}

// SchemaCache keeps compiled values schemas, keyed by their content, for
// reuse across calls. It is safe for concurrent use. Compile warnings
// (unresolved URNs) are reported once, when a schema is first compiled.
type SchemaCache struct {
	mu      sync.Mutex
	entries map[string]*schemaEntry
}

// schemaEntry is one schema's compilation, done once.
type schemaEntry struct {
	once   sync.Once
	schema *jsonschema.Schema
	err    error
}

func (c *SchemaCache) get(schema []byte, compile func([]byte) (*jsonschema.Schema, error)) (*jsonschema.Schema, error) {
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]*schemaEntry{}
	}
	e, ok := c.entries[string(schema)]
	if !ok {
		e = &schemaEntry{}
		c.entries[string(schema)] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				e.err = fmt.Errorf("unable to validate schema: %s", r)
			}
		}()
		e.schema, e.err = compile(schema)
	})
	return e.schema, e.err
}
