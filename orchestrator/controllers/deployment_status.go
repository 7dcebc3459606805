package controllers

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
)

// calculateStatus derives a Deployment's status from its ReplicaSets.
func (c *deploymentController) calculateStatus(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) appsv1.DeploymentStatus {
	replicas, ready, available := statusSums(all)
	updated, _, _ := statusSums([]*appsv1.ReplicaSet{newRS})
	unavailable := max(0, specReplicas(all)-available)
	s := appsv1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            replicas,
		UpdatedReplicas:     updated,
		ReadyReplicas:       ready,
		AvailableReplicas:   available,
		UnavailableReplicas: unavailable,
		CollisionCount:      d.Status.CollisionCount,
	}
	for _, cd := range d.Status.Conditions {
		s.Conditions = append(s.Conditions, cd)
	}
	now := c.env.now()
	if available >= replicasOf(d.Spec.Replicas)-maxUnavailable(d) {
		setDeploymentCondition(&s, newDeploymentCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, reasonMinAvailable, "Deployment has minimum availability.", now))
	} else {
		setDeploymentCondition(&s, newDeploymentCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, reasonMinUnavailable, "Deployment does not have minimum availability.", now))
	}
	return s
}

// syncStatus writes the calculated status when it changed.
func (c *deploymentController) syncStatus(ctx context.Context, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) error {
	s := c.calculateStatus(all, newRS, d)
	if apiequality.Semantic.DeepEqual(d.Status, s) {
		return nil
	}
	d.Status = s
	return c.updateStatus(ctx, d)
}

// deploymentComplete reports whether every replica is updated and
// available and the latest spec observed.
func deploymentComplete(d *appsv1.Deployment, s *appsv1.DeploymentStatus) bool {
	want := replicasOf(d.Spec.Replicas)
	return s.UpdatedReplicas == want && s.Replicas == want && s.AvailableReplicas == want && s.ObservedGeneration >= d.Generation
}

// deploymentProgressing reports whether s moved the rollout on from d's
// stored status.
func deploymentProgressing(d *appsv1.Deployment, s *appsv1.DeploymentStatus) bool {
	o := d.Status
	return s.UpdatedReplicas > o.UpdatedReplicas ||
		s.Replicas-s.UpdatedReplicas < o.Replicas-o.UpdatedReplicas ||
		s.ReadyReplicas > o.ReadyReplicas ||
		s.AvailableReplicas > o.AvailableReplicas
}

// deploymentTimedOut reports whether the Progressing condition has not
// moved within progressDeadlineSeconds.
func deploymentTimedOut(d *appsv1.Deployment, s *appsv1.DeploymentStatus, now time.Time) bool {
	if !hasProgressDeadline(d) {
		return false
	}
	cd := deploymentCondition(s, appsv1.DeploymentProgressing)
	if cd == nil || cd.Reason == reasonNewRSAvailable {
		return false
	}
	if cd.Reason == reasonTimedOut {
		return true
	}
	return cd.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Before(now)
}

// syncRolloutStatus writes status with the Progressing condition of a
// rollout in progress, and requeues a rollout that could time out.
func (c *deploymentController) syncRolloutStatus(ctx context.Context, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) error {
	s := c.calculateStatus(all, newRS, d)
	now := c.env.now()
	if !hasProgressDeadline(d) {
		removeDeploymentCondition(&s, appsv1.DeploymentProgressing)
	}
	cur := deploymentCondition(&d.Status, appsv1.DeploymentProgressing)
	complete := s.Replicas == s.UpdatedReplicas && cur != nil && cur.Reason == reasonNewRSAvailable
	if hasProgressDeadline(d) && !complete {
		switch {
		case deploymentComplete(d, &s):
			msg := fmt.Sprintf("Deployment %q has successfully progressed.", d.Name)
			if newRS != nil {
				msg = fmt.Sprintf("ReplicaSet %q has successfully progressed.", newRS.Name)
			}
			setDeploymentCondition(&s, newDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonNewRSAvailable, msg, now))
		case deploymentProgressing(d, &s):
			msg := fmt.Sprintf("Deployment %q is progressing.", d.Name)
			if newRS != nil {
				msg = fmt.Sprintf("ReplicaSet %q is progressing.", newRS.Name)
			}
			cd := newDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonRSUpdated, msg, now)
			if cur != nil && cur.Status == corev1.ConditionTrue {
				cd.LastTransitionTime = cur.LastTransitionTime
			}
			removeDeploymentCondition(&s, appsv1.DeploymentProgressing)
			s.Conditions = append(s.Conditions, cd)
		case deploymentTimedOut(d, &s, now):
			msg := fmt.Sprintf("Deployment %q has timed out progressing.", d.Name)
			if newRS != nil {
				msg = fmt.Sprintf("ReplicaSet %q has timed out progressing.", newRS.Name)
			}
			setDeploymentCondition(&s, newDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, reasonTimedOut, msg, now))
		}
	}
	// ReplicaFailure mirrors the ReplicaSets' own.
	removeDeploymentCondition(&s, appsv1.DeploymentReplicaFailure)
	for _, rs := range append([]*appsv1.ReplicaSet{newRS}, all...) {
		if rs == nil {
			continue
		}
		if f := replicaSetFailure(rs.Status.Conditions); f != nil {
			cd := newDeploymentCondition(appsv1.DeploymentReplicaFailure, f.Status, f.Reason, f.Message, f.LastTransitionTime.Time)
			if prev := deploymentCondition(&d.Status, appsv1.DeploymentReplicaFailure); prev != nil && prev.Reason == f.Reason && prev.Status == f.Status {
				cd = *prev
			}
			s.Conditions = append(s.Conditions, cd)
			break
		}
	}
	if apiequality.Semantic.DeepEqual(d.Status, s) {
		c.requeueStuck(d, &s, now)
		return nil
	}
	d.Status = s
	if err := c.updateStatus(ctx, d); err != nil {
		return err
	}
	c.requeueStuck(d, &s, now)
	return nil
}

// requeueStuck checks a rollout in progress again when its deadline
// passes.
func (c *deploymentController) requeueStuck(d *appsv1.Deployment, s *appsv1.DeploymentStatus, now time.Time) {
	cd := deploymentCondition(s, appsv1.DeploymentProgressing)
	if !hasProgressDeadline(d) || cd == nil || cd.Reason == reasonNewRSAvailable || cd.Reason == reasonTimedOut || deploymentComplete(d, s) {
		return
	}
	after := cd.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Sub(now)
	if after < time.Second {
		after = 0
	}
	c.q.addAfter(d.Namespace+"/"+d.Name, after+time.Second)
}
