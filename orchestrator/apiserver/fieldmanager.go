package apiserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	apiextclient "k8s.io/apiextensions-apiserver/pkg/client/applyconfiguration"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// fieldManagers builds, on first use, the structured-merge-diff machinery
// that keeps metadata.managedFields and merges server-side apply
// patches, and caches one managedfields.FieldManager per kind and
// subresource. Building the built-in kinds' schema costs tens of
// milliseconds, which is why it waits for the first client write rather
// than slowing the server's start.
type fieldManagers struct {
	scheme *runtime.Scheme
	// convert converts an object of a built-in kind served in several
	// versions to another of them (Server.convertVersion); nil leaves
	// objects as they are.
	convert func(runtime.Object, runtime.GroupVersioner) (runtime.Object, error)

	once    sync.Once
	builtin managedfields.TypeConverter

	mu    sync.Mutex
	byKey map[fieldManagerKey]cachedFieldManager
}

// fieldManagerKey names one cached field manager.
type fieldManagerKey struct {
	gvk schema.GroupVersionKind
	sub string
}

// cachedFieldManager is a field manager with the fingerprint of the
// schema it was built from, so that a changed CustomResourceDefinition
// gets a new one.
type cachedFieldManager struct {
	schema string
	fm     *managedfields.FieldManager
}

// converter returns the type converter of the built-in kinds: client-go's
// for the k8s.io/api groups and apiextensions' for its own.
func (f *fieldManagers) converter() managedfields.TypeConverter {
	f.once.Do(func() {
		f.builtin = builtinTypeConverter{
			core:       applyconfigurations.NewTypeConverter(f.scheme),
			extensions: apiextclient.NewTypeConverter(f.scheme),
		}
	})
	return f.builtin
}

