// Package apiserver serves the Kubernetes API of pkg's orchestrator over the
// object store in orchestrator/store.
//
// # What is served
//
// The resources are listed once, in the table returned by Resources
// (resources.go); discovery (/api, /apis, both the plain and the aggregated
// v2 forms), routing, storage keys and server-side Tables are all derived
// from it, so serving one more built-in kind is one more entry there.
//
// CustomResourceDefinitions (crd.go) are stored like any object; each
// served version of a stored one adds a resource, served as unstructured
// JSON with the CRD's names, scope, status and scale subresources and
// printer columns, from the moment it is written (and, after a restart,
// from the store). Its status says Established and NamesAccepted at once;
// deleting it deletes its objects. Custom resources are not validated
// against the CRD's schema, nor converted between versions.
//
// Objects are kept as JSON under keys of the form
// /registry/GROUP/RESOURCE/NAMESPACE/NAME (the core group has no GROUP
// segment, as in etcd; cluster-scoped kinds have no NAMESPACE segment).
// metadata.resourceVersion is never stored: it is the store's modification
// revision, stamped on every object as it is read.
//
// # Requests
//
// The REST verbs get, list, watch, create, update, patch (JSON patch, JSON
// merge patch, strategic merge patch), delete and deletecollection are served
// for every resource, with the status subresource (and scale where the table
// says so). Lists take label and field selectors and limit/continue; watches
// stream newline-delimited JSON WatchEvents, send bookmarks when asked and
// support sendInitialEvents. Every error crosses the API as a metav1.Status
// with Kubernetes' reason, code and, where clients or users compare it, its
// exact message.
//
// # Bodies and validation
//
// Request bodies are read as JSON, YAML or, for the built-in kinds,
// Kubernetes protobuf (client-go's default for typed clients); responses
// are JSON, a meta.k8s.io/v1 Table, or PartialObjectMetadata, as the
// Accept header asks, and 406 otherwise. Objects of kinds known to
// client-go's scheme are passed through their Go types before they are
// stored, as kube-apiserver does: values of the wrong type are a 400,
// unknown fields are dropped with a Warning header, or refused with
// fieldValidation=Strict. /openapi/v3 serves skeleton documents that tell
// kubectl the server validates fields itself; they have no schemas yet.
// The most used of Kubernetes' defaults are set (defaults.go). Writes take
// dryRun=All.
//
// # Allocation and deletion
//
// Services get a cluster IP from Config.ServiceCIDR and, for NodePort and
// LoadBalancer, node ports from 30000-32767 when they are created, as
// kube-apiserver allocates them (services.go); the kubernetes Service in
// default holds the range's first address. Deletion follows Kubernetes:
// objects with finalizers are only marked with a deletionTimestamp, the
// Orphan and Foreground propagation policies become the garbage
// collector's finalizers, and Namespaces are marked Terminating
// (finalizers.go). A collector goroutine (gc.go) carries deletions on: it
// empties and removes Terminating namespaces, orphans or deletes
// dependents, and deletes objects whose owners are gone. It keeps an
// index of the store (dependents by owner uid, objects by uid and by
// namespace) from one list and then a watch, so that a change costs only
// the objects it concerns; it lists again every Config.GCResyncPeriod and
// whenever its watch ends. Server.Close stops it.
//
// # Seams
//
// Server is an http.Handler. Listening, TLS and authentication are the
// caller's: Config.Middleware wraps the handler, which is where a token
// check belongs.
package apiserver
