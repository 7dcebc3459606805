// Package cluster assembles pkg's local cluster from its parts: the object
// store in a data directory (Secrets sealed at rest), the API server over
// it, TLS with a certificate authority generated at first start, and a
// bearer token required on every request.
//
// Run serves in the foreground until its context is done; the helpers
// (Paths, ReadState, Check, Probe, Kubeconfig) let a command line start,
// find, stop and connect to a cluster that runs in another process.
//
// The virtual nodes are Options.Nodes alike ones, or Options.NodeConfigs
// each with its own name, labels, zone, capacity, taints and runtime,
// which LoadConfig reads from a cluster config file (kind Cluster).
//
// Files kept in the data directory (see Paths):
//
//	store.db, store.pid, encryption.key   the object store (orchestrator/store)
//	ca.crt, ca.key                         the cluster's certificate authority
//	server.crt, server.key                 the serving certificate, reissued at each start
//	token                                  the bearer token (mode 0600)
//	cluster.json                           the last server's pid, URL and start time
//	serve.log                              output of a server started in the background
package cluster
