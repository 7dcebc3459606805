// Package kube is the production release.Target: it applies a release's
// resources to any Kubernetes API server through client-go, the bundled
// orchestrator and a real cluster alike.
//
// Kinds are mapped to API resources through discovery, cached in memory and
// refreshed once when a kind is unknown (a CRD may just have been
// installed). Objects are read and written with the dynamic client; typed
// clients are used only to judge readiness.
//
// Behaviour follows Helm v3.22.0's pkg/kube where users can see it:
//
//   - Build splits a YAML stream into objects, maps each kind and defaults
//     the namespace of namespaced kinds, keeping the stream's order.
//   - Create creates in order and stops at the first error.
//   - Update is Helm 3's three-way merge: the previous manifest's object,
//     the live object and the new one give a strategic merge patch for the
//     kinds client-go knows and a JSON merge patch for the others; objects
//     dropped from the manifest are deleted unless kept
//     (helm.sh/resource-policy: keep or UpdateOptions.Keep).
//   - Wait polls readiness as Helm's ReadyChecker judges it and reports,
//     on each poll, what it still waits for and why.
//   - WatchUntilReady watches hook Jobs and Pods until they finish.
package kube
