// Package storage is the orchestrator's persistent volume layer: the
// default StorageClass, and the controller that binds
// PersistentVolumeClaims to PersistentVolumes and provisions volumes for
// them, as kube-controller-manager's PersistentVolume controller and a
// local-path provisioner do together.
//
// EnsureDefaultClass creates the StorageClass "pkg-local" (provisioner
// pkg.dev/local-path, volumeBindingMode WaitForFirstConsumer, reclaim
// policy Delete) annotated as the cluster's default, unless it exists.
//
// The Controller watches claims, volumes, Pods and StorageClasses:
//
//   - A claim without a class gets the default class, as the
//     DefaultStorageClass admission plugin (and the retroactive default
//     assignment of Kubernetes 1.28) sets it.
//   - A claim is bound to a static PersistentVolume of its class that is
//     Available, offers every access mode it asks for, has its volume
//     mode, matches its selector and holds at least its request: the
//     smallest such volume. A claim naming a volume (spec.volumeName), or
//     a volume pre-bound to a claim (spec.claimRef), binds only so.
//   - A claim of a class whose provisioner is this one and that no static
//     volume satisfies is provisioned: a directory DIR/pvc-UID and a
//     hostPath PersistentVolume for it, named pvc-UID as Kubernetes names
//     dynamically provisioned volumes. With volumeBindingMode Immediate
//     this happens at once; with WaitForFirstConsumer only once a Pod
//     using the claim has been scheduled, on that Pod's node (the claim is
//     annotated volume.kubernetes.io/selected-node and the volume gets a
//     node affinity to it).
//   - Binding writes both sides as Kubernetes does: the volume's claimRef
//     and phase Bound, the claim's spec.volumeName, phase Bound, capacity
//     and access modes, and the annotations pv.kubernetes.io/bind-completed
//     and pv.kubernetes.io/bound-by-controller.
//   - A claim carries the kubernetes.io/pvc-protection finalizer, removed
//     once it is being deleted and no unfinished Pod uses it.
//   - When a bound claim is deleted its volume is Released; with reclaim
//     policy Delete a volume this controller provisioned is deleted with
//     its directory, with Retain it stays Released with its data.
//
// The node agent (package node) mounts a bound claim's directory into the
// Pod's containers.
package storage
