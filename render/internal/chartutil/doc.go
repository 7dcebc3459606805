// Package chartutil holds the value types templates see as .Values and
// .Capabilities. It is named after the Helm package that defines them
// there, because Go prints a type with its package name: `typeOf .Values`
// and errors such as dig's ("interface {} is chartutil.Values, not
// map[string]interface {}") must read as under Helm. package render
// re-exports every type here under an alias.
package chartutil
