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
func scoreNodes(st *podState, snap *Snapshot, nodes []*NodeInfo) []int64 {
	pod := st.pod
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
	add(spreadScores(st, nodes), true)
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
	used := ni.NonZero
	return (score(used.MilliCPU+req.MilliCPU, alloc.MilliCPU) + score(used.Memory+req.Memory, alloc.Memory)) / 2
}

// podAffinityScores weighs the preferred pod affinity (positive) and
// anti-affinity (negative) terms by the matching Pods in each node's
// topology domain, counting the Pods once per term.
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
	for _, w := range terms {
		m := newMatcher(w.term, pod)
		counts := map[string]int64{}
		for _, ni := range snap.Nodes {
			v, ok := ni.Node.Labels[w.term.TopologyKey]
			if !ok {
				continue
			}
			for _, p := range ni.Pods {
				if m.matches(p) {
					counts[v]++
				}
			}
		}
		for i, ni := range nodes {
			if v, ok := ni.Node.Labels[w.term.TopologyKey]; ok {
				raw[i] += w.weight * counts[v]
			}
		}
	}
	return raw
}

// spreadScores counts, for each node, the Pods its domains already hold
// for the Pod's ScheduleAnyway spread constraints, or else the Pods of the
// same owner on the node (default spreading); fewer is better.
func spreadScores(st *podState, nodes []*NodeInfo) []int64 {
	raw := make([]int64, len(nodes))
	soft := false
	for _, s := range st.spread {
		if s.c.WhenUnsatisfiable != corev1.ScheduleAnyway {
			continue
		}
		soft = true
		for i, ni := range nodes {
			if v, ok := ni.Node.Labels[s.c.TopologyKey]; ok {
				raw[i] += int64(s.counts[v])
			}
		}
	}
	if soft {
		return raw
	}
	owner := controllerOf(st.pod)
	if owner == "" {
		return raw
	}
	for i, ni := range nodes {
		for _, p := range ni.Pods {
			if p.Namespace == st.pod.Namespace && controllerOf(p) == owner {
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
