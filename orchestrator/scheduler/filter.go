package scheduler

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"
)

// The reasons a node is filtered out, worded as kube-scheduler's plugins
// word them (they are counted into "0/3 nodes are available: ...").
const (
	reasonUnschedulable    = "node(s) were unschedulable"
	reasonNodeAffinity     = "node(s) didn't match Pod's node affinity/selector"
	reasonTooManyPods      = "Too many pods"
	reasonAntiAffinity     = "node(s) didn't match pod anti-affinity rules"
	reasonAffinity         = "node(s) didn't match pod affinity rules"
	reasonExistingAntiAff  = "node(s) didn't satisfy existing pods anti-affinity rules"
	reasonTopologySpread   = "node(s) didn't match pod topology spread constraints"
	reasonInsufficientTmpl = "Insufficient %s"
)

// filter says why node cannot run pod ("" if it can). checks are run in
// kube-scheduler's order and the first failing one is reported, as its
// framework does per node.
func filter(st *podState, ni *NodeInfo) []string {
	pod := st.pod
	node := ni.Node
	if node.Spec.Unschedulable && !tolerates(pod, &corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}) {
		return []string{reasonUnschedulable}
	}
	if ok, _ := st.required.Match(node); !ok {
		return []string{reasonNodeAffinity}
	}
	if taint, bad := corev1helpers.FindMatchingUntoleratedTaint(klog.Background(), node.Spec.Taints, pod.Spec.Tolerations, func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
	}, true); bad {
		return []string{fmt.Sprintf("node(s) had untolerated taint {%s: %s}", taint.Key, taint.Value)}
	}
	if reasons := fits(ni, pod); len(reasons) > 0 {
		return reasons
	}
	if volumeNodeConflict(st.volumeAffinity, node) {
		return []string{reasonVolumeAffinity}
	}
	if r := interPodAffinity(st, ni); r != "" {
		return []string{r}
	}
	if r := topologySpread(st, ni); r != "" {
		return []string{r}
	}
	return nil
}

func tolerates(pod *corev1.Pod, taint *corev1.Taint) bool {
	return corev1helpers.TolerationsTolerateTaint(klog.Background(), pod.Spec.Tolerations, taint, true)
}

// fits checks requests against what is left of the node's allocatable,
// reporting every resource that is short, as NodeResourcesFit does.
func fits(ni *NodeInfo, pod *corev1.Pod) []string {
	alloc := ni.Allocatable()
	req := PodRequests(pod)
	var out []string
	if alloc.Pods > 0 && ni.Requested.Pods+1 > alloc.Pods {
		out = append(out, reasonTooManyPods)
	}
	if req.MilliCPU > 0 && ni.Requested.MilliCPU+req.MilliCPU > alloc.MilliCPU {
		out = append(out, fmt.Sprintf(reasonInsufficientTmpl, "cpu"))
	}
	if req.Memory > 0 && ni.Requested.Memory+req.Memory > alloc.Memory {
		out = append(out, fmt.Sprintf(reasonInsufficientTmpl, "memory"))
	}
	if req.EphemeralStorage > 0 && alloc.EphemeralStorage > 0 && ni.Requested.EphemeralStorage+req.EphemeralStorage > alloc.EphemeralStorage {
		out = append(out, fmt.Sprintf(reasonInsufficientTmpl, "ephemeral-storage"))
	}
	return out
}

// interPodAffinity checks, in kube-scheduler's order, the Pod's required
// affinity and anti-affinity and the placed Pods' anti-affinity, against
// the node's topology domains.
func interPodAffinity(st *podState, ni *NodeInfo) string {
	nl := ni.Node.Labels
	for _, t := range st.affTerms {
		v, ok := nl[t.term.TopologyKey]
		if !ok {
			return reasonAffinity
		}
		// As kube-scheduler: a Pod whose affinity selects itself may go
		// anywhere while no Pod matches yet (the first of a group).
		if t.values[v] == 0 && (t.any || !t.self) {
			return reasonAffinity
		}
	}
	for _, t := range st.antiTerms {
		if v, ok := nl[t.term.TopologyKey]; ok && t.values[v] > 0 {
			return reasonAntiAffinity
		}
	}
	for pair := range st.existingAnti {
		if nl[pair.key] == pair.value {
			if _, ok := nl[pair.key]; ok {
				return reasonExistingAntiAff
			}
		}
	}
	return ""
}

// topologySpread checks the DoNotSchedule topology spread constraints:
// placing the Pod on the node must keep the skew within maxSkew.
func topologySpread(st *podState, ni *NodeInfo) string {
	for _, s := range st.spread {
		if s.c.WhenUnsatisfiable != corev1.DoNotSchedule {
			continue
		}
		v, ok := ni.Node.Labels[s.c.TopologyKey]
		if !ok {
			return reasonTopologySpread
		}
		if s.counts[v]+1-s.min > s.c.MaxSkew {
			return reasonTopologySpread
		}
	}
	return ""
}
