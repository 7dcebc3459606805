package controllers

import (
	"context"
	"math"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

func sortRS(rss []*appsv1.ReplicaSet, cmp func(a, b *appsv1.ReplicaSet) int) {
	slices.SortStableFunc(rss, cmp)
}

// rolloutRolling takes one step of a RollingUpdate: grow the new
// ReplicaSet within maxSurge, or shrink the old ones within
// maxUnavailable, then report.
func (c *deploymentController) rolloutRolling(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, old, err := c.replicaSets(ctx, d, rsList, true)
	if err != nil {
		return err
	}
	all := append(slices.Clone(old), newRS)
	up, err := c.reconcileNewRS(ctx, all, newRS, d)
	if err != nil {
		return err
	}
	if up {
		return c.syncRolloutStatus(ctx, all, newRS, d)
	}
	down, err := c.reconcileOldRSs(ctx, all, activeReplicaSets(old), newRS, d)
	if err != nil {
		return err
	}
	if down {
		return c.syncRolloutStatus(ctx, all, newRS, d)
	}
	if deploymentComplete(d, &d.Status) {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, all, newRS, d)
}

func (c *deploymentController) reconcileNewRS(ctx context.Context, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) (bool, error) {
	want := replicasOf(d.Spec.Replicas)
	cur := replicasOf(newRS.Spec.Replicas)
	if cur == want {
		return false, nil
	}
	if cur > want {
		scaled, _, err := c.scaleRS(ctx, newRS, want, d)
		return scaled, err
	}
	scaled, _, err := c.scaleRS(ctx, newRS, newRSReplicas(d, all, newRS), d)
	return scaled, err
}

// reconcileOldRSs scales old ReplicaSets down as far as maxUnavailable
// allows: their unhealthy Pods first, then healthy ones, oldest first.
func (c *deploymentController) reconcileOldRSs(ctx context.Context, all, old []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) (bool, error) {
	if specReplicas(old) == 0 {
		return false, nil
	}
	allPods := specReplicas(all)
	minAvailable := replicasOf(d.Spec.Replicas) - maxUnavailable(d)
	newUnavailable := replicasOf(newRS.Spec.Replicas) - settledAvailable(newRS)
	maxScaledDown := allPods - minAvailable - newUnavailable
	if maxScaledDown <= 0 {
		return false, nil
	}
	sortRS(old, byCreation)
	var cleaned int32
	for i, rs := range old {
		if cleaned >= maxScaledDown {
			break
		}
		n := replicasOf(rs.Spec.Replicas)
		unhealthy := n - settledAvailable(rs)
		if n == 0 || unhealthy <= 0 {
			continue
		}
		by := min(maxScaledDown-cleaned, unhealthy)
		_, out, err := c.scaleRS(ctx, rs, n-by, d)
		if err != nil {
			return false, err
		}
		old[i] = out
		cleaned += by
	}
	// Healthy Pods, as long as enough stay available.
	var available int32
	for _, rs := range append(slices.Clone(old), newRS) {
		available += settledAvailable(rs)
	}
	var scaled int32
	if available > minAvailable {
		total := available - minAvailable
		for i, rs := range old {
			if scaled >= total {
				break
			}
			n := replicasOf(rs.Spec.Replicas)
			if n == 0 {
				continue
			}
			by := min(n, total-scaled)
			if _, out, err := c.scaleRS(ctx, rs, n-by, d); err != nil {
				return false, err
			} else {
				old[i] = out
			}
			scaled += by
		}
	}
	return cleaned+scaled > 0, nil
}

// settledAvailable is a ReplicaSet's available Pods as they will be once
// its controller has acted on its spec: never more than spec.replicas.
// Right after a scale-down the status still counts the Pods about to go,
// and trusting it would scale down twice.
func settledAvailable(rs *appsv1.ReplicaSet) int32 {
	return min(rs.Status.AvailableReplicas, replicasOf(rs.Spec.Replicas))
}

// rolloutRecreate scales every old ReplicaSet to zero, waits for their
// Pods to be gone, then creates or scales the new one.
func (c *deploymentController) rolloutRecreate(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, sel labels.Selector) error {
	newRS, old, err := c.replicaSets(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	all := append(slices.Clone(old), newRS)
	scaled := false
	for _, rs := range activeReplicaSets(old) {
		s, _, err := c.scaleRS(ctx, rs, 0, d)
		if err != nil {
			return err
		}
		scaled = scaled || s
	}
	if scaled {
		return c.syncRolloutStatus(ctx, all, newRS, d)
	}
	running, err := c.oldPodsRunning(d, newRS, old, sel)
	if err != nil {
		return err
	}
	if running {
		return c.syncRolloutStatus(ctx, all, newRS, d)
	}
	if newRS == nil {
		if newRS, old, err = c.replicaSets(ctx, d, rsList, true); err != nil {
			return err
		}
		all = append(slices.Clone(old), newRS)
	}
	if _, _, err := c.scaleRS(ctx, newRS, replicasOf(d.Spec.Replicas), d); err != nil {
		return err
	}
	if deploymentComplete(d, &d.Status) {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, all, newRS, d)
}

// oldPodsRunning reports whether any old ReplicaSet still has Pods that
// have not finished.
func (c *deploymentController) oldPodsRunning(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet, sel labels.Selector) (bool, error) {
	if r, _, _ := statusSums(old); r > 0 {
		return true, nil
	}
	pods, err := c.pods.Pods(d.Namespace).List(sel)
	if err != nil {
		return false, err
	}
	oldUIDs := map[types.UID]bool{}
	for _, rs := range old {
		oldUIDs[rs.UID] = true
	}
	for _, p := range pods {
		ref := metav1.GetControllerOfNoCopy(p)
		if ref == nil || !oldUIDs[ref.UID] || (newRS != nil && ref.UID == newRS.UID) {
			continue
		}
		if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			return true, nil
		}
	}
	return false, nil
}

// syncScale handles a replicas change (or a paused Deployment) by
// scaling the ReplicaSets proportionally, without rolling.
func (c *deploymentController) syncScale(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, old, err := c.replicaSets(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	if err := c.scale(ctx, d, newRS, old); err != nil {
		return err
	}
	if d.Spec.Paused {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.syncStatus(ctx, append(slices.Clone(old), newRS), newRS, d)
}

// syncStatusOnly reports status without acting (a Deployment being
// deleted).
func (c *deploymentController) syncStatusOnly(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, old, err := c.replicaSets(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	return c.syncStatus(ctx, append(slices.Clone(old), newRS), newRS, d)
}

// scale spreads a change of replicas over the active ReplicaSets in
// proportion to their sizes, as Kubernetes' proportional scaling does.
func (c *deploymentController) scale(ctx context.Context, d *appsv1.Deployment, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) error {
	want := replicasOf(d.Spec.Replicas)
	if rs := activeOrLatest(newRS, old); rs != nil {
		if replicasOf(rs.Spec.Replicas) == want {
			return nil
		}
		_, _, err := c.scaleRS(ctx, rs, want, d)
		return err
	}
	if saturated(d, newRS) {
		for _, rs := range activeReplicaSets(old) {
			if _, _, err := c.scaleRS(ctx, rs, 0, d); err != nil {
				return err
			}
		}
		return nil
	}
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
		return nil
	}
	all := activeReplicaSets(append(slices.Clone(old), newRS))
	var allowed int32
	if want > 0 {
		allowed = want + maxSurge(d)
	}
	toAdd := allowed - specReplicas(all)
	switch {
	case toAdd > 0:
		sortRS(all, func(a, b *appsv1.ReplicaSet) int { return bySize(a, b, true) })
	case toAdd < 0:
		sortRS(all, func(a, b *appsv1.ReplicaSet) int { return bySize(a, b, false) })
	}
	sizes := make([]int32, len(all))
	var added int32
	for i, rs := range all {
		sizes[i] = replicasOf(rs.Spec.Replicas)
		if toAdd != 0 {
			p := proportion(rs, d, toAdd, added)
			sizes[i] += p
			added += p
		}
	}
	if toAdd != 0 && len(all) > 0 {
		sizes[0] = max(0, sizes[0]+toAdd-added)
	}
	for i, rs := range all {
		if _, _, err := c.scaleRS(ctx, rs, sizes[i], d); err != nil {
			return err
		}
	}
	return nil
}

// bySize orders ReplicaSets largest first, then newer (or older) first.
func bySize(a, b *appsv1.ReplicaSet, newer bool) int {
	if ra, rb := replicasOf(a.Spec.Replicas), replicasOf(b.Spec.Replicas); ra != rb {
		if ra > rb {
			return -1
		}
		return 1
	}
	if newer {
		return -byCreation(a, b)
	}
	return byCreation(a, b)
}

// proportion is rs's share of toAdd given added so far.
func proportion(rs *appsv1.ReplicaSet, d *appsv1.Deployment, toAdd, added int32) int32 {
	if rs == nil || replicasOf(rs.Spec.Replicas) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	frac := fraction(rs, d)
	left := toAdd - added
	if toAdd > 0 {
		return min(frac, left)
	}
	return max(frac, left)
}

func fraction(rs *appsv1.ReplicaSet, d *appsv1.Deployment) int32 {
	n := replicasOf(rs.Spec.Replicas)
	if replicasOf(d.Spec.Replicas) == 0 {
		return -n
	}
	deploymentReplicas := replicasOf(d.Spec.Replicas) + maxSurge(d)
	annotated, ok := annotatedInt(rs, MaxReplicasAnnotation)
	if !ok {
		annotated = d.Status.Replicas
	}
	if annotated == 0 {
		return 0
	}
	size := float64(n*deploymentReplicas) / float64(annotated)
	return int32(math.Round(size)) - n
}

// activeOrLatest is the only active ReplicaSet, or, when none is active,
// the new one or else the newest old one; nil when several are active.
func activeOrLatest(newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	if newRS == nil && len(old) == 0 {
		return nil
	}
	sorted := slices.Clone(old)
	sortRS(sorted, func(a, b *appsv1.ReplicaSet) int { return -byCreation(a, b) })
	active := activeReplicaSets(append(slices.Clone(sorted), newRS))
	switch len(active) {
	case 0:
		if newRS != nil {
			return newRS
		}
		return sorted[0]
	case 1:
		return active[0]
	}
	return nil
}

// saturated reports whether the new ReplicaSet alone serves the
// Deployment: sized for it and all available.
func saturated(d *appsv1.Deployment, rs *appsv1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	want := replicasOf(d.Spec.Replicas)
	desired, ok := annotatedInt(rs, DesiredReplicasAnnotation)
	return ok && replicasOf(rs.Spec.Replicas) == want && desired == want && rs.Status.AvailableReplicas == want
}
