package storage

import (
	"context"
	"fmt"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func everything() labels.Selector { return labels.Everything() }

// syncClaim brings one claim closer to Bound: the default class, a
// static volume, or a provisioned one.
func (c *Controller) syncClaim(ctx context.Context, ns, name string) error {
	pvc, err := c.claims.PersistentVolumeClaims(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if pvc.DeletionTimestamp != nil {
		return c.releaseProtection(ctx, pvc)
	}
	if !slices.Contains(pvc.Finalizers, FinalizerPVCProtection) {
		return c.protect(ctx, pvc)
	}
	if pvc.Spec.StorageClassName == nil {
		if assigned, err := c.assignDefaultClass(ctx, pvc); assigned || err != nil {
			return err
		}
		// No default class: the claim binds as one of class "".
	}
	if pvc.Spec.VolumeName != "" {
		pv, err := c.volumes.Get(pvc.Spec.VolumeName)
		if apierrors.IsNotFound(err) {
			if pvc.Status.Phase == corev1.ClaimBound {
				return c.claimLost(ctx, pvc)
			}
			return nil // a volume the user named, not made yet
		}
		if err != nil {
			return err
		}
		if r := pv.Spec.ClaimRef; r != nil && (r.Namespace != pvc.Namespace || r.Name != pvc.Name || (r.UID != "" && r.UID != pvc.UID)) {
			if pvc.Status.Phase == corev1.ClaimBound {
				return c.claimLost(ctx, pvc)
			}
			c.rec.Eventf(pvc, corev1.EventTypeWarning, "FailedBinding", "volume %q already bound to a different claim.", pv.Name)
			return nil
		}
		return c.bind(ctx, pvc, pv)
	}
	class := classOf(pvc)
	if pv := c.match(pvc); pv != nil {
		return c.bind(ctx, pvc, pv)
	}
	if class == "" {
		c.rec.Event(pvc, corev1.EventTypeNormal, "FailedBinding", "no persistent volumes available for this claim and no storage class is set")
		return nil
	}
	sc, err := c.classes.Get(class)
	if apierrors.IsNotFound(err) {
		c.rec.Eventf(pvc, corev1.EventTypeWarning, "ProvisioningFailed", "storageclass.storage.k8s.io %q not found", class)
		return nil
	}
	if err != nil {
		return err
	}
	if sc.Provisioner != ProvisionerName {
		c.rec.Eventf(pvc, corev1.EventTypeNormal, "ExternalProvisioning",
			"Waiting for a volume to be created either by the external provisioner '%s' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.", sc.Provisioner)
		return nil
	}
	node := pvc.Annotations[AnnSelectedNode]
	if sc.VolumeBindingMode != nil && *sc.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer && node == "" {
		node = c.consumerNode(pvc)
		if node == "" {
			c.rec.Event(pvc, corev1.EventTypeNormal, "WaitForFirstConsumer", "waiting for first consumer to be created before binding")
			return nil
		}
		// As kube-scheduler's volume binding does: the claim names the
		// node of its first Pod, and the provisioner provisions there.
		pvc = pvc.DeepCopy()
		setAnn(&pvc.ObjectMeta, AnnSelectedNode, node)
		setAnn(&pvc.ObjectMeta, AnnStorageProvisioner, ProvisionerName)
		setAnn(&pvc.ObjectMeta, AnnBetaStorageProvisioner, ProvisionerName)
		_, err := c.Client.CoreV1().PersistentVolumeClaims(ns).Update(ctx, pvc, metav1.UpdateOptions{})
		return err // the update brings the claim back with its node
	}
	if pvc.Annotations[AnnStorageProvisioner] != ProvisionerName {
		pvc = pvc.DeepCopy()
		setAnn(&pvc.ObjectMeta, AnnStorageProvisioner, ProvisionerName)
		setAnn(&pvc.ObjectMeta, AnnBetaStorageProvisioner, ProvisionerName)
		_, err := c.Client.CoreV1().PersistentVolumeClaims(ns).Update(ctx, pvc, metav1.UpdateOptions{})
		return err
	}
	pv, err := c.provision(ctx, pvc, sc, node)
	if err != nil {
		c.rec.Eventf(pvc, corev1.EventTypeWarning, "ProvisioningFailed", "failed to provision volume with StorageClass %q: %v", class, err)
		return err
	}
	return c.bind(ctx, pvc, pv)
}

// classOf is a claim's class, "" for none.
func classOf(pvc *corev1.PersistentVolumeClaim) string {
	if pvc.Spec.StorageClassName == nil {
		return ""
	}
	return *pvc.Spec.StorageClassName
}

// assignDefaultClass gives a claim without a class the default one, if
// the cluster has one; false when it has none.
func (c *Controller) assignDefaultClass(ctx context.Context, pvc *corev1.PersistentVolumeClaim) (bool, error) {
	classes, err := c.classes.List(everything())
	if err != nil {
		return false, err
	}
	var def *storagev1.StorageClass
	for _, sc := range classes {
		// The newest default wins, as the admission plugin chooses.
		if isDefault(sc) && (def == nil || sc.CreationTimestamp.After(def.CreationTimestamp.Time)) {
			def = sc
		}
	}
	if def == nil {
		return false, nil
	}
	pvc = pvc.DeepCopy()
	pvc.Spec.StorageClassName = &def.Name
	_, err = c.Client.CoreV1().PersistentVolumeClaims(pvc.Namespace).Update(ctx, pvc, metav1.UpdateOptions{})
	return true, err
}

// consumerNode is the node of a scheduled Pod that uses the claim, or "".
func (c *Controller) consumerNode(pvc *corev1.PersistentVolumeClaim) string {
	pods, err := c.pods.Pods(pvc.Namespace).List(everything())
	if err != nil {
		return ""
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].CreationTimestamp.Before(&pods[j].CreationTimestamp) })
	for _, p := range pods {
		if p.Spec.NodeName == "" || p.DeletionTimestamp != nil {
			continue
		}
		for _, v := range p.Spec.Volumes {
			if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == pvc.Name {
				return p.Spec.NodeName
			}
		}
	}
	return ""
}

