package apiserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The OpenAPI v3 documents carry, for every resource, one PATCH
// operation with its x-kubernetes-group-version-kind and the
// fieldValidation parameter, which is what kubectl looks for to hand
// validation to the server (fieldValidation=Strict, which typedRoundTrip
// enforces), and the schemas of the kinds in components.schemas, which
// kubectl explain reads (openapi_models.go builds them). The PATCH
// operations have no request body: kubectl then computes its
// strategic merge patches from its built-in Go types, which carry the
// patch strategies the schemas here do not.

// openAPIPathPrefix is where the per-group-version documents live.
const openAPIPathPrefix = "/openapi/v3/"

// serveOpenAPIv3 answers /openapi/v3 (the index) and
// /openapi/v3/api/v1, /openapi/v3/apis/GROUP/VERSION.
func (s *Server) serveOpenAPIv3(w http.ResponseWriter, r *http.Request, path string) {
	if path == "/openapi/v3" {
		paths := map[string]any{}
		for _, gv := range s.groups() {
			rel := gvPath(gv)
			paths[rel] = map[string]string{"serverRelativeURL": openAPIPathPrefix + rel + "?hash=" + s.openAPIHash(gv)}
		}
		writeJSON(w, http.StatusOK, map[string]any{"paths": paths})
		return
	}
	rel := strings.TrimPrefix(path, openAPIPathPrefix)
	for _, gv := range s.groups() {
		if gvPath(gv) == rel {
			doc, err := s.openAPIDoc(gv)
			if err != nil {
				s.fail(w, err)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(doc)
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

// openAPIDocFormat names the way documents are built here; changing how
// they are built changes it, so that clients drop documents they cached
// by hash from an older server with the same Kubernetes version.
const openAPIDocFormat = "pkg-openapi-2"

// openAPIHash fingerprints the document of gv from what it is made of,
// without building it: the server version and each resource's kind,
// name, scope and schema.
func (s *Server) openAPIHash(gv schema.GroupVersion) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", openAPIDocFormat, s.cfg.GitVersion)
	all := s.allResources()
	for i := range all {
		res := &all[i]
		if res.GroupVersion() != gv {
			continue
		}
		sum := ""
		if res.custom != nil {
			sum = res.custom.sum
		}
		fmt.Fprintf(h, "%s %s %t %s\n", res.Kind, res.Resource, res.Namespaced, sum)
	}
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}

// openAPIDoc returns the OpenAPI v3 document of one group version, from
// the cache when it holds the current one.
func (s *Server) openAPIDoc(gv schema.GroupVersion) ([]byte, error) {
	hash := s.openAPIHash(gv)
	s.openapiMu.Lock()
	cached, ok := s.openapiDocs[gv]
	s.openapiMu.Unlock()
	if ok && cached.hash == hash {
		return cached.doc, nil
	}
	doc, err := s.buildOpenAPIDoc(gv)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	s.openapiMu.Lock()
	if s.openapiDocs == nil {
		s.openapiDocs = map[schema.GroupVersion]openAPICached{}
	}
	s.openapiDocs[gv] = openAPICached{hash: hash, doc: data}
	s.openapiMu.Unlock()
	return data, nil
}

// openAPICached is a built document and the hash it was built for.
type openAPICached struct {
	hash string
	doc  []byte
}

// buildOpenAPIDoc builds the OpenAPI v3 document of one group version:
// a PATCH operation per resource and the schemas of its kinds with all
// they refer to.
func (s *Server) buildOpenAPIDoc(gv schema.GroupVersion) (map[string]any, error) {
	if err := s.models.build(s.fields, s.scheme); err != nil {
		return nil, err
	}
	paths := map[string]any{}
	schemas := map[string]any{}
	kinds := map[string]map[string]string{}
	var roots []string
	all := s.allResources()
	for i := range all {
		res := &all[i]
		if res.GroupVersion() != gv {
			continue
		}
		gvk := map[string]string{"group": res.Group, "version": res.Version, "kind": res.Kind}
		p := "/" + gvPath(gv) + "/"
		if res.Namespaced {
			p += "namespaces/{namespace}/"
		}
		p += res.Resource + "/{name}"
		if res.serves("patch") {
			paths[p] = map[string]any{
				"patch": map[string]any{
					"operationId":                     "patch" + res.Kind,
					"x-kubernetes-action":             "patch",
					"x-kubernetes-group-version-kind": gvk,
					"parameters": []any{
						map[string]any{"name": "fieldValidation", "in": "query", "schema": map[string]any{"type": "string", "uniqueItems": true}},
						map[string]any{"name": "fieldManager", "in": "query", "schema": map[string]any{"type": "string", "uniqueItems": true}},
					},
					"responses": map[string]any{"200": map[string]any{"description": "OK"}},
				},
			}
		} else {
			// A kind only created (the access reviews): its collection
			// takes a POST.
			paths[strings.TrimSuffix(p, "/{name}")] = map[string]any{
				"post": map[string]any{
					"operationId":                     "create" + res.Kind,
					"x-kubernetes-action":             "post",
					"x-kubernetes-group-version-kind": gvk,
					"responses":                       map[string]any{"201": map[string]any{"description": "Created"}},
				},
			}
		}
		if cm := customModel(res); cm != nil {
			name := customModelName(res)
			cm["x-kubernetes-group-version-kind"] = []any{gvk}
			schemas[name] = cm
			roots = append(roots, objectMetaModel)
			continue
		}
		if name := kindModel(s.scheme, res.GroupVersionKind()); name != "" && s.models.defs[name] != nil {
			kinds[name] = gvk
			roots = append(roots, name)
		} else if name != "" {
			// A kind the apply schemas leave out (the access reviews,
			// never stored): an object with its metadata, its spec and
			// status open.
			open := map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}
			schemas[name] = map[string]any{
				"type": "object",
				"properties": map[string]any{
					"apiVersion": map[string]any{"type": "string"},
					"kind":       map[string]any{"type": "string"},
					"metadata":   map[string]any{"allOf": []any{map[string]any{"$ref": schemaRef + objectMetaModel}}},
					"spec":       open,
					"status":     open,
				},
				"x-kubernetes-group-version-kind": []any{gvk},
			}
			roots = append(roots, objectMetaModel)
		}
	}
	for _, name := range s.models.closure(roots) {
		m := s.models.model(name)
		if gvk, ok := kinds[name]; ok {
			m["x-kubernetes-group-version-kind"] = []any{gvk}
		}
		schemas[name] = m
	}
	return map[string]any{
		"openapi":    "3.0.0",
		"info":       map[string]any{"title": "Kubernetes", "version": s.cfg.GitVersion},
		"paths":      paths,
		"components": map[string]any{"schemas": schemas},
	}, nil
}
