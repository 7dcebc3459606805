package node

import (
	"context"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// mountWait is a volume that cannot be mounted yet (a claim missing or
// not bound): the Pod waits in ContainerCreating and tries again, as the
// kubelet's volume manager does.
type mountWait struct{ msg string }

func (e *mountWait) Error() string { return e.msg }

// claimVolume resolves a persistentVolumeClaim volume to the directory of
// the PersistentVolume bound to the claim.
func claimVolume(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, v *corev1.Volume) (volume, error) {
	src := v.PersistentVolumeClaim
	wait := func(format string, args ...any) (volume, error) {
		return volume{}, &mountWait{fmt.Sprintf("Unable to attach or mount volumes: unmounted volumes=[%s]: ", v.Name) + fmt.Sprintf(format, args...)}
	}
	pvc, err := cs.CoreV1().PersistentVolumeClaims(pod.Namespace).Get(ctx, src.ClaimName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return wait("persistentvolumeclaim %q not found", src.ClaimName)
	case err != nil:
		return volume{}, err
	case pvc.DeletionTimestamp != nil:
		return wait("persistentvolumeclaim %q is being deleted", src.ClaimName)
	case pvc.Status.Phase != corev1.ClaimBound || pvc.Spec.VolumeName == "":
		phase := pvc.Status.Phase
		if phase == "" {
			phase = corev1.ClaimPending
		}
		return wait("persistentvolumeclaim %q is not bound (phase %s)", src.ClaimName, phase)
	}
	pv, err := cs.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return wait("persistentvolume %q of claim %q not found", pvc.Spec.VolumeName, src.ClaimName)
	case err != nil:
		return volume{}, err
	}
	if r := pv.Spec.ClaimRef; r == nil || r.UID != pvc.UID {
		return wait("persistentvolume %q is not bound to claim %q", pv.Name, src.ClaimName)
	}
	var path string
	switch {
	case pv.Spec.HostPath != nil:
		path = pv.Spec.HostPath.Path
		if t := pv.Spec.HostPath.Type; t != nil && *t == corev1.HostPathDirectoryOrCreate {
			if err := os.MkdirAll(path, 0o777); err != nil {
				return volume{}, err
			}
		}
	case pv.Spec.Local != nil:
		path = pv.Spec.Local.Path
	default:
		return volume{}, &configError{fmt.Sprintf("persistentvolume %q of claim %q: only hostPath and local volumes can be mounted by pkg's node agent", pv.Name, src.ClaimName)}
	}
	if _, err := os.Stat(path); err != nil {
		return volume{}, &configError{fmt.Sprintf("persistentvolume %q of claim %q: %v", pv.Name, src.ClaimName, err)}
	}
	readOnly := src.ReadOnly
	for _, m := range pv.Spec.AccessModes {
		readOnly = readOnly || (len(pv.Spec.AccessModes) == 1 && m == corev1.ReadOnlyMany)
	}
	return volume{path: path, readOnly: readOnly}, nil
}
