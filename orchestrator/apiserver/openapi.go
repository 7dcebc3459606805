package apiserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The OpenAPI v3 documents served so far are skeletons: one PATCH
// operation per resource carrying its x-kubernetes-group-version-kind and
// the fieldValidation parameter, and no schemas. That is what kubectl
// looks for to hand validation to the server (fieldValidation=Strict,
// which typedRoundTrip enforces); with no strategic-merge-patch request
// body it computes apply patches from its built-in types. kubectl explain
// needs the schemas and does not work yet.

// openAPIPathPrefix is where the per-group-version documents live.
const openAPIPathPrefix = "/openapi/v3/"

// serveOpenAPIv3 answers /openapi/v3 (the index) and
// /openapi/v3/api/v1, /openapi/v3/apis/GROUP/VERSION.
func (s *Server) serveOpenAPIv3(w http.ResponseWriter, r *http.Request, path string) {
	if path == "/openapi/v3" {
		paths := map[string]any{}
		for _, gv := range s.groups() {
			doc, err := json.Marshal(s.openAPIDoc(gv))
			if err != nil {
				s.fail(w, err)
				return
			}
			sum := sha256.Sum256(doc)
			rel := gvPath(gv)
			paths[rel] = map[string]string{"serverRelativeURL": openAPIPathPrefix + rel + "?hash=" + strings.ToUpper(hex.EncodeToString(sum[:]))}
		}
		writeJSON(w, http.StatusOK, map[string]any{"paths": paths})
		return
	}
	rel := strings.TrimPrefix(path, openAPIPathPrefix)
	for _, gv := range s.groups() {
		if gvPath(gv) == rel {
			writeJSON(w, http.StatusOK, s.openAPIDoc(gv))
			return
		}
	}
	s.fail(w, errPathNotFound())
}

// gvPath returns "api/v1" or "apis/GROUP/VERSION".
func gvPath(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "api/" + gv.Version
	}
	return "apis/" + gv.Group + "/" + gv.Version
}

// openAPIDoc builds the skeleton OpenAPI v3 document of one group version.
func (s *Server) openAPIDoc(gv schema.GroupVersion) map[string]any {
	paths := map[string]any{}
	all := s.allResources()
	for i := range all {
		res := &all[i]
		if res.GroupVersion() != gv {
			continue
		}
		p := "/" + gvPath(gv) + "/"
		if res.Namespaced {
			p += "namespaces/{namespace}/"
		}
		p += res.Resource + "/{name}"
		paths[p] = map[string]any{
			"patch": map[string]any{
				"operationId":                     "patch" + res.Kind,
				"x-kubernetes-action":             "patch",
				"x-kubernetes-group-version-kind": map[string]string{"group": res.Group, "version": res.Version, "kind": res.Kind},
				"parameters": []any{
					map[string]any{"name": "fieldValidation", "in": "query", "schema": map[string]any{"type": "string", "uniqueItems": true}},
					map[string]any{"name": "fieldManager", "in": "query", "schema": map[string]any{"type": "string", "uniqueItems": true}},
				},
				"responses": map[string]any{"200": map[string]any{"description": "OK"}},
			},
		}
	}
	return map[string]any{
		"openapi": "3.0.0",
		"info":    map[string]any{"title": "Kubernetes", "version": s.cfg.GitVersion},
		"paths":   paths,
	}
}
