package apiserver

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
)

// openAPIModels turns the structured-merge-diff schema of the built-in
// kinds (the one behind client-go's apply configurations) into OpenAPI
// v3 component schemas: its maps, lists and scalars give the shape and
// the list and map semantics, the Go types of k8s.io/api tell integers
// from other numbers and give the descriptions (their SwaggerDoc). It is
// built on the first OpenAPI request.
type openAPIModels struct {
	once sync.Once
	err  error
	// defs holds the schema's types by name.
	defs map[string]*smdschema.TypeDef
	// goTypes holds the Go struct of each model name.
	goTypes map[string]reflect.Type
}

// schemaRef is where OpenAPI v3 documents keep their schemas.
const schemaRef = "#/components/schemas/"

// build makes the indexes, once, from the type converters' schemas and
// the Go types the scheme registers.
func (m *openAPIModels) build(f *fieldManagers, sch *runtime.Scheme) error {
	m.once.Do(func() {
		m.defs = map[string]*smdschema.TypeDef{}
		for _, probe := range []schema.GroupVersionKind{{Version: "v1", Kind: "ConfigMap"}, {Group: crdGroup, Version: "v1", Kind: "CustomResourceDefinition"}} {
			base, err := f.schemaOf(probe)
			if err != nil {
				m.err = err
				return
			}
			for i := range base.Types {
				if _, ok := m.defs[base.Types[i].Name]; !ok {
					m.defs[base.Types[i].Name] = &base.Types[i]
				}
			}
		}
		m.goTypes = map[string]reflect.Type{}
		for _, t := range sch.AllKnownTypes() {
			m.walkGo(t)
		}
	})
	return m.err
}

// walkGo records the struct types reachable from t by model name.
func (m *openAPIModels) walkGo(t reflect.Type) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	name := goModelName(t)
	if _, seen := m.goTypes[name]; seen {
		return
	}
	m.goTypes[name] = t
	for i := 0; i < t.NumField(); i++ {
		m.walkGo(t.Field(i).Type)
	}
}

// goModelName is the OpenAPI model name of a Go type: what its
// OpenAPIModelName method says, or else its package path with the domain
// reversed and its name ("io.k8s.api.apps.v1.Deployment").
func goModelName(t reflect.Type) string {
	if namer, ok := reflect.New(t).Elem().Interface().(interface{ OpenAPIModelName() string }); ok {
		return namer.OpenAPIModelName()
	}
	parts := strings.Split(t.PkgPath(), "/")
	domain := strings.Split(parts[0], ".")
	for i, j := 0, len(domain)-1; i < j; i, j = i+1, j-1 {
		domain[i], domain[j] = domain[j], domain[i]
	}
	parts[0] = strings.Join(domain, ".")
	return strings.Join(parts, ".") + "." + t.Name()
}

// kindModel returns the model name of a built-in kind, "" for kinds the
// scheme does not know.
func kindModel(sch *runtime.Scheme, gvk schema.GroupVersionKind) string {
	obj, err := sch.New(gvk)
	if err != nil {
		return ""
	}
	return goModelName(reflect.TypeOf(obj).Elem())
}

// swaggerDoc returns the descriptions a Go type carries: "" for the type,
// JSON field names for its fields.
func swaggerDoc(t reflect.Type) map[string]string {
	if t == nil {
		return nil
	}
	if d, ok := reflect.New(t).Elem().Interface().(interface{ SwaggerDoc() map[string]string }); ok {
		return d.SwaggerDoc()
	}
	return nil
}

// jsonFields indexes a struct's fields by JSON name, those of inlined
// embedded structs included.
func jsonFields(t reflect.Type, into map[string]reflect.StructField) {
	if t == nil || t.Kind() != reflect.Struct {
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			jsonFields(ft, into)
			continue
		}
		if name == "" {
			name = f.Name
		}
		into[name] = f
	}
}

// closure returns the model names reachable from roots, sorted.
func (m *openAPIModels) closure(roots []string) []string {
	seen := map[string]bool{}
	var visitRef func(smdschema.TypeRef)
	var visitAtom func(smdschema.Atom)
	visit := func(name string) {
		if seen[name] || m.defs[name] == nil {
			return
		}
		seen[name] = true
		visitAtom(m.defs[name].Atom)
	}
	visitRef = func(r smdschema.TypeRef) {
		if r.NamedType != nil {
			visit(*r.NamedType)
			return
		}
		visitAtom(r.Inlined)
	}
	visitAtom = func(a smdschema.Atom) {
		if a.Map != nil {
			for _, f := range a.Map.Fields {
				visitRef(f.Type)
			}
			visitRef(a.Map.ElementType)
		}
		if a.List != nil {
			visitRef(a.List.ElementType)
		}
	}
	for _, r := range roots {
		visit(r)
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		if !strings.HasPrefix(n, "__") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// model returns the OpenAPI schema of one model.
func (m *openAPIModels) model(name string) map[string]any {
	goT := m.goTypes[name]
	doc := swaggerDoc(goT)
	var out map[string]any
	if special := specialModel(name); special != nil {
		out = special
	} else {
		out = m.atom(m.defs[name].Atom, goT, doc)
	}
	if d := doc[""]; d != "" {
		out["description"] = d
	}
	return out
}

// specialModel gives the schemas of the types whose JSON form is not
// their Go shape, as kube-apiserver publishes them; nil for the others.
func specialModel(name string) map[string]any {
	switch name {
	case "io.k8s.apimachinery.pkg.api.resource.Quantity":
		return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}}
	case "io.k8s.apimachinery.pkg.apis.meta.v1.Time", "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime":
		return map[string]any{"type": "string", "format": "date-time"}
	case "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
		return map[string]any{"type": "string", "format": "int-or-string"}
	case "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1", "io.k8s.apimachinery.pkg.runtime.RawExtension":
		return map[string]any{"type": "object"}
	}
	return nil
}

