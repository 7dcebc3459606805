package apiserver

import (
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// request is a resource request decoded from its URL.
type request struct {
	res   *Resource
	ns    string
	name  string
	sub   string // subresource: "", "status" or "scale"
	watch bool   // a legacy /watch/ path
	// dryRun says the write is validated and answered but not stored.
	dryRun bool
	// manager is the field manager of a client's write, recorded in
	// metadata.managedFields; "" for the server's own writes, which
	// record nothing.
	manager string
	// fieldsSub is the subresource managedFields name when it is not
	// sub: "scale" for a scale written as an update of its object.
	fieldsSub string
	// applied says the write is the result of a server-side apply,
	// whose managedFields are already set.
	applied bool
	// served is the version the client addressed when its objects are
	// stored in the version res is (conversion.go); nil otherwise.
	served *Resource
}

// route dispatches a request by its path.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	if !s.allowedPath(w, r, path) {
		return
	}
	switch {
	case path == "/version":
		s.serveVersion(w, r)
		return
	case path == "/healthz" || path == "/livez" || path == "/readyz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
		return
	case path == "/api":
		s.serveAPI(w, r)
		return
	case path == "/apis":
		s.serveAPIs(w, r)
		return
	case path == "/.well-known/openid-configuration" || path == "/openid/v1/jwks":
		s.serveOIDC(w, path)
		return
	case path == "/openapi/v3" || strings.HasPrefix(path, openAPIPathPrefix):
		s.serveOpenAPIv3(w, r, path)
		return
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var gv string
	switch {
	case parts[0] == "api" && len(parts) >= 2:
		gv, parts = parts[1], parts[2:]
	case parts[0] == "apis" && len(parts) == 2:
		s.serveGroup(w, r, parts[1])
		return
	case parts[0] == "apis" && len(parts) >= 3:
		gv, parts = parts[1]+"/"+parts[2], parts[3:]
	default:
		s.fail(w, errPathNotFound())
		return
	}
	byName, ok := s.resourcesIn(gv)
	if !ok {
		s.fail(w, errPathNotFound())
		return
	}
	if len(parts) == 0 {
		s.serveResourceList(w, r, gv)
		return
	}
	req, ok := parseResourcePath(byName, parts)
	if !ok {
		s.fail(w, errPathNotFound())
		return
	}
	if u, ok := UserFrom(r.Context()); ok {
		a := attributes{resourceRequest: true, group: req.res.Group, resource: req.res.Resource, sub: req.sub, ns: req.ns, name: req.name,
			verb: verbOf(r.Method, req, req.watch || req.name == "" && boolParam(r, "watch"))}
		if err := s.authorized(r.Context(), u, a); err != nil {
			s.fail(w, err)
			return
		}
	}
	if req.res.Group == MetricsGroup {
		s.serveMetrics(w, r, req)
		return
	}
	s.serveResource(w, r, req)
}

