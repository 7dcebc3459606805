// Package image keeps the OCI images of the bundled orchestrator's nodes.
//
// A [Store] is a directory (the cluster data dir's images/ by default)
// holding:
//
//	blobs/sha256/<hex>   manifests, configs and compressed layers, by digest,
//	                     shared by every image that uses them
//	refs.json            references (repo:tag and repo@digest) to manifest
//	                     digests
//	layers/sha256/<hex>  layers unpacked once, by diffID
//	tmp/                 work in progress; never read
//
// Every file is written under tmp/ and renamed into place only once it is
// complete and its digest verified, so a crash never leaves a half-written
// blob where a reader can see it. refs.json is rewritten whole, under an
// exclusive lock on a lock file, so several node agents (or a node agent and
// the `pkg image` command) can share one store.
//
// Images enter the store by [Store.Pull] from an OCI registry (credentials
// from a [Keychain] built from Docker config files and Kubernetes
// imagePullSecrets) or by [Store.Load] from a docker-save or OCI layout
// archive. [ShouldPull] applies a container's imagePullPolicy.
//
// [Store.Unpack] builds a container's root filesystem. Each layer is
// extracted once into layers/ by a hardened untar that refuses path
// traversal, absolute names, hard links out of the layer, writes through
// symbolic links and sparse files, and keeps whiteout markers as plain
// files (and marks directories the tar only implied). The layers are then
// applied in order onto the target directory, symbolic links of lower
// layers resolved as in a chroot so nothing lands outside it: markers
// delete what lower layers put there and everything else is copied (or
// hard-linked when asked). Without root, device nodes are skipped, set-id
// bits dropped and ownership left to the current user. Copying works
// without root and on any file system, and leaves every container a private,
// writable tree; an overlay mount would be cheaper but needs privileges the
// rootless runtime does not have.
package image
