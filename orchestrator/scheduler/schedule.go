package scheduler

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// FitError says why no node can run a Pod, per reason, counted over the
// nodes.
type FitError struct {
	// Nodes is how many nodes were considered.
	Nodes int
	// Reasons counts the nodes filtered out for each reason.
	Reasons map[string]int
	// Unresolvable is why no node was looked at (a missing claim, say).
	Unresolvable string
}

// Error words it as kube-scheduler does:
// "0/3 nodes are available: 1 Too many pods, 2 Insufficient cpu."
func (e *FitError) Error() string {
	if e.Nodes == 0 {
		return "no nodes available to schedule pods"
	}
	if e.Unresolvable != "" {
		return fmt.Sprintf("0/%d nodes are available: %s.", e.Nodes, e.Unresolvable)
	}
	parts := make([]string, 0, len(e.Reasons))
	for r, n := range e.Reasons {
		parts = append(parts, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(parts)
	return fmt.Sprintf("0/%d nodes are available: %s.", e.Nodes, strings.Join(parts, ", "))
}

// Schedule picks the node for pod from a snapshot: the feasible node with
// the highest score, ties broken by name so that a decision is
// reproducible. It returns a *FitError when no node fits.
func Schedule(snap *Snapshot, pod *corev1.Pod) (string, error) {
	var feasible []*NodeInfo
	fe := &FitError{Nodes: len(snap.Nodes), Reasons: map[string]int{}}
	affinities, why := volumeBinding(snap.Storage, pod)
	if why != "" && len(snap.Nodes) > 0 {
		fe.Unresolvable = why
		return "", fe
	}
	st := prepare(snap, pod)
	st.volumeAffinity = affinities
	for _, ni := range snap.Nodes {
		if reasons := filter(st, ni); len(reasons) > 0 {
			for _, r := range reasons {
				fe.Reasons[r]++
			}
			continue
		}
		feasible = append(feasible, ni)
	}
	if len(feasible) == 0 {
		return "", fe
	}
	scores := scoreNodes(st, snap, feasible)
	best := 0
	for i := range feasible {
		if scores[i] > scores[best] || (scores[i] == scores[best] && feasible[i].Node.Name < feasible[best].Node.Name) {
			best = i
		}
	}
	return feasible[best].Node.Name, nil
}
