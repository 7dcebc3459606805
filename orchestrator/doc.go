// Package orchestrator is pkg's single-machine Kubernetes: an API server
// serving the Kubernetes API on loopback over a transactional embedded store,
// a scheduler, the built-in controllers and one node agent per virtual node.
//
// The subpackages hold its parts; this package only names the whole:
// orchestrator/store (the object store), orchestrator/apiserver (the REST
// layer) and orchestrator/cluster (TLS, authentication and the lifecycle of
// a running server). The scheduler, controllers and node agents are to
// come.
package orchestrator
