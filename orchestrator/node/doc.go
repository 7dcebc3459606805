// Package node is the orchestrator's node layer: virtual nodes that
// register and heartbeat as kubelets do, and the node lifecycle controller
// that notices when one stops.
//
// An Agent registers a Node object (capacity, allocatable, labels, taints,
// addresses, conditions) and keeps it alive with a Lease in
// kube-node-lease, renewed every 10 seconds, and a NodeReady condition.
// Several agents run in one orchestrator process so that placement is real
// and testable on one machine.
//
// The Lifecycle controller watches those Leases: a node whose Lease is not
// renewed within the grace period (40 s, as kube-controller-manager's
// default) turns NotReady (status Unknown), is tainted
// node.kubernetes.io/unreachable (NoSchedule and NoExecute), and its Pods
// are evicted once their toleration of the taint runs out (300 s by
// default, as the DefaultTolerationSeconds admission gives every Pod).
//
// A UsageMeter (usage.go) measures the cpu rate and memory working set of
// each running container from its cgroup, as the kubelet's resource
// metrics do, and keeps the node's latest figures in its directory, where
// the API server reads them to serve metrics.k8s.io (ReadUsage).
package node