// get returns the field manager of res for the subresource sub ("",
// "status" or "scale").
func (f *fieldManagers) get(res *Resource, sub string) (*managedfields.FieldManager, error) {
	gvk := res.GroupVersionKind()
	key := fieldManagerKey{gvk: gvk, sub: sub}
	fingerprint := ""
	if res.custom != nil {
		fingerprint = res.custom.sum
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.byKey[key]; ok && c.schema == fingerprint {
		return c.fm, nil
	}
	reset := resetFields(res, sub)
	var (
		fm  *managedfields.FieldManager
		err error
	)
	if gvk == (schema.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}) {
		// The apply configurations' schemas have no Scale; its fields
		// are all scalars under maps, which a deduced type serves.
		fm, err = managedfields.NewDefaultFieldManager(managedfields.NewDeducedTypeConverter(), unstructuredConvertor{convert: f.convert}, noDefaults{}, unstructuredCreater{}, gvk, gvk.GroupVersion(), sub, reset)
	} else if f.scheme.Recognizes(gvk) {
		fm, err = managedfields.NewDefaultFieldManager(f.converter(), unstructuredConvertor{convert: f.convert}, noDefaults{}, unstructuredCreater{}, gvk, gvk.GroupVersion(), sub, reset)
	} else {
		var tc managedfields.TypeConverter
		tc, err = f.customTypeConverter(res)
		if err == nil {
			fm, err = managedfields.NewDefaultCRDFieldManager(tc, unstructuredConvertor{convert: f.convert}, noDefaults{}, unstructuredCreater{}, gvk, gvk.GroupVersion(), sub, reset)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("building the field manager of %s: %w", res.GroupResource(), err)
	}
	if f.byKey == nil {
		f.byKey = map[fieldManagerKey]cachedFieldManager{}
	}
	f.byKey[key] = cachedFieldManager{schema: fingerprint, fm: fm}
	return fm, nil
}

// resetFields are the fields a write through sub does not own because
// the server resets them: status on the main resource of kinds with a
// status subresource, everything but status on that subresource.
func resetFields(res *Resource, sub string) map[fieldpath.APIVersion]fieldpath.Filter {
	if !res.Status {
		return nil
	}
	av := fieldpath.APIVersion(res.APIVersion())
	switch sub {
	case "":
		return map[fieldpath.APIVersion]fieldpath.Filter{
			av: fieldpath.NewExcludeSetFilter(fieldpath.NewSet(fieldpath.MakePathOrDie("status"))),
		}
	case "status":
		return map[fieldpath.APIVersion]fieldpath.Filter{
			av: fieldpath.NewExcludeSetFilter(fieldpath.NewSet(
				fieldpath.MakePathOrDie("spec"),
				fieldpath.MakePathOrDie("metadata", "labels"),
				fieldpath.MakePathOrDie("metadata", "annotations"),
			)),
		}
	}
	return nil
}

// builtinTypeConverter converts objects of the built-in kinds with the
// schema of their group's apply configurations.
type builtinTypeConverter struct {
	core, extensions managedfields.TypeConverter
}

// ObjectToTyped converts obj with the schema of its kind.
func (c builtinTypeConverter) ObjectToTyped(obj runtime.Object, opts ...typed.ValidationOptions) (*typed.TypedValue, error) {
	if obj.GetObjectKind().GroupVersionKind().Group == crdGroup {
		return c.extensions.ObjectToTyped(obj, opts...)
	}
	return c.core.ObjectToTyped(obj, opts...)
}

// TypedToObject converts a typed value back to an unstructured object.
func (c builtinTypeConverter) TypedToObject(v *typed.TypedValue) (runtime.Object, error) {
	return c.core.TypedToObject(v)
}

// unstructuredConvertor is the object convertor of a server that handles
// objects as unstructured. The field manager asks it for an object in the
// version of each manager's entry in managedFields: built-in kinds served
// in several versions are converted (convert), any other object is
// already in the version asked for (a kind served in one version, or a
// custom resource, stored as written).
type unstructuredConvertor struct {
	convert func(runtime.Object, runtime.GroupVersioner) (runtime.Object, error)
}

// Convert is not needed by the field manager and not supported.
func (unstructuredConvertor) Convert(in, out, context any) error {
	return fmt.Errorf("converting %T to %T is not supported", in, out)
}

// ConvertToVersion returns in in the version target asks for.
func (c unstructuredConvertor) ConvertToVersion(in runtime.Object, target runtime.GroupVersioner) (runtime.Object, error) {
	if c.convert == nil {
		return in, nil
	}
	return c.convert(in, target)
}

// ConvertFieldLabel returns the label and value unchanged.
func (unstructuredConvertor) ConvertFieldLabel(_ schema.GroupVersionKind, label, value string) (string, string, error) {
	return label, value, nil
}

// noDefaults leaves applied objects as they are: the write that follows
// sets the defaults (typedRoundTrip).
type noDefaults struct{}

// Default does nothing.
func (noDefaults) Default(runtime.Object) {}

// unstructuredCreater creates empty unstructured objects.
type unstructuredCreater struct{}

// New returns an empty object of kind gvk.
func (unstructuredCreater) New(gvk schema.GroupVersionKind) (runtime.Object, error) {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

// toUnstructured converts an object to the unstructured form the field
// manager reads, with integers as int64 and other numbers as float64: a
// deep copy, as a JSON round trip through k8s.io/apimachinery's json
// package would give, without the round trip (it was most of the cost of
// keeping managedFields on every write).
func toUnstructured(o object) (*unstructured.Unstructured, error) {
	m, err := plainValue(o)
	if err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: m.(map[string]any)}, nil
}

// plainValue deep-copies a decoded JSON value into the form
// k8s.io/apimachinery/pkg/util/json's Unmarshal produces.
func plainValue(v any) (any, error) {
	switch v := v.(type) {
	case nil, string, bool, int64:
		return v, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			c, err := plainValue(e)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			c, err := plainValue(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, nil
		}
		return v.Float64()
	case int:
		return int64(v), nil
	case int32:
		return int64(v), nil
	}
	// Anything else (a typed value set by the server's own code) takes
	// the JSON round trip.
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := utiljson.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// fromUnstructured converts a field manager's result back to an object.
func fromUnstructured(obj runtime.Object) (object, error) {
	u, ok := obj.(runtime.Unstructured)
	if !ok {
		return nil, fmt.Errorf("field manager returned a %T, not an unstructured object", obj)
	}
	data, err := json.Marshal(u.UnstructuredContent())
	if err != nil {
		return nil, err
	}
	return decodeObject(data)
}

// trackWrite records in next's metadata.managedFields the fields that
// manager set by writing next over cur (nil for a create) through the
// subresource sub, as kube-apiserver does for create, update and the
// non-apply patches. When the fields cannot be computed the object keeps
// the managedFields it had, as kube-apiserver does, and the problem is
// logged.
func (s *Server) trackWrite(res *Resource, sub string, cur, next object, manager string) object {
	out, err := s.trackWriteErr(res, sub, cur, next, manager)
	if err != nil {
		s.log.Warn("updating managedFields", "resource", res.GroupResource().String(), "name", str(next, "metadata", "name"), "err", err)
		if mf, ok := get(cur, "metadata", "managedFields").([]any); ok {
			meta(next)["managedFields"] = mf
		} else {
			delete(meta(next), "managedFields")
		}
		return next
	}
	return out
}

// trackWriteErr is trackWrite returning its error.
func (s *Server) trackWriteErr(res *Resource, sub string, cur, next object, manager string) (object, error) {
	fm, err := s.fields.get(res, sub)
	if err != nil {
		return nil, err
	}
	var live runtime.Object
	if cur == nil {
		live, _ = unstructuredCreater{}.New(res.GroupVersionKind())
	} else if live, err = toUnstructured(cur); err != nil {
		return nil, err
	}
	nu, err := toUnstructured(next)
	if err != nil {
		return nil, err
	}
	out, err := fm.Update(live, nu, manager)
	if err != nil {
		return nil, err
	}
	u, ok := out.(runtime.Unstructured)
	if !ok {
		return nil, fmt.Errorf("field manager returned a %T, not an unstructured object", out)
	}
	// The object stays next, in its own form; only its managedFields,
	// plain JSON values, come from the field manager.
	if mf := get(u.UnstructuredContent(), "metadata", "managedFields"); mf != nil {
		meta(next)["managedFields"] = mf
	} else {
		delete(meta(next), "managedFields")
	}
	return next, nil
}

// managerOrUserAgent returns the field manager of a write: the
// fieldManager parameter, or else the User-Agent up to its first slash,
// without unprintable characters and cut to the longest manager name
// Kubernetes allows, as kube-apiserver names it.
func managerOrUserAgent(manager, userAgent string) string {
	if manager != "" {
		return manager
	}
	prefix, _, _ := strings.Cut(userAgent, "/")
	var b bytes.Buffer
	for _, r := range prefix {
		if !unicode.IsPrint(r) {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > metav1validation.FieldManagerMaxLength {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
