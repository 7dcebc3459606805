// Package orchestrator is pkg's single-machine Kubernetes: an API server
// serving the Kubernetes API on loopback over a transactional embedded store,
// a scheduler, the built-in controllers and one node agent per virtual node.
//
// The subpackages hold its parts; this package only names the whole. The
// object store lives in orchestrator/store.
package orchestrator
