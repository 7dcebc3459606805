// Package lint examines a chart for problems the way `helm lint` (v3.22.0)
// does, and reports them with Helm's severities, paths and wording.
//
// A lint run applies four groups of rules to one unpacked chart directory,
// in this order, each adding [Message] values to a [Result]:
//
//   - Chart.yaml: that it parses, and its name, apiVersion, version,
//     appVersion, maintainers, sources, icon, type and dependencies.
//   - values.yaml: that it exists (INFO when it does not), parses, and,
//     merged with the caller's overrides, satisfies values.schema.json.
//   - templates: that the chart loads and renders in lint mode (release
//     "test-release", the caller's namespace and Kubernetes version), that
//     template files have allowed extensions and no Helm 2 leftovers, and
//     that every rendered YAML document parses, has a well-formed
//     metadata.name, uses no deprecated API version, gives workloads a
//     selector and puts no resource-policy annotation inside a List.
//   - dependencies: that Chart.yaml and charts/ agree.
//
// [Path] is the entry point `pkg lint` uses: it accepts a chart directory
// or a packaged archive, which it unpacks to a temporary directory first.
// [Dir] lints a directory directly.
//
// The deprecated-API rule needs to know, for every built-in Kubernetes
// kind, in which release its API version was deprecated and removed. Helm
// asks the Kubernetes type registry; this package carries that knowledge
// as a table (deprecations_table.go) that a test checks against
// k8s.io/api, so the binary does not link the Kubernetes libraries.
package lint
