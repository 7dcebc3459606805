package apiserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// customSchema is what the server knows of one custom resource version's
// openAPIV3Schema: its structural form, which prunes unknown fields,
// gives defaults and validates objects (crdvalidate.go). A schema that is not structural is
// kept only for its fingerprint: objects are then neither pruned,
// defaulted nor validated.
type customSchema struct {
	// sum fingerprints the schema.
	sum string
	// structural is nil when the schema is not structural.
	structural *structuralschema.Structural
	// openapi is the structural schema as OpenAPI, nil with structural.
	openapi *spec.Schema
}

// schemaCache keeps the customSchemas built so far by fingerprint, so
// that reloading the CustomResourceDefinitions after a write rebuilds
// only the schemas that changed.
type schemaCache struct {
	mu    sync.Mutex
	bySum map[string]*customSchema
}

// get returns the customSchema of the openAPIV3Schema raw, nil when raw
// is nil.
func (c *schemaCache) get(raw map[string]any) *customSchema {
	if raw == nil {
		return nil
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return nil
	}
	h := sha256.Sum256(data)
	sum := hex.EncodeToString(h[:])
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs, ok := c.bySum[sum]; ok {
		return cs
	}
	cs := newCustomSchema(sum, data)
	if c.bySum == nil {
		c.bySum = map[string]*customSchema{}
	}
	c.bySum[sum] = cs
	return cs
}

// newCustomSchema builds the customSchema of the JSON schema data.
func newCustomSchema(sum string, data []byte) *customSchema {
	cs := &customSchema{sum: sum}
	var v1 apiextensionsv1.JSONSchemaProps
	if err := json.Unmarshal(data, &v1); err != nil {
		return cs
	}
	var internal apiextensions.JSONSchemaProps
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(&v1, &internal, nil); err != nil {
		return cs
	}
	st, err := structuralschema.NewStructural(&internal)
	if err != nil {
		return cs
	}
	cs.structural = st
	cs.openapi = st.ToKubeOpenAPI()
	return cs
}

// customRoundTrip does for a custom resource what decoding does in
// kube-apiserver: fields the schema does not know are dropped (kept under
// x-kubernetes-preserve-unknown-fields) and reported as warnings, or
// refused with fieldValidation=Strict; the schema's defaults are set.
func customRoundTrip(res *Resource, o object, validation string) (object, []string, error) {
	cs := res.custom
	if cs == nil || cs.structural == nil {
		return o, nil, nil
	}
	unknown := pruning.PruneWithOptions(o, cs.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	var warnings []string
	for _, p := range unknown {
		warnings = append(warnings, fmt.Sprintf("unknown field %q", p))
	}
	if validation == fieldValidationStrict && len(warnings) > 0 {
		return nil, nil, errStrictDecoding(res, warnings)
	}
	if validation == fieldValidationIgnore {
		warnings = nil
	}
	setSchemaDefaults(o, cs.structural)
	return o, warnings, nil
}

// setSchemaDefaults fills in the defaults of schema s in x: a property
// that is missing, or null where the schema does not allow null, gets the
// schema's default, at every depth, as kube-apiserver defaults custom
// resources.
func setSchemaDefaults(x any, s *structuralschema.Structural) {
	if s == nil {
		return
	}
	nullNotAllowed := func(v any, s *structuralschema.Structural) bool { return v == nil && s != nil && !s.Nullable }
	switch x := x.(type) {
	case map[string]any:
		for k, prop := range s.Properties {
			if prop.Default.Object == nil {
				continue
			}
			if v, ok := x[k]; !ok || nullNotAllowed(v, &prop) {
				x[k] = runtime.DeepCopyJSONValue(prop.Default.Object)
			}
		}
		for k, v := range x {
			if prop, ok := s.Properties[k]; ok {
				setSchemaDefaults(v, &prop)
				continue
			}
			if s.AdditionalProperties == nil || s.AdditionalProperties.Structural == nil {
				continue
			}
			ap := s.AdditionalProperties.Structural
			if nullNotAllowed(v, ap) && ap.Default.Object != nil {
				x[k] = runtime.DeepCopyJSONValue(ap.Default.Object)
			}
			setSchemaDefaults(x[k], ap)
		}
	case []any:
		for i := range x {
			if nullNotAllowed(x[i], s.Items) && s.Items.Default.Object != nil {
				x[i] = runtime.DeepCopyJSONValue(s.Items.Default.Object)
			}
			setSchemaDefaults(x[i], s.Items)
		}
	}
}

// validateCustom validates a custom resource against its version's
// schema: the 422 Invalid Status kube-apiserver answers, one cause per
// failed rule, or nil.
func validateCustom(res *Resource, o object) error {
	cs := res.custom
	if cs == nil || cs.structural == nil {
		return nil
	}
	u, err := toUnstructured(o)
	if err != nil {
		return err
	}
	errs := validateStructural(u.Object, cs.structural)
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(schema.GroupKind{Group: res.Group, Kind: res.Kind}, str(o, "metadata", "name"), errs)
}
