package scheduler

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// maxScore is the score range of each plugin, as kube-scheduler's.
const maxScore = 100

// scoreNodes scores the feasible nodes for pod: least allocated
// resources, preferred node affinity, tolerated PreferNoSchedule taints,
// preferred pod (anti-)affinity and spreading, each normalized to 0..100
// and summed.
func scoreNodes(snap *Snapshot, nodes []*NodeInfo, pod *corev1.Pod) []int64 {
	total := make([]int64, len(nodes))
	add := func(raw []int64, reverse bool) {
		lo, hi := int64(0), int64(0)
		for i, v := range raw {
			if i == 0 || v < lo {
				lo = v
			}
			if i == 0 || v > hi {
				hi = v
			}
		}
		for i, v := range raw {
			n := int64(maxScore)
			if hi > lo {
				n = (v - lo) * maxScore / (hi - lo)
			} else if hi == 0 && !reverse {
				n = 0
			}
			if reverse {
				n = maxScore - n
			}
			total[i] += n
		}
	}
	req := nonZeroRequests(pod)
	least := make([]int64, len(nodes))
	for i, ni := range nodes {
		least[i] = leastAllocated(ni, req)
	}
	for i := range total {
		total[i] += least[i]
	}
	if pod.Spec.Affinity != nil && pod.Spec.Affinity.NodeAffinity != nil {
		terms, err := nodeaffinity.NewPreferredSchedulingTerms(pod.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution)
		if err == nil {
			raw := make([]int64, len(nodes))
			for i, ni := range nodes {
				raw[i] = terms.Score(ni.Node)
			}
			add(raw, false)
		}
	}
	intolerable := make([]int64, len(nodes))
	for i, ni := range nodes {
		for _, t := range ni.Node.Spec.Taints {
			if t.Effect == corev1.TaintEffectPreferNoSchedule && !tolerates(pod, &t) {
				intolerable[i]++
			}
		}
	}
	add(intolerable, true)
	add(podAffinityScores(snap, nodes, pod), false)
	add(spreadScores(snap, nodes, pod), true)
	return total
}

// leastAllocated favours nodes with the most cpu and memory left after the
// Pod, 0..100, as the LeastAllocated strategy.
func leastAllocated(ni *NodeInfo, req Resources) int64 {
	alloc := ni.Allocatable()
	score := func(requested, capacity int64) int64 {
		if capacity == 0 || requested > capacity {
			return 0
		}
		return (capacity - requested) * maxScore / capacity
	}
	var used Resources
	for _, p := range ni.Pods {
		r := nonZeroRequests(p)
		used.MilliCPU += r.MilliCPU
		used.Memory += r.Memory
	}
	return (score(used.MilliCPU+req.MilliCPU, alloc.MilliCPU) + score(used.Memory+req.Memory, alloc.Memory)) / 2
}

// podAffinityScores weighs the preferred pod affinity (positive) and
// anti-affinity (negative) terms by the matching Pods in each node's
// topology domain.
func podAffinityScores(snap *Snapshot, nodes []*NodeInfo, pod *corev1.Pod) []int64 {
	raw := make([]int64, len(nodes))
	aff := pod.Spec.Affinity
	if aff == nil {
		return raw
	}
	type weighted struct {
		term   corev1.PodAffinityTerm
		weight int64
	}
	var terms []weighted
	if aff.PodAffinity != nil {
		for _, t := range aff.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			terms = append(terms, weighted{t.PodAffinityTerm, int64(t.Weight)})
		}
	}
	if aff.PodAntiAffinity != nil {
		for _, t := range aff.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			terms = append(terms, weighted{t.PodAffinityTerm, -int64(t.Weight)})
		}
	}
	for i, ni := range nodes {
		for _, w := range terms {
			v, ok := topologyValue(ni.Node, w.term.TopologyKey)
			if !ok {
				continue
			}
			for _, other := range snap.Nodes {
				if ov, ok := topologyValue(other.Node, w.term.TopologyKey); !ok || ov != v {
					continue
				}
				for _, p := range other.Pods {
					if termMatches(w.term, pod, p) {
						raw[i] += w.weight
					}
				}
			}
		}
	}
	return raw
}

// spreadScores counts, for each node, the Pods its domains already hold
// for the Pod's ScheduleAnyway spread constraints, or else the Pods of the
// same owner on the node (default spreading); fewer is better.
func spreadScores(snap *Snapshot, nodes []*NodeInfo, pod *corev1.Pod) []int64 {
	raw := make([]int64, len(nodes))
	soft := false
	for _, c := range pod.Spec.TopologySpreadConstraints {
		if c.WhenUnsatisfiable != corev1.ScheduleAnyway {
			continue
		}
		soft = true
		counts := spreadCounts(snap, pod, c)
		for i, ni := range nodes {
			if v, ok := topologyValue(ni.Node, c.TopologyKey); ok {
				raw[i] += int64(counts[v])
			}
		}
	}
	if soft {
		return raw
	}
	owner := controllerOf(pod)
	if owner == "" {
		return raw
	}
	for i, ni := range nodes {
		for _, p := range ni.Pods {
			if p.Namespace == pod.Namespace && controllerOf(p) == owner {
				raw[i]++
			}
		}
	}
	return raw
}

func controllerOf(p *corev1.Pod) string {
	for _, ref := range p.OwnerReferences {
		if ref.Controller != nil && *ref.Controller {
			return string(ref.UID)
		}
	}
	return ""
}
