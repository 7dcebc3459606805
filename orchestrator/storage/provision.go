package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// provision makes the directory and the PersistentVolume of a claim,
// pre-bound to it, on node when one was selected.
func (c *Controller) provision(ctx context.Context, pvc *corev1.PersistentVolumeClaim, sc *storagev1.StorageClass, node string) (*corev1.PersistentVolume, error) {
	name := "pvc-" + string(pvc.UID)
	if pv, err := c.volumes.Get(name); err == nil {
		return pv, nil
	}
	size, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok || size.IsZero() {
		return nil, fmt.Errorf("claim %s/%s: spec.resources.requests.storage is required", pvc.Namespace, pvc.Name)
	}
	if modeOf(pvc.Spec.VolumeMode) == corev1.PersistentVolumeBlock {
		return nil, fmt.Errorf("claim %s/%s: volumeMode Block is not supported by %s, only Filesystem", pvc.Namespace, pvc.Name, ProvisionerName)
	}
	dir := filepath.Join(c.Dir, name)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("making the volume's directory: %w", err)
	}
	// Any user of the Pod may write its volume, as local-path volumes.
	if err := os.Chmod(dir, 0o777); err != nil {
		return nil, err
	}
	policy := corev1.PersistentVolumeReclaimDelete
	if sc.ReclaimPolicy != nil {
		policy = *sc.ReclaimPolicy
	}
	mode := corev1.PersistentVolumeFilesystem
	typ := corev1.HostPathDirectoryOrCreate
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{AnnProvisionedBy: ProvisionerName},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   pvc.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: policy,
			StorageClassName:              sc.Name,
			MountOptions:                  sc.MountOptions,
			VolumeMode:                    &mode,
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: dir, Type: &typ},
			},
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: pvc.Namespace, Name: pvc.Name,
				UID: pvc.UID, ResourceVersion: pvc.ResourceVersion,
			},
		},
	}
	if node != "" {
		pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
				Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{node},
			}}}},
		}}
	}
	created, err := c.Client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return c.Client.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		_ = os.Remove(dir) // empty: nothing was written to it
		return nil, err
	}
	c.rec.Eventf(pvc, corev1.EventTypeNormal, "ProvisioningSucceeded", "Successfully provisioned volume %s", name)
	c.log().Info("volume provisioned", "claim", pvc.Namespace+"/"+pvc.Name, "volume", name, "dir", dir, "node", node)
	return created, nil
}

// syncVolume keeps a volume's phase and reclaims it once its claim is
// gone.
func (c *Controller) syncVolume(ctx context.Context, name string) error {
	pv, err := c.volumes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if pv.DeletionTimestamp != nil {
		return nil
	}
	r := pv.Spec.ClaimRef
	if r == nil {
		return c.setPhase(ctx, pv, corev1.VolumeAvailable, "")
	}
	if r.UID == "" {
		return c.setPhase(ctx, pv, corev1.VolumeAvailable, "") // pre-bound, waiting for its claim
	}
	// The cache may lag behind a claim just made: ask the API.
	pvc, err := c.Client.CoreV1().PersistentVolumeClaims(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
	switch {
	case err == nil && pvc.UID == r.UID:
		if pvc.Spec.VolumeName == pv.Name {
			return c.setPhase(ctx, pv, corev1.VolumeBound, "")
		}
		return nil // the claim's sync finishes the binding
	case err != nil && !apierrors.IsNotFound(err):
		return err
	}
	// The claim is gone: the volume is released, then reclaimed.
	if pv.Status.Phase != corev1.VolumeReleased && pv.Status.Phase != corev1.VolumeFailed {
		if err := c.setPhase(ctx, pv, corev1.VolumeReleased, ""); err != nil {
			return err
		}
		c.log().Info("volume released", "volume", pv.Name, "claim", r.Namespace+"/"+r.Name, "policy", pv.Spec.PersistentVolumeReclaimPolicy)
	}
	switch pv.Spec.PersistentVolumeReclaimPolicy {
	case corev1.PersistentVolumeReclaimDelete:
		return c.reclaimDelete(ctx, pv)
	case corev1.PersistentVolumeReclaimRecycle:
		return c.setPhase(ctx, pv, corev1.VolumeFailed, "Recycle is deprecated and not supported: use Delete or Retain")
	}
	return nil // Retain: the volume keeps its data until an administrator frees it
}

// reclaimDelete deletes a released volume this controller provisioned,
// with its directory; other volumes cannot be deleted here and fail.
func (c *Controller) reclaimDelete(ctx context.Context, pv *corev1.PersistentVolume) error {
	dir, err := c.ownDir(pv)
	if err != nil {
		return c.setPhase(ctx, pv, corev1.VolumeFailed, err.Error())
	}
	if err := os.RemoveAll(dir); err != nil {
		return c.setPhase(ctx, pv, corev1.VolumeFailed, fmt.Sprintf("deleting the volume's directory: %v", err))
	}
	err = c.Client.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pv.UID}})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	c.log().Info("volume deleted", "volume", pv.Name, "dir", dir)
	return nil
}

// ownDir is the directory of a volume this controller provisioned; an
// error says why another volume cannot be deleted.
func (c *Controller) ownDir(pv *corev1.PersistentVolume) (string, error) {
	if pv.Annotations[AnnProvisionedBy] != ProvisionerName || pv.Spec.HostPath == nil {
		return "", errors.New("error getting deleter volume plugin for volume \"" + pv.Name + "\": no deletable volume plugin matched")
	}
	dir := filepath.Clean(pv.Spec.HostPath.Path)
	root := filepath.Clean(c.Dir)
	if filepath.Dir(dir) != root || !strings.HasPrefix(filepath.Base(dir), "pvc-") {
		return "", fmt.Errorf("volume %s: path %s is not a directory %s provisioned under %s; not deleting it", pv.Name, dir, ProvisionerName, root)
	}
	return dir, nil
}

// setPhase writes a volume's phase (and message) if it differs.
func (c *Controller) setPhase(ctx context.Context, pv *corev1.PersistentVolume, phase corev1.PersistentVolumePhase, msg string) error {
	if pv.Status.Phase == phase && pv.Status.Message == msg {
		return nil
	}
	pv = pv.DeepCopy()
	pv.Status = corev1.PersistentVolumeStatus{Phase: phase, Message: msg, LastPhaseTransitionTime: nowPtr()}
	if phase == corev1.VolumeFailed {
		c.rec.Event(pv, corev1.EventTypeWarning, "VolumeFailedDelete", msg)
	}
	_, err := c.Client.CoreV1().PersistentVolumes().UpdateStatus(ctx, pv, metav1.UpdateOptions{})
	return err
}
