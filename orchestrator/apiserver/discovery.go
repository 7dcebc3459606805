package apiserver

import (
	"net/http"
	"runtime"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
)

// errNotAcceptable is the 406 answer to an Accept header the server
// cannot satisfy, which makes clients fall back to a form they also know.
func errNotAcceptable() error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusNotAcceptable,
		Reason:  metav1.StatusReasonNotAcceptable,
		Message: "only the following media types are accepted: application/json",
	}}
}

// serveVersion answers /version.
func (s *Server) serveVersion(w http.ResponseWriter, r *http.Request) {
	gv := s.cfg.GitVersion
	major, minor, _ := strings.Cut(strings.TrimPrefix(gv, "v"), ".")
	minor, _, _ = strings.Cut(minor, ".")
	writeJSON(w, http.StatusOK, version.Info{
		Major:        major,
		Minor:        minor,
		GitVersion:   gv,
		GitTreeState: "clean",
		GoVersion:    runtime.Version(),
		Compiler:     runtime.Compiler,
		Platform:     runtime.GOOS + "/" + runtime.GOARCH,
	})
}

// groups returns the served group versions in table order, the core group
// first when the table starts with it.
func (s *Server) groups() []schema.GroupVersion {
	var out []schema.GroupVersion
	seen := map[schema.GroupVersion]bool{}
	all := s.allResources()
	for i := range all {
		gv := all[i].GroupVersion()
		if !seen[gv] {
			seen[gv] = true
			out = append(out, gv)
		}
	}
	return out
}

// serveAPI answers /api: the core group's versions, or its aggregated
// discovery document.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	switch negotiate(r.Header.Get("Accept"), false, true) {
	case mediaDiscoveryV2:
		s.writeAggregated(w, func(g string) bool { return g == "" })
	case mediaJSON:
		writeJSON(w, http.StatusOK, metav1.APIVersions{
			TypeMeta: metav1.TypeMeta{Kind: "APIVersions"},
			Versions: []string{"v1"},
			ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{
				{ClientCIDR: "0.0.0.0/0", ServerAddress: r.Host},
			},
		})
	default:
		s.fail(w, errNotAcceptable())
	}
}

// serveAPIs answers /apis: the named groups, or their aggregated discovery
// document.
func (s *Server) serveAPIs(w http.ResponseWriter, r *http.Request) {
	switch negotiate(r.Header.Get("Accept"), false, true) {
	case mediaDiscoveryV2:
		s.writeAggregated(w, func(g string) bool { return g != "" })
	case mediaJSON:
		list := metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
		for _, gv := range s.groups() {
			if gv.Group != "" {
				list.Groups = addAPIGroup(list.Groups, gv)
			}
		}
		writeJSON(w, http.StatusOK, list)
	default:
		s.fail(w, errNotAcceptable())
	}
}

// serveGroup answers /apis/GROUP.
func (s *Server) serveGroup(w http.ResponseWriter, r *http.Request, group string) {
	if negotiate(r.Header.Get("Accept"), false, false) != mediaJSON {
		s.fail(w, errNotAcceptable())
		return
	}
	for _, gv := range s.groups() {
		if gv.Group == group {
			g := s.groupOf(gv.Group)
			g.TypeMeta = metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}
			writeJSON(w, http.StatusOK, g)
			return
		}
	}
	s.fail(w, errPathNotFound())
}

// apiGroup describes one group with its single version.
func apiGroup(gv schema.GroupVersion) metav1.APIGroup {
	v := metav1.GroupVersionForDiscovery{GroupVersion: gv.String(), Version: gv.Version}
	return metav1.APIGroup{Name: gv.Group, Versions: []metav1.GroupVersionForDiscovery{v}, PreferredVersion: v}
}

// serveResourceList answers /api/v1 and /apis/GROUP/VERSION.
func (s *Server) serveResourceList(w http.ResponseWriter, r *http.Request, gv string) {
	if negotiate(r.Header.Get("Accept"), false, false) != mediaJSON {
		s.fail(w, errNotAcceptable())
		return
	}
	list := metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv}
	all := s.allResources()
	for i := range all {
		res := &all[i]
		if res.APIVersion() != gv {
			continue
		}
		list.APIResources = append(list.APIResources, metav1.APIResource{
			Name:         res.Resource,
			SingularName: res.singular(),
			Namespaced:   res.Namespaced,
			Kind:         res.Kind,
			Verbs:        res.verbs(),
			ShortNames:   res.ShortNames,
			Categories:   res.Categories,
		})
		if res.Status {
			list.APIResources = append(list.APIResources, metav1.APIResource{
				Name: res.Resource + "/status", Namespaced: res.Namespaced, Kind: res.Kind,
				Verbs: []string{"get", "patch", "update"},
			})
		}
		if res.Resource == "pods" && res.Group == "" {
			list.APIResources = append(list.APIResources, metav1.APIResource{
				Name: "pods/binding", Namespaced: true, Kind: "Binding", Verbs: []string{"create"},
			}, metav1.APIResource{
				Name: "pods/eviction", Namespaced: true, Group: "policy", Version: "v1", Kind: "Eviction", Verbs: []string{"create"},
			}, metav1.APIResource{
				Name: "pods/log", Namespaced: true, Kind: "Pod", Verbs: []string{"get"},
			}, metav1.APIResource{
				Name: "pods/exec", Namespaced: true, Kind: "PodExecOptions", Verbs: []string{"create", "get"},
			}, metav1.APIResource{
				Name: "pods/portforward", Namespaced: true, Kind: "PodPortForwardOptions", Verbs: []string{"create", "get"},
			})
		}
		if res.Resource == "serviceaccounts" && res.Group == "" {
			list.APIResources = append(list.APIResources, metav1.APIResource{
				Name: "serviceaccounts/token", Namespaced: true, Group: "authentication.k8s.io", Version: "v1", Kind: "TokenRequest", Verbs: []string{"create"},
			})
		}
		if res.Scale {
			list.APIResources = append(list.APIResources, metav1.APIResource{
				Name: res.Resource + "/scale", Namespaced: res.Namespaced, Group: "autoscaling", Version: "v1", Kind: "Scale",
				Verbs: []string{"get", "patch", "update"},
			})
		}
	}
	writeJSON(w, http.StatusOK, list)
}

