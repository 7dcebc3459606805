// Package apiserver serves the Kubernetes API of pkg's orchestrator over the
// object store in orchestrator/store.
//
// # What is served
//
// The resources are listed once, in the table returned by Resources
// (resources.go); discovery (/api, /apis, both the plain and the aggregated
// v2 forms), routing, storage keys and server-side Tables are all derived
// from it, so serving one more built-in kind is one more entry there. A
// built-in kind served in several versions, stored once, has one entry
// per version, the others carrying a conversion to and from the stored
// one (conversion.go): HorizontalPodAutoscalers are stored in
// autoscaling/v2 and served in autoscaling/v1 too, with Kubernetes'
// conversion (hpaconvert.go).
//
// CustomResourceDefinitions (crd.go) are stored like any object; each
// served version of a stored one adds a resource, served as unstructured
// JSON with the CRD's names, scope, status and scale subresources and
// printer columns, from the moment it is written (and, after a restart,
// from the store). Its status says Established and NamesAccepted at once;
// deleting it deletes its objects. Custom resources are checked against
// their version's structural openAPIV3Schema as kube-apiserver checks
// them (crdschema.go): unknown fields are pruned (kept under
// x-kubernetes-preserve-unknown-fields) with a warning, or refused with
// fieldValidation=Strict; the schema's defaults are set; violations are
// a 422 Invalid with one cause per field. CEL rules (x-kubernetes-
// validations) are not evaluated. Versions convert as with the None
// strategy: an object is stored as written and read through any served
// version with that version's apiVersion; conversion webhooks are not
// called.
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
// merge patch, strategic merge patch, server-side apply), delete and
// deletecollection are served for every resource, with the status
// subresource (and scale where the table says so). Lists take label and
// field selectors and limit/continue (with remainingItemCount when no
// selector filters); watches stream newline-delimited JSON WatchEvents,
// send bookmarks when asked and support sendInitialEvents.
//
// # Field management and server-side apply
//
// Client writes record metadata.managedFields as kube-apiserver does
// (fieldmanager.go), through k8s.io/apimachinery's managedfields package
// and sigs.k8s.io/structured-merge-diff: creates, updates and patches add
// an Update entry for their field manager (the fieldManager parameter, or
// else the User-Agent's program name), per subresource. Server-side apply
// (application/apply-patch+yaml, apply.go) needs a fieldManager, creates
// the object or merges into it, and answers a 409 Conflict with one cause
// per field another manager owns unless force=true. Built-in kinds are
// typed by the schemas behind client-go's and apiextensions' apply
// configurations, custom resources by their structural schema (deduced
// when they have none); both are built on the first write that needs
// them, not at start. The scale subresource shows and takes (apply
// included, scaleapply.go) the ownership of the workload's replicas, as
// Kubernetes' ScaleHandler maps it. The server's own writes (bootstrap,
// garbage collector) record nothing. Every error crosses the API as a metav1.Status
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
// fieldValidation=Strict. /openapi/v3 serves one document per group
// version that tells kubectl the server validates fields itself and holds
// the schemas of its kinds, which kubectl explain reads: for the built-in
// kinds made, on the first request, from the structured-merge-diff schema
// above and the Go types' descriptions (openapi_models.go), for custom
// resources from their CRD's schema. The most used of Kubernetes'
// defaults are set (defaults.go). Writes take dryRun=All.
//
// # Allocation and deletion
//
// Services get a cluster IP from Config.ServiceCIDR and, for NodePort and
// LoadBalancer, node ports from 30000-32767 when they are created, as
// kube-apiserver allocates them (services.go); the kubernetes Service in
// default holds the range's first address, and its Endpoints and
// EndpointSlice point at Config.AdvertiseAddress and AdvertisePort
// (apiendpoints.go). Deletion follows Kubernetes:
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
// check belongs. What a node holds reaches the API through functions in
// Config, so that this package knows nothing of nodes: Config.PodLogs
// (pods/log), Config.PodPortForward (pods/portforward, portforward.go)
// and Config.PodExec (pods/exec, exec.go). The last two upgrade the
// connection with the protocols kubectl speaks: SPDY, SPDY tunnelled in
// a websocket (tunnel.go) for port-forward, and websocket channels for
// exec.
package apiserver
