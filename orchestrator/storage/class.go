package storage

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// DefaultClassName is the StorageClass EnsureDefaultClass creates.
const DefaultClassName = "pkg-local"

// ProvisionerName is the provisioner this package implements, as
// StorageClasses name it.
const ProvisionerName = "pkg.dev/local-path"

// Annotations Kubernetes sets on classes, claims and volumes.
const (
	// AnnDefaultClass marks the cluster's default StorageClass.
	AnnDefaultClass = "storageclass.kubernetes.io/is-default-class"
	// AnnBindCompleted is set on a claim once its binding is complete.
	AnnBindCompleted = "pv.kubernetes.io/bind-completed"
	// AnnBoundByController is set on the side of a binding the
	// controller (not the user) chose.
	AnnBoundByController = "pv.kubernetes.io/bound-by-controller"
	// AnnProvisionedBy names the provisioner that made a volume.
	AnnProvisionedBy = "pv.kubernetes.io/provisioned-by"
	// AnnStorageProvisioner names the provisioner asked to provision a
	// claim (and its beta spelling, which older tools read).
	AnnStorageProvisioner     = "volume.kubernetes.io/storage-provisioner"
	AnnBetaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner"
	// AnnSelectedNode is the node chosen for a WaitForFirstConsumer
	// claim: the node of the first Pod using it.
	AnnSelectedNode = "volume.kubernetes.io/selected-node"
)

// EnsureDefaultClass creates the StorageClass pkg-local, the cluster's
// default, unless a class of that name exists (a user's changes to it are
// kept).
func EnsureDefaultClass(ctx context.Context, cs kubernetes.Interface) error {
	wffc := storagev1.VolumeBindingWaitForFirstConsumer
	del := corev1.PersistentVolumeReclaimDelete
	sc := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        DefaultClassName,
			Annotations: map[string]string{AnnDefaultClass: "true"},
		},
		Provisioner:       ProvisionerName,
		ReclaimPolicy:     &del,
		VolumeBindingMode: &wffc,
	}
	_, err := cs.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating the default StorageClass %s: %w", DefaultClassName, err)
	}
	return nil
}

// isDefault tells whether a class is annotated as the default (the beta
// annotation counts too, as Kubernetes reads it).
func isDefault(sc *storagev1.StorageClass) bool {
	return sc.Annotations[AnnDefaultClass] == "true" || sc.Annotations["storageclass.beta.kubernetes.io/is-default-class"] == "true"
}
