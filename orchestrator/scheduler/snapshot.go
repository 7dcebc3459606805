package scheduler

import (
	corev1 "k8s.io/api/core/v1"
)

// Snapshot is the state a decision reads: every node and the Pods bound
// to each. It is not changed while a Pod is being placed.
type Snapshot struct {
	Nodes []*NodeInfo
	// Storage looks up the claims and volumes of Pods' volumes; nil
	// leaves volumes unchecked.
	Storage Storage
}

// NodeInfo is a node with what is already placed on it.
type NodeInfo struct {
	Node *corev1.Node
	Pods []*corev1.Pod
	// Requested sums the requests of Pods.
	Requested Resources
	// NonZero sums them with scoring's defaults for Pods that request
	// nothing (100m cpu, 200Mi memory), as kube-scheduler keeps it.
	NonZero Resources
	// anti are the Pods with required anti-affinity, their terms parsed
	// once, for the check every later decision makes against them.
	anti []antiPod
}

// antiPod is a placed Pod's required anti-affinity term, parsed.
type antiPod struct {
	key string
	m   matcher
}

// Resources are the amounts the scheduler accounts: milli-cpu, memory
// bytes, ephemeral storage bytes and the number of Pods.
type Resources struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	Pods             int64
}

// NewNodeInfo builds a NodeInfo from a node and the Pods bound to it.
func NewNodeInfo(node *corev1.Node, pods ...*corev1.Pod) *NodeInfo {
	ni := &NodeInfo{Node: node}
	for _, p := range pods {
		ni.AddPod(p)
	}
	return ni
}

// AddPod accounts a Pod on the node.
func (n *NodeInfo) AddPod(p *corev1.Pod) {
	n.Pods = append(n.Pods, p)
	if a := p.Spec.Affinity; a != nil && a.PodAntiAffinity != nil {
		for _, t := range a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			n.anti = append(n.anti, antiPod{key: t.TopologyKey, m: newMatcher(t, p)})
		}
	}
	nz := nonZeroRequests(p)
	n.NonZero.MilliCPU += nz.MilliCPU
	n.NonZero.Memory += nz.Memory
	r := PodRequests(p)
	n.Requested.MilliCPU += r.MilliCPU
	n.Requested.Memory += r.Memory
	n.Requested.EphemeralStorage += r.EphemeralStorage
	n.Requested.Pods++
}

// Allocatable is what the node offers.
func (n *NodeInfo) Allocatable() Resources {
	a := n.Node.Status.Allocatable
	if len(a) == 0 {
		a = n.Node.Status.Capacity
	}
	return Resources{
		MilliCPU:         quantity(a, corev1.ResourceCPU, true),
		Memory:           quantity(a, corev1.ResourceMemory, false),
		EphemeralStorage: quantity(a, corev1.ResourceEphemeralStorage, false),
		Pods:             quantity(a, corev1.ResourcePods, false),
	}
}

func quantity(l corev1.ResourceList, name corev1.ResourceName, milli bool) int64 {
	q, ok := l[name]
	if !ok {
		return 0
	}
	if milli {
		return q.MilliValue()
	}
	return q.Value()
}

// PodRequests is what a Pod asks for, as kube-scheduler computes it: the
// sum over its containers, or the largest init container if larger, plus
// the Pod's overhead.
func PodRequests(p *corev1.Pod) Resources {
	var sum Resources
	add := func(l corev1.ResourceList, into *Resources) {
		into.MilliCPU += quantity(l, corev1.ResourceCPU, true)
		into.Memory += quantity(l, corev1.ResourceMemory, false)
		into.EphemeralStorage += quantity(l, corev1.ResourceEphemeralStorage, false)
	}
	for _, c := range p.Spec.Containers {
		add(c.Resources.Requests, &sum)
	}
	for _, c := range p.Spec.InitContainers {
		var ic Resources
		add(c.Resources.Requests, &ic)
		sum.MilliCPU = max(sum.MilliCPU, ic.MilliCPU)
		sum.Memory = max(sum.Memory, ic.Memory)
		sum.EphemeralStorage = max(sum.EphemeralStorage, ic.EphemeralStorage)
	}
	add(p.Spec.Overhead, &sum)
	return sum
}

// nonZeroRequests is PodRequests with kube-scheduler's defaults for
// scoring a container that requests nothing: 100m cpu and 200Mi memory.
func nonZeroRequests(p *corev1.Pod) Resources {
	var sum Resources
	for _, c := range p.Spec.Containers {
		cpu := quantity(c.Resources.Requests, corev1.ResourceCPU, true)
		if _, ok := c.Resources.Requests[corev1.ResourceCPU]; !ok {
			cpu = 100
		}
		mem := quantity(c.Resources.Requests, corev1.ResourceMemory, false)
		if _, ok := c.Resources.Requests[corev1.ResourceMemory]; !ok {
			mem = 200 * 1024 * 1024
		}
		sum.MilliCPU += cpu
		sum.Memory += mem
	}
	return sum
}
