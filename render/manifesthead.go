package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"sigs.k8s.io/yaml"
)

// parseManifestHead reads the head of one YAML document exactly as Helm
// does: Helm decodes the whole document with sigs.k8s.io/yaml (YAML to
// JSON, then JSON into SimpleHead), so a syntax error anywhere in the
// document, or a head field of the wrong type, fails the document.
//
// Most rendered manifests are plain block YAML, for which scanManifestHead
// finds the head, and proves the document valid, in one pass over its
// lines. It gives up on anything outside the subset it knows to be read the
// same way (anchors, tags, flow collections, multi-line scalars, numbers or
// booleans in head fields, odd indentation…); such documents take Helm's
// own route.
func parseManifestHead(doc string) (*SimpleHead, error) {
	if h, ok := scanManifestHead(doc); ok {
		return h, nil
	}
	return decodeManifestHead(doc)
}

// decodeManifestHead decodes doc as Helm does, with the same errors.
func decodeManifestHead(doc string) (*SimpleHead, error) {
	h := new(SimpleHead)
	if err := yaml.Unmarshal([]byte(doc), h); err != nil {
		return nil, helmHeadError(err)
	}
	return h, nil
}

// helmSimpleHeadType is how Go names the type Helm decodes heads into.
const helmSimpleHeadType = "releaseutil.SimpleHead"

// headValueError is a JSON type error about the document as a whole (a
// document that is a list or a scalar), worded with Helm's type name.
type headValueError struct {
	err *json.UnmarshalTypeError
}

// Error returns encoding/json's text for the error, naming Helm's type.
func (e *headValueError) Error() string {
	return "json: cannot unmarshal " + e.err.Value + " into Go value of type " + helmSimpleHeadType
}

// Unwrap returns the JSON error.
func (e *headValueError) Unwrap() error { return e.err }

// helmHeadError rewrites err, from decoding a head with sigs.k8s.io/yaml,
// so that its text is the one Helm's decoding prints. Errors about a field
// name the struct "SimpleHead" and its fields as Helm's do already; only an
// error about the whole value names the package, which is
// "releaseutil" in Helm.
func helmHeadError(err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Struct != "" || te.Field != "" ||
		te.Type != reflect.TypeFor[SimpleHead]() {
		return err
	}
	// sigs.k8s.io/yaml wraps JSON errors in these two layers.
	return fmt.Errorf("error unmarshaling JSON: while decoding JSON: %w", &headValueError{te})
}
