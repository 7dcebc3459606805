package storage

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FinalizerPVCProtection keeps a claim that a Pod uses from going while
// the Pod may still write to it, as kube-controller-manager's
// pvc-protection controller does.
const FinalizerPVCProtection = "kubernetes.io/pvc-protection"

// protect adds the protection finalizer to a claim.
func (c *Controller) protect(ctx context.Context, pvc *corev1.PersistentVolumeClaim) error {
	pvc = pvc.DeepCopy()
	pvc.Finalizers = append(pvc.Finalizers, FinalizerPVCProtection)
	_, err := c.Client.CoreV1().PersistentVolumeClaims(pvc.Namespace).Update(ctx, pvc, metav1.UpdateOptions{})
	return err // the update brings the claim back for the rest of its sync
}

// releaseProtection removes the protection finalizer of a claim being
// deleted once no Pod that may still run uses it; until then the claim
// stays Terminating.
func (c *Controller) releaseProtection(ctx context.Context, pvc *corev1.PersistentVolumeClaim) error {
	if !slices.Contains(pvc.Finalizers, FinalizerPVCProtection) {
		return nil
	}
	// The cache may not have seen a Pod just made: ask the API.
	pods, err := c.Client.CoreV1().Pods(pvc.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		for _, v := range p.Spec.Volumes {
			if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == pvc.Name {
				return nil // retried when that Pod changes or goes
			}
		}
	}
	pvc = pvc.DeepCopy()
	pvc.Finalizers = slices.DeleteFunc(pvc.Finalizers, func(f string) bool { return f == FinalizerPVCProtection })
	_, err = c.Client.CoreV1().PersistentVolumeClaims(pvc.Namespace).Update(ctx, pvc, metav1.UpdateOptions{})
	return err
}