// writeAggregated sends the aggregated discovery document of the groups
// keep selects.
func (s *Server) writeAggregated(w http.ResponseWriter, keep func(group string) bool) {
	list := apidiscoveryv2.APIGroupDiscoveryList{
		TypeMeta: metav1.TypeMeta{Kind: "APIGroupDiscoveryList", APIVersion: "apidiscovery.k8s.io/v2"},
		Items:    []apidiscoveryv2.APIGroupDiscovery{},
	}
	for _, gv := range s.groups() {
		if !keep(gv.Group) {
			continue
		}
		v := apidiscoveryv2.APIVersionDiscovery{Version: gv.Version, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
		all := s.allResources()
		for i := range all {
			res := &all[i]
			if res.GroupVersion() != gv {
				continue
			}
			v.Resources = append(v.Resources, discoveryResource(res))
		}
		list.Items = addDiscoveryVersion(list.Items, gv.Group, v)
	}
	writeBody(w, http.StatusOK, contentTypeDiscoveryV2, list)
}

// discoveryResource describes one resource in aggregated discovery.
func discoveryResource(res *Resource) apidiscoveryv2.APIResourceDiscovery {
	scope := apidiscoveryv2.ScopeCluster
	if res.Namespaced {
		scope = apidiscoveryv2.ScopeNamespace
	}
	kind := metav1.GroupVersionKind{Group: res.Group, Version: res.Version, Kind: res.Kind}
	d := apidiscoveryv2.APIResourceDiscovery{
		Resource:         res.Resource,
		ResponseKind:     &kind,
		Scope:            scope,
		SingularResource: res.singular(),
		Verbs:            res.verbs(),
		ShortNames:       res.ShortNames,
		Categories:       res.Categories,
	}
	if res.Status {
		d.Subresources = append(d.Subresources, apidiscoveryv2.APISubresourceDiscovery{
			Subresource: "status", ResponseKind: &kind, Verbs: []string{"get", "patch", "update"},
		})
	}
	if res.Resource == "pods" && res.Group == "" {
		d.Subresources = append(d.Subresources, apidiscoveryv2.APISubresourceDiscovery{
			Subresource: "binding", ResponseKind: &metav1.GroupVersionKind{Version: "v1", Kind: "Binding"}, Verbs: []string{"create"},
		}, apidiscoveryv2.APISubresourceDiscovery{
			Subresource: "eviction", ResponseKind: &metav1.GroupVersionKind{Group: "policy", Version: "v1", Kind: "Eviction"}, Verbs: []string{"create"},
		}, apidiscoveryv2.APISubresourceDiscovery{
			Subresource: "log", ResponseKind: &metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}, Verbs: []string{"get"},
		}, apidiscoveryv2.APISubresourceDiscovery{
			Subresource: "exec", ResponseKind: &metav1.GroupVersionKind{Version: "v1", Kind: "PodExecOptions"}, Verbs: []string{"create", "get"},
		}, apidiscoveryv2.APISubresourceDiscovery{
			Subresource: "portforward", ResponseKind: &metav1.GroupVersionKind{Version: "v1", Kind: "PodPortForwardOptions"}, Verbs: []string{"create", "get"},
		})
	}
	if res.Resource == "serviceaccounts" && res.Group == "" {
		d.Subresources = append(d.Subresources, apidiscoveryv2.APISubresourceDiscovery{
			Subresource: "token", ResponseKind: &metav1.GroupVersionKind{Group: "authentication.k8s.io", Version: "v1", Kind: "TokenRequest"}, Verbs: []string{"create"},
		})
	}
	if res.Scale {
		d.Subresources = append(d.Subresources, apidiscoveryv2.APISubresourceDiscovery{
			Subresource:  "scale",
			ResponseKind: &metav1.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"},
			Verbs:        []string{"get", "patch", "update"},
		})
	}
	return d
}
