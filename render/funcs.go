package render

import (
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// LookupFunc serves the template function lookup: it returns the object
// (or, with an empty name, the list of objects) of the given apiVersion and
// kind in namespace ("" for cluster-scoped kinds or all namespaces), as an
// unstructured map; an object that does not exist gives an empty map and
// no error. The release layer builds one over the Kubernetes API.
type LookupFunc func(apiVersion, kind, namespace, name string) (map[string]any, error)

// Names of the functions whose implementation depends on the render (the
// engine's options, the template set, recursion counters).
const (
	fnInclude       = "include"
	fnTpl           = "tpl"
	fnRequired      = "required"
	fnFail          = "fail"
	fnLookup        = "lookup"
	fnGetHostByName = "getHostByName"
)

// funcTable is the template language of charts: sprig's text functions
// without env and expandenv, Helm's encoders, and stand-ins for the
// functions bound per render, which have their final signatures so that a
// template's calls type-check identically. It is built once per prepared
// chart and only read afterwards.
type funcTable struct {
	// funcs holds every function by name, as parsing and executing see
	// them before the per-render functions are bound.
	funcs template.FuncMap
	// hostByName is sprig's DNS-resolving getHostByName, used only when
	// the engine enables DNS.
	hostByName func(string) string
	// builtins names text/template's predefined functions, which the
	// parser must know of when it is called without a Template.
	builtins map[string]any
	// derivePassword is sprig's, which template sets call through a
	// memo (see aheadWork).
	derivePassword derivePasswordFunc
}

// newFuncTable builds the function table.
func newFuncTable() *funcTable {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	hostByName, _ := f[fnGetHostByName].(func(string) string)
	derive, _ := f["derivePassword"].(derivePasswordFunc)
	if compare, ok := f["semverCompare"].(func(string, string) (bool, error)); ok {
		f["semverCompare"] = memoSemverCompare(compare)
	}
	if _, ok := f["dict"].(func(...any) map[string]any); ok {
		f["dict"] = dictFunc
	}
	if deep, ok := f["deepCopy"].(func(any) any); ok {
		if mustDeep, ok := f["mustDeepCopy"].(func(any) (any, error)); ok {
			f["deepCopy"], f["mustDeepCopy"] = copyFuncs(deep, mustDeep)
		}
	}

	for name, fn := range map[string]any{
		"toToml":        encodeTOML,
		"fromToml":      decodeTOML,
		"toYaml":        encodeYAML,
		"toYamlPretty":  encodeYAMLPretty,
		"fromYaml":      memoDecoder(decodeYAML),
		"fromYamlArray": memoDecoder(decodeYAMLArray),
		"toJson":        encodeJSON,
		"fromJson":      memoDecoder(decodeJSON),
		"fromJsonArray": memoDecoder(decodeJSONArray),

		fnInclude:       func(string, any) (string, error) { return "", errUnbound },
		fnTpl:           func(string, any) (string, error) { return "", errUnbound },
		fnRequired:      func(string, any) (any, error) { return nil, errUnbound },
		fnFail:          func(string) (string, error) { return "", errUnbound },
		fnLookup:        func(string, string, string, string) (map[string]any, error) { return map[string]any{}, nil },
		fnGetHostByName: func(string) string { return "" },
	} {
		f[name] = fn
	}

	builtins := map[string]any{}
	for _, name := range strings.Fields(templateBuiltins) {
		builtins[name] = true
	}
	return &funcTable{funcs: f, hostByName: hostByName, builtins: builtins, derivePassword: derive}
}

// templateBuiltins names the functions text/template predefines. The
// parser needs their names when it is called directly.
const templateBuiltins = "and call html index slice js len not or " +
	"print printf println urlquery eq ge gt le lt ne"