// match finds the static volume for a claim: one pre-bound to it, else
// the smallest Available volume of its class that satisfies it.
func (c *Controller) match(pvc *corev1.PersistentVolumeClaim) *corev1.PersistentVolume {
	pvs, err := c.volumes.List(everything())
	if err != nil {
		return nil
	}
	var best *corev1.PersistentVolume
	for _, pv := range pvs {
		if pv.DeletionTimestamp != nil || !satisfies(pv, pvc) {
			continue
		}
		if r := pv.Spec.ClaimRef; r != nil {
			if r.Namespace == pvc.Namespace && r.Name == pvc.Name && (r.UID == "" || r.UID == pvc.UID) {
				return pv // pre-bound to this claim
			}
			continue
		}
		if pv.Status.Phase != "" && pv.Status.Phase != corev1.VolumeAvailable && pv.Status.Phase != corev1.VolumePending {
			continue
		}
		if best == nil || cmpStorage(pv.Spec.Capacity, best.Spec.Capacity) < 0 {
			best = pv
		}
	}
	return best
}

// satisfies tells whether pv can serve pvc: class, access modes, volume
// mode, size and selector.
func satisfies(pv *corev1.PersistentVolume, pvc *corev1.PersistentVolumeClaim) bool {
	if pv.Spec.StorageClassName != classOf(pvc) {
		return false
	}
	for _, m := range pvc.Spec.AccessModes {
		found := false
		for _, have := range pv.Spec.AccessModes {
			found = found || have == m
		}
		if !found {
			return false
		}
	}
	if modeOf(pv.Spec.VolumeMode) != modeOf(pvc.Spec.VolumeMode) {
		return false
	}
	if cmpStorage(pv.Spec.Capacity, pvc.Spec.Resources.Requests) < 0 {
		return false
	}
	if pvc.Spec.Selector != nil {
		sel, err := metav1.LabelSelectorAsSelector(pvc.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(pv.Labels)) {
			return false
		}
	}
	return true
}