// allowedPath authorizes a request to a path that names no resource
// (discovery, OpenAPI, version, health); resource requests are
// authorized once routed. It answers 403 itself and returns false when
// the user may not.
func (s *Server) allowedPath(w http.ResponseWriter, r *http.Request, path string) bool {
	u, ok := UserFrom(r.Context())
	if !ok {
		return true
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	resourcePath := parts[0] == "api" && len(parts) > 2 || parts[0] == "apis" && len(parts) > 3
	if resourcePath {
		return true
	}
	if r.URL.Path == "" {
		r.URL.Path = "/"
	}
	if err := s.authorized(r.Context(), u, attributes{verb: nonResourceVerb(r.Method), path: r.URL.Path}); err != nil {
		s.fail(w, err)
		return false
	}
	return true
}

// parseResourcePath decodes the part of a path after GROUP/VERSION:
// [watch/][namespaces/NS/]RESOURCE[/NAME[/SUBRESOURCE]].
func parseResourcePath(byName map[string]*Resource, parts []string) (request, bool) {
	var req request
	if parts[0] == "watch" {
		req.watch, parts = true, parts[1:]
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		if r, ok := byName[parts[2]]; ok && r.Namespaced {
			req.ns, parts = parts[1], parts[2:]
		}
	}
	if len(parts) == 0 || len(parts) > 3 {
		return req, false
	}
	r, ok := byName[parts[0]]
	if !ok || (req.ns != "" && !r.Namespaced) {
		return req, false
	}
	req.res = r
	if len(parts) >= 2 {
		req.name = parts[1]
	}
	if len(parts) == 3 {
		req.sub = parts[2]
		if (req.sub != "status" || !r.Status) && (req.sub != "scale" || !r.Scale) && (req.sub != "binding" || r.Resource != "pods" || r.Group != "") && (req.sub != "log" || r.Resource != "pods" || r.Group != "") && (req.sub != "eviction" || r.Resource != "pods" || r.Group != "") && (req.sub != "token" || r.Resource != "serviceaccounts" || r.Group != "") && !isPodStream(r, req.sub) {
			return req, false
		}
		if req.watch {
			return req, false
		}
	}
	return req, true
}

// serveResource dispatches a resource request by method.
func (s *Server) serveResource(w http.ResponseWriter, r *http.Request, req request) {
	res := req.res
	if res.conv != nil {
		st, err := s.storageOf(res)
		if err != nil {
			s.fail(w, err)
			return
		}
		req.served, req.res = res, st
	}
	notSupported := func(verb string) {
		s.fail(w, apierrors.NewMethodNotSupported(res.GroupResource(), verb))
	}
	dryRun, err := parseDryRun(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	req.dryRun = dryRun
	switch r.Method {
	case http.MethodPost, http.MethodPut:
		if err := validateFieldManager(r); err != nil {
			s.fail(w, err)
			return
		}
		fallthrough
	case http.MethodPatch:
		req.manager = managerOrUserAgent(r.URL.Query().Get("fieldManager"), r.UserAgent())
	}
	if isPodStream(res, req.sub) && req.name != "" {
		s.servePodStream(w, r, req)
		return
	}
	switch r.Method {
	case http.MethodGet:
		switch {
		case req.watch || (req.name == "" && boolParam(r, "watch")):
			if !res.serves("watch") {
				notSupported("watch")
				return
			}
			s.serveWatch(w, r, req)
		case req.name == "":
			if !res.serves("list") {
				notSupported("list")
				return
			}
			s.serveList(w, r, req)
		case req.sub == "scale":
			s.serveGetScale(w, r, req)
		case req.sub == "log":
			s.serveLog(w, r, req)
		default:
			if !res.serves("get") {
				notSupported("get")
				return
			}
			s.serveGet(w, r, req)
		}
	case http.MethodPost:
		if req.sub == "binding" && req.name != "" && !req.watch {
			s.serveBinding(w, r, req)
			return
		}
		if req.sub == "eviction" && req.name != "" && !req.watch {
			s.serveEviction(w, r, req)
			return
		}
		if req.sub == "token" && req.name != "" && !req.watch {
			s.serveTokenRequest(w, r, req)
			return
		}
		if req.name != "" || req.watch || (res.Namespaced && req.ns == "") || !res.serves("create") {
			notSupported("create")
			return
		}
		if res.Group == "authorization.k8s.io" || res.Group == "authentication.k8s.io" {
			s.serveAccessReview(w, r, req)
			return
		}
		s.serveCreate(w, r, req)
	case http.MethodPut:
		if req.name == "" || req.watch || !res.serves("update") {
			notSupported("update")
			return
		}
		if req.sub == "scale" {
			s.serveUpdateScale(w, r, req)
			return
		}
		s.serveUpdate(w, r, req)
	case http.MethodPatch:
		if req.name == "" || req.watch || !res.serves("patch") {
			notSupported("patch")
			return
		}
		s.servePatch(w, r, req)
	case http.MethodDelete:
		if req.watch || req.sub != "" {
			notSupported("delete")
			return
		}
		if req.name == "" {
			if !res.serves("deletecollection") {
				notSupported("deletecollection")
				return
			}
			s.serveDeleteCollection(w, r, req)
			return
		}
		if !res.serves("delete") {
			notSupported("delete")
			return
		}
		s.serveDelete(w, r, req)
	default:
		notSupported(strings.ToLower(r.Method))
	}
}

// boolParam reports whether query parameter name is "true" or "1".
func boolParam(r *http.Request, name string) bool {
	v := r.URL.Query().Get(name)
	return v == "true" || v == "1"
}
