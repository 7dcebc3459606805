package apiserver

import (
	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// A group may be served at several versions (a CustomResourceDefinition
// with v1 and v1beta1): discovery lists it once, with its versions in
// priority order, the first preferred. s.groups() gives the versions in that
// order; the helpers below fold them into one entry per group.

// addAPIGroup adds group version gv to a list of groups.
func addAPIGroup(groups []metav1.APIGroup, gv schema.GroupVersion) []metav1.APIGroup {
	for i := range groups {
		if groups[i].Name == gv.Group {
			groups[i].Versions = append(groups[i].Versions, metav1.GroupVersionForDiscovery{GroupVersion: gv.String(), Version: gv.Version})
			return groups
		}
	}
	return append(groups, apiGroup(gv))
}

// groupOf describes group with all its served versions.
func (s *Server) groupOf(group string) metav1.APIGroup {
	var groups []metav1.APIGroup
	for _, gv := range s.groups() {
		if gv.Group == group {
			groups = addAPIGroup(groups, gv)
		}
	}
	if len(groups) == 0 {
		return metav1.APIGroup{Name: group}
	}
	return groups[0]
}

// addDiscoveryVersion adds version v of group to an aggregated discovery
// list.
func addDiscoveryVersion(items []apidiscoveryv2.APIGroupDiscovery, group string, v apidiscoveryv2.APIVersionDiscovery) []apidiscoveryv2.APIGroupDiscovery {
	for i := range items {
		if items[i].Name == group {
			items[i].Versions = append(items[i].Versions, v)
			return items
		}
	}
	return append(items, apidiscoveryv2.APIGroupDiscovery{
		ObjectMeta: metav1.ObjectMeta{Name: group},
		Versions:   []apidiscoveryv2.APIVersionDiscovery{v},
	})
}