func modeOf(m *corev1.PersistentVolumeMode) corev1.PersistentVolumeMode {
	if m == nil {
		return corev1.PersistentVolumeFilesystem
	}
	return *m
}

// cmpStorage compares the storage of two resource lists.
func cmpStorage(a, b corev1.ResourceList) int {
	x, y := a[corev1.ResourceStorage], b[corev1.ResourceStorage]
	return x.Cmp(y)
}

// bind writes the binding on both sides: the volume's claimRef and
// phase, then the claim's volumeName, annotations, phase, capacity and
// access modes.
func (c *Controller) bind(ctx context.Context, pvc *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume) error {
	pvs := c.Client.CoreV1().PersistentVolumes()
	if r := pv.Spec.ClaimRef; r == nil || r.UID != pvc.UID {
		pv = pv.DeepCopy()
		if r == nil {
			setAnn(&pv.ObjectMeta, AnnBoundByController, "yes")
		}
		pv.Spec.ClaimRef = &corev1.ObjectReference{
			Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: pvc.Namespace, Name: pvc.Name,
			UID: pvc.UID, ResourceVersion: pvc.ResourceVersion,
		}
		var err error
		if pv, err = pvs.Update(ctx, pv, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("binding volume %s to claim %s/%s: %w", pv.Name, pvc.Namespace, pvc.Name, err)
		}
	}
	if pv.Status.Phase != corev1.VolumeBound {
		pv = pv.DeepCopy()
		pv.Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumeBound, LastPhaseTransitionTime: nowPtr()}
		if _, err := pvs.UpdateStatus(ctx, pv, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("setting volume %s Bound: %w", pv.Name, err)
		}
	}
	claims := c.Client.CoreV1().PersistentVolumeClaims(pvc.Namespace)
	if pvc.Spec.VolumeName != pv.Name || pvc.Annotations[AnnBindCompleted] != "yes" {
		pvc = pvc.DeepCopy()
		if pvc.Spec.VolumeName == "" {
			setAnn(&pvc.ObjectMeta, AnnBoundByController, "yes")
		}
		pvc.Spec.VolumeName = pv.Name
		setAnn(&pvc.ObjectMeta, AnnBindCompleted, "yes")
		var err error
		if pvc, err = claims.Update(ctx, pvc, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("binding claim %s/%s to volume %s: %w", pvc.Namespace, pvc.Name, pv.Name, err)
		}
	}
	if pvc.Status.Phase != corev1.ClaimBound {
		pvc = pvc.DeepCopy()
		pvc.Status.Phase = corev1.ClaimBound
		pvc.Status.AccessModes = pv.Spec.AccessModes
		pvc.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: pv.Spec.Capacity[corev1.ResourceStorage]}
		if _, err := claims.UpdateStatus(ctx, pvc, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("setting claim %s/%s Bound: %w", pvc.Namespace, pvc.Name, err)
		}
		c.log().Info("claim bound", "claim", pvc.Namespace+"/"+pvc.Name, "volume", pv.Name)
	}
	return nil
}

// claimLost marks a claim whose volume went away Lost, as Kubernetes does.
func (c *Controller) claimLost(ctx context.Context, pvc *corev1.PersistentVolumeClaim) error {
	if pvc.Status.Phase == corev1.ClaimLost {
		return nil
	}
	pvc = pvc.DeepCopy()
	pvc.Status.Phase = corev1.ClaimLost
	c.rec.Eventf(pvc, corev1.EventTypeWarning, "ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
	_, err := c.Client.CoreV1().PersistentVolumeClaims(pvc.Namespace).UpdateStatus(ctx, pvc, metav1.UpdateOptions{})
	return err
}

func setAnn(m *metav1.ObjectMeta, k, v string) {
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations[k] = v
}

func nowPtr() *metav1.Time {
	t := metav1.Now()
	return &t
}
