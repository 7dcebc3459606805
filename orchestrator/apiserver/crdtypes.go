package apiserver

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/kube-openapi/pkg/schemaconv"
	"k8s.io/kube-openapi/pkg/validation/spec"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// objectMetaModel is the OpenAPI model name of ObjectMeta, whose schema
// the built-in type converter holds.
const objectMetaModel = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

// customTypeConverter returns the type converter of a custom resource:
// from its version's structural schema, with metadata typed as
// ObjectMeta, so that lists merge by their x-kubernetes-list-type and
// keys; or, for versions without a structural schema, one that deduces
// the types from the objects, as kube-apiserver does.
func (f *fieldManagers) customTypeConverter(res *Resource) (managedfields.TypeConverter, error) {
	cs := res.custom
	if cs == nil || cs.openapi == nil {
		return managedfields.NewDeducedTypeConverter(), nil
	}
	top := *cs.openapi
	props := make(map[string]spec.Schema, len(top.Properties)+3)
	for k, v := range top.Properties {
		props[k] = v
	}
	props["apiVersion"] = *spec.StringProperty()
	props["kind"] = *spec.StringProperty()
	props["metadata"] = spec.Schema{SchemaProps: spec.SchemaProps{Ref: spec.MustCreateRef("#/definitions/" + objectMetaModel)}}
	top.Properties = props
	if len(top.Type) == 0 {
		top.Type = spec.StringOrArray{"object"}
	}
	name := customModelName(res)
	converted, err := schemaconv.ToSchemaFromOpenAPI(map[string]*spec.Schema{name: &top}, false)
	if err != nil {
		return nil, fmt.Errorf("converting the schema of %s: %w", res.GroupResource(), err)
	}
	base, err := f.builtinSchema()
	if err != nil {
		return nil, err
	}
	types := append([]smdschema.TypeDef(nil), converted.Types...)
	have := make(map[string]bool, len(types))
	for _, t := range types {
		have[t.Name] = true
	}
	for _, t := range base.Types {
		if !have[t.Name] {
			types = append(types, t)
		}
	}
	p := &typed.Parser{}
	p.Schema.Types = types
	return customConverter{parser: p, name: name}, nil
}

// builtinSchema returns the structured-merge-diff schema of the built-in
// kinds of k8s.io/api, which holds ObjectMeta and the types it uses.
func (f *fieldManagers) builtinSchema() (*smdschema.Schema, error) {
	return f.schemaOf(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"})
}

// schemaOf returns the structured-merge-diff schema the built-in type
// converter reads objects of kind gvk with.
func (f *fieldManagers) schemaOf(gvk schema.GroupVersionKind) (*smdschema.Schema, error) {
	probe := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "probe"}}}
	probe.SetGroupVersionKind(gvk)
	tv, err := f.converter().ObjectToTyped(probe)
	if err != nil {
		return nil, fmt.Errorf("reading the built-in schema: %w", err)
	}
	return tv.Schema(), nil
}

// customModelName names a custom resource's type as kube-apiserver names
// its OpenAPI model: the group reversed, the version, the kind
// ("com.example.stable.v1.CronTab").
func customModelName(res *Resource) string {
	parts := strings.Split(res.Group, ".")
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, ".") + "." + res.Version + "." + res.Kind
}

// customConverter converts custom resources with one named type of a
// parser.
type customConverter struct {
	parser *typed.Parser
	name   string
}

// ObjectToTyped converts an unstructured custom resource.
func (c customConverter) ObjectToTyped(obj runtime.Object, opts ...typed.ValidationOptions) (*typed.TypedValue, error) {
	u, ok := obj.(runtime.Unstructured)
	if !ok {
		return nil, fmt.Errorf("custom resources are unstructured, not %T", obj)
	}
	return c.parser.Type(c.name).FromUnstructured(u.UnstructuredContent(), opts...)
}

// TypedToObject converts a typed value back to an unstructured object.
func (c customConverter) TypedToObject(v *typed.TypedValue) (runtime.Object, error) {
	switch o := v.AsValue().Unstructured().(type) {
	case map[string]any:
		return &unstructured.Unstructured{Object: o}, nil
	default:
		return nil, fmt.Errorf("a custom resource converted to %T, not an object", o)
	}
}
