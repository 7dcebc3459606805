package apiserver

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The validation of custom resources against their structural schema is
// written here rather than taken from kube-openapi's validate package,
// whose package initialisation (format registries, regular expressions)
// would cost every run of the pkg binary, `pkg template` included, a few
// milliseconds. The rules are those of OpenAPI v3 as Kubernetes applies
// them to custom resources, and the messages are kube-apiserver's, so
// that clients and users see what a real cluster says. Of the string
// formats, the common ones whose check needs no table are checked
// (checkFormat); the others pass.

// schemaValidator collects the field errors of one object.
type schemaValidator struct {
	errs field.ErrorList
	// patterns caches the compiled patterns of the schema.
	patterns map[string]*regexp.Regexp
}

// validateStructural validates x, a custom resource in unstructured form,
// against s.
func validateStructural(x any, s *structuralschema.Structural) field.ErrorList {
	v := &schemaValidator{}
	v.value(x, s, "")
	return v.errs
}

// fieldPath turns a path in kube-openapi's form ("spec.ports[0].name")
// into a field path; nil for the root.
func fieldPath(p string) *field.Path {
	if p == "" {
		return nil
	}
	return field.NewPath(p)
}

// child returns the path of property name under p.
func child(p, name string) string {
	if p == "" {
		return name
	}
	return p + "." + name
}

// jsonType names the OpenAPI type of a JSON value, as kube-openapi's type
// validator names it.
func jsonType(x any) string {
	switch x.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case int64, int, int32:
		return "integer"
	case float64, float32:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", x)
}

// typeMatches reports whether x has the schema type typ.
func typeMatches(x any, typ string) bool {
	got := jsonType(x)
	switch {
	case typ == "" || got == typ:
		return true
	case typ == "number" && got == "integer":
		return true
	case typ == "integer" && got == "number":
		f, _ := x.(float64)
		return f == math.Trunc(f) && !math.IsInf(f, 0)
	}
	return false
}

// value validates x at path p against s.
func (v *schemaValidator) value(x any, s *structuralschema.Structural, p string) {
	if s == nil {
		return
	}
	if x == nil {
		if !s.Nullable && s.Type != "" {
			v.typeError(p, s.Type, x)
		}
		return
	}
	if s.XIntOrString {
		if t := jsonType(x); t != "integer" && t != "string" && !(t == "number" && typeMatches(x, "integer")) {
			v.typeError(p, "integer,string", x)
			return
		}
	} else if !typeMatches(x, s.Type) {
		v.typeError(p, s.Type, x)
		return
	}
	if s.ValueValidation != nil {
		v.rules(x, s.ValueValidation, p)
	}
	switch x := x.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if prop, ok := s.Properties[k]; ok {
				v.value(x[k], &prop, child(p, k))
			} else if s.AdditionalProperties != nil && s.AdditionalProperties.Structural != nil {
				v.value(x[k], s.AdditionalProperties.Structural, child(p, k))
			}
		}
	case []any:
		for i, e := range x {
			v.value(e, s.Items, fmt.Sprintf("%s[%d]", p, i))
		}
	}
}

// typeError reports x at p not being of type typ.
func (v *schemaValidator) typeError(p, typ string, x any) {
	got := jsonType(x)
	msg := fmt.Sprintf("%s in body must be of type %s: %q", p, typ, got)
	if p == "" {
		msg = fmt.Sprintf("must be of type %s: %q", typ, got)
	}
	v.errs = append(v.errs, field.TypeInvalid(fieldPath(p), got, msg))
}

// invalid reports a failed rule with kube-openapi's message, which
// starts with the path and "in body".
func (v *schemaValidator) invalid(p string, x any, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if p != "" {
		msg = p + " in body " + msg
	}
	v.errs = append(v.errs, field.Invalid(fieldPath(p), x, msg))
}

// number returns x as a float64 when it is a number.
func number(x any) (float64, bool) {
	switch n := x.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case int:
		return float64(n), true
	}
	return 0, false
}

