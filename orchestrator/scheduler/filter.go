package scheduler

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
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
func filter(snap *Snapshot, ni *NodeInfo, pod *corev1.Pod) []string {
	node := ni.Node
	if node.Spec.Unschedulable && !tolerates(pod, &corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}) {
		return []string{reasonUnschedulable}
	}
	if ok, _ := nodeaffinity.GetRequiredNodeAffinity(pod).Match(node); !ok {
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
	if r := interPodAffinity(snap, ni, pod); r != "" {
		return []string{r}
	}
	if r := topologySpread(snap, ni, pod); r != "" {
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

// termMatches tells whether other is selected by an affinity term of pod
// (its label selector, within the term's namespaces).
func termMatches(term corev1.PodAffinityTerm, pod, other *corev1.Pod) bool {
	namespaces := term.Namespaces
	if len(namespaces) == 0 && term.NamespaceSelector == nil {
		namespaces = []string{pod.Namespace}
	}
	inNS := false
	for _, ns := range namespaces {
		if ns == other.Namespace {
			inNS = true
		}
	}
	if term.NamespaceSelector != nil && len(term.NamespaceSelector.MatchLabels) == 0 && len(term.NamespaceSelector.MatchExpressions) == 0 {
		inNS = true // an empty namespace selector selects every namespace
	}
	if !inNS {
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
	if err != nil {
		return false
	}
	return sel.Matches(labels.Set(other.Labels))
}

// topologyValue is the node's value for a topology key, and whether it
// has one.
func topologyValue(node *corev1.Node, key string) (string, bool) {
	v, ok := node.Labels[key]
	return v, ok
}

// interPodAffinity checks the required pod affinity and anti-affinity of
// the incoming Pod, and the required anti-affinity of the Pods already
// placed, against the topology domain of the node.
func interPodAffinity(snap *Snapshot, ni *NodeInfo, pod *corev1.Pod) string {
	aff := pod.Spec.Affinity
	if aff != nil && aff.PodAffinity != nil {
		if r := requiredAffinity(snap, ni, pod, aff.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution); r != "" {
			return r
		}
	}
	if aff != nil && aff.PodAntiAffinity != nil {
		for _, term := range aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			v, ok := topologyValue(ni.Node, term.TopologyKey)
			if !ok {
				continue
			}
			for _, other := range snap.Nodes {
				if ov, ok := topologyValue(other.Node, term.TopologyKey); !ok || ov != v {
					continue
				}
				for _, p := range other.Pods {
					if termMatches(term, pod, p) {
						return reasonAntiAffinity
					}
				}
			}
		}
	}
	// Existing pods' anti-affinity forbidding this pod in their domain.
	for _, other := range snap.Nodes {
		for _, p := range other.Pods {
			if p.Spec.Affinity == nil || p.Spec.Affinity.PodAntiAffinity == nil {
				continue
			}
			for _, term := range p.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
				v1, ok1 := topologyValue(other.Node, term.TopologyKey)
				v2, ok2 := topologyValue(ni.Node, term.TopologyKey)
				if ok1 && ok2 && v1 == v2 && termMatches(term, p, pod) {
					return reasonExistingAntiAff
				}
			}
		}
	}
	return ""
}

// requiredAffinity checks required pod affinity terms: each must find a
// matching Pod in the node's topology domain.
func requiredAffinity(snap *Snapshot, ni *NodeInfo, pod *corev1.Pod, terms []corev1.PodAffinityTerm) string {
	for _, term := range terms {
		v, ok := topologyValue(ni.Node, term.TopologyKey)
		if !ok {
			return reasonAffinity
		}
		matched, anyMatch := false, false
		for _, other := range snap.Nodes {
			for _, p := range other.Pods {
				if !termMatches(term, pod, p) {
					continue
				}
				anyMatch = true
				if ov, ok := topologyValue(other.Node, term.TopologyKey); ok && ov == v {
					matched = true
				}
			}
		}
		// As kube-scheduler: a pod whose affinity selects itself may go
		// anywhere while no pod matches yet (the first of a group).
		if !matched && (anyMatch || !termMatches(term, pod, pod)) {
			return reasonAffinity
		}
	}
	return ""
}

// topologySpread checks the DoNotSchedule topology spread constraints:
// placing the Pod on the node must keep the skew within maxSkew.
func topologySpread(snap *Snapshot, ni *NodeInfo, pod *corev1.Pod) string {
	for _, c := range pod.Spec.TopologySpreadConstraints {
		if c.WhenUnsatisfiable != corev1.DoNotSchedule {
			continue
		}
		v, ok := topologyValue(ni.Node, c.TopologyKey)
		if !ok {
			return reasonTopologySpread
		}
		counts := spreadCounts(snap, pod, c)
		minCount := int32(-1)
		for _, n := range counts {
			if minCount < 0 || n < minCount {
				minCount = n
			}
		}
		if minCount < 0 {
			minCount = 0
		}
		if counts[v]+1-minCount > c.MaxSkew {
			return reasonTopologySpread
		}
	}
	return ""
}

// spreadCounts counts, per topology domain of the eligible nodes, the Pods
// a spread constraint selects.
func spreadCounts(snap *Snapshot, pod *corev1.Pod, c corev1.TopologySpreadConstraint) map[string]int32 {
	sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
	if err != nil {
		sel = labels.Nothing()
	}
	counts := map[string]int32{}
	for _, other := range snap.Nodes {
		v, ok := topologyValue(other.Node, c.TopologyKey)
		if !ok {
			continue
		}
		if match, _ := nodeaffinity.GetRequiredNodeAffinity(pod).Match(other.Node); !match {
			continue
		}
		if _, seen := counts[v]; !seen {
			counts[v] = 0
		}
		for _, p := range other.Pods {
			if p.Namespace == pod.Namespace && sel.Matches(labels.Set(p.Labels)) {
				counts[v]++
			}
		}
	}
	return counts
}
