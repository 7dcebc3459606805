// Package render turns a chart plus values into manifests exactly as Helm 3
// does. It is pure: no network, clock or environment; anything it needs to
// read is handed to it as bytes or as a function.
package render
