package kube

import (
	"context"
	"fmt"
	"path"
	"sort"

	"k8s.io/client-go/discovery"

	"pkg.dev/pkg/render"
)

// Capabilities reports what templates see as .Capabilities: the server's
// version (from /version), every group/version it serves and every
// group/version/Kind, and the emulated Helm version.
func (c *Client) Capabilities(ctx context.Context) (*render.Capabilities, error) {
	// Like Helm, ask afresh: CRDs may have been installed since.
	c.discovery.InvalidateWithContext(ctx)
	info, err := c.discovery.ServerVersionWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the Kubernetes server's version: %w", err)
	}
	versions, err := c.versionSet(ctx)
	if err != nil {
		return nil, err
	}
	caps := render.DefaultCapabilities()
	caps.KubeVersion = render.KubeVersion{
		Version: info.GitVersion,
		Major:   info.Major,
		Minor:   info.Minor,
	}
	caps.APIVersions = versions
	return caps, nil
}

// versionSet lists the served group/versions and group/version/Kinds, as
// Helm's GetVersionSet does, sorted (Helm's order is a map's). A group
// whose discovery failed is skipped with a warning; an empty answer gives
// the default set.
func (c *Client) versionSet(ctx context.Context) (render.VersionSet, error) {
	groups, resources, err := c.discovery.ServerGroupsAndResourcesWithContext(ctx)
	if err != nil {
		if !discovery.IsGroupDiscoveryFailedError(err) {
			return nil, fmt.Errorf("reading the Kubernetes server's API versions: %w", err)
		}
		c.log.Warn("the Kubernetes server has an API group it cannot serve; its versions are left out of .Capabilities.APIVersions", "error", err)
	}
	if len(groups) == 0 && len(resources) == 0 {
		return render.DefaultAPIVersions(), nil
	}
	seen := map[string]bool{}
	for _, g := range groups {
		for _, v := range g.Versions {
			seen[v.GroupVersion] = true
		}
	}
	for _, rl := range resources {
		for _, r := range rl.APIResources {
			seen[path.Join(rl.GroupVersion, r.Kind)] = true
		}
	}
	out := make(render.VersionSet, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out, nil
}