// rules checks the value validations r on x at p.
func (v *schemaValidator) rules(x any, r *structuralschema.ValueValidation, p string) {
	if len(r.Enum) > 0 {
		ok := false
		var allowed []string
		for _, e := range r.Enum {
			if equalJSON(normalizeNumbers(e.Object), normalizeNumbers(x)) {
				ok = true
			}
			if s, isStr := e.Object.(string); isStr {
				allowed = append(allowed, s)
			} else {
				b, _ := json.Marshal(e.Object)
				allowed = append(allowed, string(b))
			}
		}
		if !ok {
			v.errs = append(v.errs, field.NotSupported(fieldPath(p), x, allowed))
		}
	}
	if n, ok := number(x); ok {
		if r.Maximum != nil {
			if r.ExclusiveMaximum && n >= *r.Maximum {
				v.invalid(p, x, "should be less than %v", *r.Maximum)
			} else if !r.ExclusiveMaximum && n > *r.Maximum {
				v.invalid(p, x, "should be less than or equal to %v", *r.Maximum)
			}
		}
		if r.Minimum != nil {
			if r.ExclusiveMinimum && n <= *r.Minimum {
				v.invalid(p, x, "should be greater than %v", *r.Minimum)
			} else if !r.ExclusiveMinimum && n < *r.Minimum {
				v.invalid(p, x, "should be greater than or equal to %v", *r.Minimum)
			}
		}
		if r.MultipleOf != nil && *r.MultipleOf > 0 {
			if q := n / *r.MultipleOf; q != math.Trunc(q) {
				v.invalid(p, x, "should be a multiple of %v", *r.MultipleOf)
			}
		}
	}
	if s, ok := x.(string); ok {
		n := int64(utf8.RuneCountInString(s))
		if r.MaxLength != nil && n > *r.MaxLength {
			v.errs = append(v.errs, field.TooLong(fieldPath(p), "", int(*r.MaxLength)))
		}
		if r.MinLength != nil && n < *r.MinLength {
			v.invalid(p, x, "should be at least %d chars long", *r.MinLength)
		}
		if r.Pattern != "" {
			if re := v.pattern(r.Pattern); re != nil && !re.MatchString(s) {
				v.invalid(p, x, "should match '%s'", r.Pattern)
			}
		}
		if r.Format != "" && !checkFormat(r.Format, s) {
			msg := fmt.Sprintf("%s in body must be of type %s: %q", p, r.Format, s)
			v.errs = append(v.errs, field.TypeInvalid(fieldPath(p), s, msg))
		}
	}
	if l, ok := x.([]any); ok {
		if r.MaxItems != nil && int64(len(l)) > *r.MaxItems {
			v.errs = append(v.errs, field.TooMany(fieldPath(p), len(l), int(*r.MaxItems)))
		}
		if r.MinItems != nil && int64(len(l)) < *r.MinItems {
			v.invalid(p, x, "should have at least %d items", *r.MinItems)
		}
		if r.UniqueItems && hasDuplicates(l) {
			v.invalid(p, x, "shouldn't contain duplicates")
		}
	}
	if m, ok := x.(map[string]any); ok {
		if r.MaxProperties != nil && int64(len(m)) > *r.MaxProperties {
			v.errs = append(v.errs, field.TooMany(fieldPath(p), len(m), int(*r.MaxProperties)))
		}
		if r.MinProperties != nil && int64(len(m)) < *r.MinProperties {
			v.invalid(p, x, "should have at least %d properties", *r.MinProperties)
		}
		for _, name := range r.Required {
			if _, present := m[name]; !present {
				v.errs = append(v.errs, field.Required(fieldPath(child(p, name)), ""))
			}
		}
	}
	for i := range r.AllOf {
		v.nested(x, &r.AllOf[i], p)
	}
	if len(r.AnyOf) > 0 {
		matched := false
		for i := range r.AnyOf {
			if v.passes(x, &r.AnyOf[i], p) {
				matched = true
				break
			}
		}
		if !matched {
			v.errs = append(v.errs, field.Invalid(fieldPath(p), x, fmt.Sprintf("%q must validate at least one schema (anyOf)", p)))
		}
	}
	if len(r.OneOf) > 0 {
		n := 0
		for i := range r.OneOf {
			if v.passes(x, &r.OneOf[i], p) {
				n++
			}
		}
		if n != 1 {
			v.errs = append(v.errs, field.Invalid(fieldPath(p), x, fmt.Sprintf("%q must validate one and only one schema (oneOf). Found %d valid alternatives", p, n)))
		}
	}
	if r.Not != nil && v.passes(x, r.Not, p) {
		v.errs = append(v.errs, field.Invalid(fieldPath(p), x, fmt.Sprintf("%q must not validate the schema (not)", p)))
	}
}

