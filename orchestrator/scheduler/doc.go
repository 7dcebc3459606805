// Package scheduler places Pods on nodes as kube-scheduler does: for each
// Pod waiting for a node it filters the nodes that can run it (resources,
// nodeSelector and node affinity, taints and tolerations, pod affinity and
// anti-affinity, topology spread constraints, cordoned nodes, the Pod's
// PersistentVolumeClaims and their volumes' node affinity), scores the
// rest (least allocated, preferred affinities, tolerated PreferNoSchedule
// taints, spreading) and binds the Pod to the best one through the API's
// binding subresource.
//
// Decisions are pure functions of a read-only Snapshot (filter.go,
// score.go), so they are tested on their own with many nodes and Pods; the
// Scheduler (scheduler.go) only keeps the snapshot from informers, feeds it
// Pods and writes the outcome: a binding, or PodScheduled=False with a
// FailedScheduling Event worded as kube-scheduler words it
// ("0/3 nodes are available: 3 Insufficient cpu.").
package scheduler
