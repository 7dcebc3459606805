package render

import (
	"cmp"
	"strings"
)

// KindSortOrder lists Kubernetes kinds in the order their manifests are
// applied (or deleted). Kinds it does not list come after all listed ones,
// in alphabetical order of kind.
type KindSortOrder []string

// InstallOrder returns the order in which Helm v3.22 installs manifests, by
// kind: namespaces, policies and accounts first, then storage, custom
// resource definitions, RBAC, services, workloads, and ingresses and API
// services last. Each call returns a new slice.
func InstallOrder() KindSortOrder {
	return KindSortOrder{
		"PriorityClass",
		"Namespace",
		"NetworkPolicy",
		"ResourceQuota",
		"LimitRange",
		"PodSecurityPolicy",
		"PodDisruptionBudget",
		"ServiceAccount",
		"Secret",
		"SecretList",
		"ConfigMap",
		"StorageClass",
		"PersistentVolume",
		"PersistentVolumeClaim",
		"CustomResourceDefinition",
		"ClusterRole",
		"ClusterRoleList",
		"ClusterRoleBinding",
		"ClusterRoleBindingList",
		"Role",
		"RoleList",
		"RoleBinding",
		"RoleBindingList",
		"Service",
		"DaemonSet",
		"Pod",
		"ReplicationController",
		"ReplicaSet",
		"Deployment",
		"HorizontalPodAutoscaler",
		"StatefulSet",
		"Job",
		"CronJob",
		"IngressClass",
		"Ingress",
		"APIService",
	}
}

// UninstallOrder returns the order in which Helm v3.22 deletes manifests, by
// kind. It is InstallOrder reversed, except that Service comes right after
// the ingresses, before the workloads. Each call returns a new slice.
func UninstallOrder() KindSortOrder {
	return KindSortOrder{
		"APIService",
		"Ingress",
		"IngressClass",
		"Service",
		"CronJob",
		"Job",
		"StatefulSet",
		"HorizontalPodAutoscaler",
		"Deployment",
		"ReplicaSet",
		"ReplicationController",
		"Pod",
		"DaemonSet",
		"RoleBindingList",
		"RoleBinding",
		"RoleList",
		"Role",
		"ClusterRoleBindingList",
		"ClusterRoleBinding",
		"ClusterRoleList",
		"ClusterRole",
		"CustomResourceDefinition",
		"PersistentVolumeClaim",
		"PersistentVolume",
		"StorageClass",
		"ConfigMap",
		"SecretList",
		"Secret",
		"ServiceAccount",
		"PodDisruptionBudget",
		"PodSecurityPolicy",
		"LimitRange",
		"ResourceQuota",
		"NetworkPolicy",
		"Namespace",
		"PriorityClass",
	}
}

// kindRank is where one kind falls in a KindSortOrder.
type kindRank struct {
	kind   string
	listed bool
	pos    int
}

// kindRanker maps kinds to their rank in one order. A kind listed twice
// ranks at its last position.
type kindRanker map[string]int

// newKindRanker indexes order.
func newKindRanker(order KindSortOrder) kindRanker {
	r := make(kindRanker, len(order))
	for i, k := range order {
		r[k] = i
	}
	return r
}

// rank returns the rank of kind.
func (r kindRanker) rank(kind string) kindRank {
	pos, ok := r[kind]
	return kindRank{kind: kind, listed: ok, pos: pos}
}

// compareKindRanks orders listed kinds by position, before unlisted kinds,
// which it orders by name.
func compareKindRanks(a, b kindRank) int {
	switch {
	case a.listed && b.listed:
		return cmp.Compare(a.pos, b.pos)
	case a.listed:
		return -1
	case b.listed:
		return 1
	}
	return strings.Compare(a.kind, b.kind)
}