// isUUID reports whether s has the form of a UUID, any version:
// 8-4-4-4-12 hexadecimal digits.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

// checkFormat reports whether s has the string format f; formats not
// checked here pass.
func checkFormat(f, s string) bool {
	switch f {
	case "date-time", "datetime":
		_, err := time.Parse(time.RFC3339Nano, s)
		return err == nil
	case "date":
		_, err := time.Parse(time.DateOnly, s)
		return err == nil
	case "uuid":
		return isUUID(s)
	case "ipv4":
		ip := net.ParseIP(s)
		return ip != nil && ip.To4() != nil && !strings.Contains(s, ":")
	case "ipv6":
		return net.ParseIP(s) != nil && strings.Contains(s, ":")
	case "cidr":
		_, _, err := net.ParseCIDR(s)
		return err == nil
	case "byte":
		_, err := base64.StdEncoding.DecodeString(s)
		return err == nil
	}
	return true
}

// passes reports whether x satisfies the nested validation n, without
// reporting anything.
func (v *schemaValidator) passes(x any, n *structuralschema.NestedValueValidation, p string) bool {
	sub := &schemaValidator{patterns: v.patterns}
	sub.nested(x, n, p)
	v.patterns = sub.patterns
	return len(sub.errs) == 0
}

// nested checks a nested value validation (of allOf, anyOf, oneOf, not)
// on x at p, down its items and properties.
func (v *schemaValidator) nested(x any, n *structuralschema.NestedValueValidation, p string) {
	if t := n.ForbiddenGenerics.Type; t != "" && !typeMatches(x, t) {
		v.typeError(p, t, x)
		return
	}
	v.rules(x, &n.ValueValidation, p)
	switch x := x.(type) {
	case map[string]any:
		for k, e := range x {
			if prop, ok := n.Properties[k]; ok {
				v.nested(e, &prop, child(p, k))
			} else if n.AdditionalProperties != nil {
				v.nested(e, n.AdditionalProperties, child(p, k))
			}
		}
	case []any:
		if n.Items != nil {
			for i, e := range x {
				v.nested(e, n.Items, fmt.Sprintf("%s[%d]", p, i))
			}
		}
	}
}

// pattern compiles a schema pattern once; nil when it does not compile,
// which the CRD's own validation would have refused.
func (v *schemaValidator) pattern(expr string) *regexp.Regexp {
	if re, ok := v.patterns[expr]; ok {
		return re
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		re = nil
	}
	if v.patterns == nil {
		v.patterns = map[string]*regexp.Regexp{}
	}
	v.patterns[expr] = re
	return re
}

// hasDuplicates reports whether two items of l are equal JSON values.
func hasDuplicates(l []any) bool {
	seen := make(map[string]bool, len(l))
	for _, e := range l {
		b, err := json.Marshal(normalizeNumbers(e))
		if err != nil {
			continue
		}
		if seen[string(b)] {
			return true
		}
		seen[string(b)] = true
	}
	return false
}

// normalizeNumbers makes whole numbers of any Go type compare equal.
func normalizeNumbers(x any) any {
	switch n := x.(type) {
	case int64:
		return float64(n)
	case int:
		return float64(n)
	case int32:
		return float64(n)
	case json.Number:
		f, _ := n.Float64()
		return f
	case map[string]any:
		out := make(map[string]any, len(n))
		for k, e := range n {
			out[k] = normalizeNumbers(e)
		}
		return out
	case []any:
		out := make([]any, len(n))
		for i, e := range n {
			out[i] = normalizeNumbers(e)
		}
		return out
	}
	return x
}
