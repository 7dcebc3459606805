package scheduler

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// topoPair is one topology domain: a key and a node's value for it.
type topoPair struct{ key, value string }

// podState is what one decision computes once, before looking at each
// node, as kube-scheduler's PreFilter and PreScore do: so that a
// decision costs O(nodes + pods), not O(nodes × pods).
type podState struct {
	pod      *corev1.Pod
	required nodeaffinity.RequiredNodeAffinity
	// existingAnti are the domains where a placed Pod's required
	// anti-affinity forbids this Pod.
	existingAnti map[topoPair]bool
	// antiTerms and affTerms are the Pod's required terms with, for each,
	// the domains holding a Pod it selects.
	antiTerms []termState
	affTerms  []termState
	// spread are the Pod's topology spread constraints with their counts.
	spread []spreadState
	// volumeAffinity are the node affinities of the Pod's bound volumes.
	volumeAffinity []*corev1.NodeSelector
}

type termState struct {
	term corev1.PodAffinityTerm
	// values are the topology values (of term.TopologyKey) of the nodes
	// holding a Pod the term selects.
	values map[string]int
	// any tells whether some Pod matches at all; self whether the Pod
	// matches its own term.
	any, self bool
}

type spreadState struct {
	c      corev1.TopologySpreadConstraint
	counts map[string]int32
	min    int32
}

// matcher is an affinity term's selector, parsed once.
type matcher struct {
	sel        labels.Selector
	namespaces map[string]bool
	allNS      bool
}

func newMatcher(term corev1.PodAffinityTerm, owner *corev1.Pod) matcher {
	m := matcher{namespaces: map[string]bool{}}
	sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
	if err != nil {
		sel = labels.Nothing()
	}
	m.sel = sel
	for _, ns := range term.Namespaces {
		m.namespaces[ns] = true
	}
	if len(term.Namespaces) == 0 && term.NamespaceSelector == nil {
		m.namespaces[owner.Namespace] = true
	}
	if term.NamespaceSelector != nil && len(term.NamespaceSelector.MatchLabels) == 0 && len(term.NamespaceSelector.MatchExpressions) == 0 {
		m.allNS = true
	}
	return m
}

func (m matcher) matches(p *corev1.Pod) bool {
	return (m.allNS || m.namespaces[p.Namespace]) && m.sel.Matches(labels.Set(p.Labels))
}

// prepare computes the decision's state for pod over the snapshot.
func prepare(snap *Snapshot, pod *corev1.Pod) *podState {
	st := &podState{pod: pod, required: nodeaffinity.GetRequiredNodeAffinity(pod), existingAnti: map[topoPair]bool{}}
	aff := pod.Spec.Affinity
	var anti, affs []corev1.PodAffinityTerm
	if aff != nil && aff.PodAntiAffinity != nil {
		anti = aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	}
	if aff != nil && aff.PodAffinity != nil {
		affs = aff.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	}
	mk := func(terms []corev1.PodAffinityTerm) ([]termState, []matcher) {
		out := make([]termState, len(terms))
		ms := make([]matcher, len(terms))
		for i, t := range terms {
			ms[i] = newMatcher(t, pod)
			out[i] = termState{term: t, values: map[string]int{}, self: ms[i].matches(pod)}
		}
		return out, ms
	}
	var antiM, affM []matcher
	st.antiTerms, antiM = mk(anti)
	st.affTerms, affM = mk(affs)
	for _, c := range pod.Spec.TopologySpreadConstraints {
		st.spread = append(st.spread, spreadState{c: c, counts: map[string]int32{}})
	}
	spreadSel := make([]labels.Selector, len(st.spread))
	for i, s := range st.spread {
		sel, err := metav1.LabelSelectorAsSelector(s.c.LabelSelector)
		if err != nil {
			sel = labels.Nothing()
		}
		spreadSel[i] = sel
	}
	for _, ni := range snap.Nodes {
		nl := ni.Node.Labels
		for i := range st.spread {
			if v, ok := nl[st.spread[i].c.TopologyKey]; ok {
				if match, _ := st.required.Match(ni.Node); match {
					if _, seen := st.spread[i].counts[v]; !seen {
						st.spread[i].counts[v] = 0
					}
				}
			}
		}
		// Placed Pods' anti-affinity against this Pod.
		for _, a := range ni.anti {
			if v, ok := nl[a.key]; ok && a.m.matches(pod) {
				st.existingAnti[topoPair{a.key, v}] = true
			}
		}
		if len(st.antiTerms) == 0 && len(st.affTerms) == 0 && len(st.spread) == 0 {
			continue
		}
		for _, p := range ni.Pods {
			for i := range st.antiTerms {
				if v, ok := nl[st.antiTerms[i].term.TopologyKey]; ok && antiM[i].matches(p) {
					st.antiTerms[i].values[v]++
				}
			}
			for i := range st.affTerms {
				if affM[i].matches(p) {
					st.affTerms[i].any = true
					if v, ok := nl[st.affTerms[i].term.TopologyKey]; ok {
						st.affTerms[i].values[v]++
					}
				}
			}
			for i := range st.spread {
				v, ok := nl[st.spread[i].c.TopologyKey]
				if !ok || p.Namespace != pod.Namespace || !spreadSel[i].Matches(labels.Set(p.Labels)) {
					continue
				}
				if _, eligible := st.spread[i].counts[v]; eligible {
					st.spread[i].counts[v]++
				}
			}
		}
	}
	for i := range st.spread {
		first := true
		for _, n := range st.spread[i].counts {
			if first || n < st.spread[i].min {
				st.spread[i].min, first = n, false
			}
		}
	}
	return st
}