// atom converts one structured-merge-diff atom whose Go type is goT.
func (m *openAPIModels) atom(a smdschema.Atom, goT reflect.Type, doc map[string]string) map[string]any {
	for goT != nil && goT.Kind() == reflect.Pointer {
		goT = goT.Elem()
	}
	switch {
	case a.Map != nil && len(a.Map.Fields) > 0:
		fields := map[string]reflect.StructField{}
		jsonFields(goT, fields)
		props := map[string]any{}
		var required []string
		for _, f := range a.Map.Fields {
			gf, ok := fields[f.Name]
			props[f.Name] = m.ref(f.Type, gf.Type, doc[f.Name])
			// Like Kubernetes' OpenAPI generator, a field that is
			// not omitted when empty is taken as required.
			if ok && !strings.Contains(gf.Tag.Get("json"), "omitempty") {
				required = append(required, f.Name)
			}
		}
		out := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			out["required"] = stringsToAny(required)
		}
		if a.Map.ElementRelationship == smdschema.Atomic {
			out["x-kubernetes-map-type"] = "atomic"
		}
		return out
	case a.Map != nil && a.List == nil && a.Scalar == nil:
		var elem reflect.Type
		if goT != nil && goT.Kind() == reflect.Map {
			elem = goT.Elem()
		}
		out := map[string]any{"type": "object", "additionalProperties": m.ref(a.Map.ElementType, elem, "")}
		if a.Map.ElementRelationship == smdschema.Atomic {
			out["x-kubernetes-map-type"] = "atomic"
		}
		return out
	case a.List != nil && a.Map == nil && a.Scalar == nil:
		var elem reflect.Type
		if goT != nil && (goT.Kind() == reflect.Slice || goT.Kind() == reflect.Array) {
			elem = goT.Elem()
		}
		out := map[string]any{"type": "array", "items": m.ref(a.List.ElementType, elem, "")}
		switch a.List.ElementRelationship {
		case smdschema.Associative:
			if len(a.List.Keys) > 0 {
				out["x-kubernetes-list-type"] = "map"
				out["x-kubernetes-list-map-keys"] = stringsToAny(a.List.Keys)
			} else {
				out["x-kubernetes-list-type"] = "set"
			}
		case smdschema.Atomic:
			out["x-kubernetes-list-type"] = "atomic"
		}
		return out
	case a.Scalar != nil && a.Map == nil && a.List == nil:
		return scalarSchema(*a.Scalar, goT)
	}
	// An untyped value: any JSON.
	return map[string]any{"x-kubernetes-preserve-unknown-fields": true}
}

// scalarSchema converts a scalar, telling integers from other numbers by
// the Go type.
func scalarSchema(s smdschema.Scalar, goT reflect.Type) map[string]any {
	switch s {
	case smdschema.String:
		if goT != nil && goT.Kind() == reflect.Slice {
			return map[string]any{"type": "string", "format": "byte"}
		}
		return map[string]any{"type": "string"}
	case smdschema.Boolean:
		return map[string]any{"type": "boolean"}
	case smdschema.Numeric:
		if goT != nil {
			switch goT.Kind() {
			case reflect.Int32, reflect.Uint32, reflect.Int16, reflect.Int8, reflect.Uint16, reflect.Uint8:
				return map[string]any{"type": "integer", "format": "int32"}
			case reflect.Int64, reflect.Int, reflect.Uint64, reflect.Uint:
				return map[string]any{"type": "integer", "format": "int64"}
			}
		}
		return map[string]any{"type": "number", "format": "double"}
	}
	return map[string]any{"x-kubernetes-preserve-unknown-fields": true}
}

// ref converts a reference to a type: a named one points to its model,
// with the field's description beside it; an inlined one is converted
// in place.
func (m *openAPIModels) ref(r smdschema.TypeRef, goT reflect.Type, desc string) map[string]any {
	var out map[string]any
	switch {
	case r.NamedType != nil && strings.HasPrefix(*r.NamedType, "__"):
		out = map[string]any{"x-kubernetes-preserve-unknown-fields": true}
	case r.NamedType != nil:
		target := map[string]any{"$ref": schemaRef + *r.NamedType}
		if desc == "" {
			return target
		}
		out = map[string]any{"allOf": []any{target}}
	default:
		out = m.atom(r.Inlined, goT, nil)
	}
	if r.ElementRelationship != nil && *r.ElementRelationship == smdschema.Atomic {
		out["x-kubernetes-map-type"] = "atomic"
	}
	if desc != "" {
		out["description"] = desc
	}
	return out
}

// customModel returns the OpenAPI schema of a custom resource version:
// its structural schema with apiVersion, kind and metadata as every kind
// has them; nil when the version has no structural schema.
func customModel(res *Resource) map[string]any {
	cs := res.custom
	if cs == nil || cs.openapi == nil {
		return nil
	}
	data, err := json.Marshal(cs.openapi)
	if err != nil {
		return nil
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil
	}
	props, _ := out["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
		out["properties"] = props
	}
	props["apiVersion"] = map[string]any{"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."}
	props["kind"] = map[string]any{"type": "string", "description": "Kind is a string value representing the REST resource this object represents."}
	props["metadata"] = map[string]any{"allOf": []any{map[string]any{"$ref": schemaRef + objectMetaModel}}, "description": "Standard object's metadata."}
	if _, ok := out["type"]; !ok {
		out["type"] = "object"
	}
	return out
}
