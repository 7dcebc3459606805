// Package engine holds the type templates see as .Files. It is named
// after Helm's engine package, so that the type prints as "engine.files"
// (typeOf .Files), as under Helm.
package engine
