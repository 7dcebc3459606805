package chartutil

import "pkg.dev/pkg/render/internal/version"

// Capabilities is what templates see as .Capabilities: the Kubernetes
// version and API versions of the target cluster and the version of Helm
// being emulated. Field names, methods and JSON keys are Helm's, so that
// templates reading them, printing them or passing them to toYaml behave
// as under Helm.
type Capabilities struct {
	// KubeVersion is the Kubernetes version.
	KubeVersion KubeVersion
	// APIVersions are the API group/versions (and, from a live cluster,
	// "group/version/Kind" entries) the cluster serves.
	APIVersions VersionSet
	// HelmVersion is the build information of the emulated Helm.
	HelmVersion version.BuildInfo
}

// Copy returns a shallow copy of c; the API version list is shared.
func (c *Capabilities) Copy() *Capabilities {
	return &Capabilities{
		KubeVersion: c.KubeVersion,
		APIVersions: c.APIVersions,
		HelmVersion: c.HelmVersion,
	}
}

// KubeVersion is a Kubernetes version as templates see it:
// .Capabilities.KubeVersion.Version ("v1.37.0"), .Major ("1") and .Minor
// ("37").
type KubeVersion struct {
	Version string
	Major   string
	Minor   string
}

// String returns the full version, such as "v1.37.0".
func (kv *KubeVersion) String() string { return kv.Version }

// GitVersion returns the full version; templates written for Helm 2 call it.
//
// Deprecated: use the Version field.
func (kv *KubeVersion) GitVersion() string { return kv.Version }

// VersionSet is a list of API versions ("apps/v1") and, when discovered
// from a cluster, resources ("apps/v1/Deployment").
type VersionSet []string

// Has reports whether the set holds exactly the given entry.
func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}
