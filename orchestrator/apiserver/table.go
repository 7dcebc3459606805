package apiserver

import (
	"encoding/json"
	"net/http"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
)

// table builds the meta.k8s.io/v1 Table of objects, with the row objects
// included as includeObject asks: "None", "Object", or "Metadata" (the
// default). The objects are in their stored form, which the cells are
// computed from; the row objects are in res's version (conversion.go).
func (s *Server) table(res *Resource, objs []object, lm metav1.ListMeta, includeObject string, headers bool) (*metav1.Table, error) {
	t := &metav1.Table{
		TypeMeta: metav1.TypeMeta{Kind: "Table", APIVersion: "meta.k8s.io/v1"},
		ListMeta: lm,
		Rows:     []metav1.TableRow{},
	}
	if headers {
		t.ColumnDefinitions = res.Printer.definitions()
	}
	now := s.now()
	for _, o := range objs {
		row := metav1.TableRow{Cells: res.Printer.cells(o, age(o, now), now)}
		var embed any
		if includeObject != "None" {
			wo, err := res.wireForm(o)
			if err != nil {
				return nil, err
			}
			embed = partial(wo)
			if includeObject == "Object" {
				embed = wo
			}
		}
		if embed != nil {
			raw, err := json.Marshal(embed)
			if err != nil {
				return nil, err
			}
			row.Object = runtime.RawExtension{Raw: raw}
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// partial returns the PartialObjectMetadata of o.
func partial(o object) object {
	return object{"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": o["metadata"]}
}

// age formats the time since the object's creation the way kubectl does.
func age(o object, now time.Time) string {
	ts, err := time.Parse(time.RFC3339, str(o, "metadata", "creationTimestamp"))
	if err != nil {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(ts))
}

// writeObjects answers a get or list in the form the client asked for:
// the object or list as JSON, a Table, or partial metadata. The objects
// are in their stored form and res is the version the client addressed,
// which they are converted to (conversion.go).
func (s *Server) writeObjects(w http.ResponseWriter, r *http.Request, res *Resource, single object, items []object, lm metav1.ListMeta) {
	mode := negotiate(r.Header.Get("Accept"), true, false)
	if mode == mediaPartial || mode == mediaJSON {
		var err error
		if single, err = res.wireForm(single); err == nil {
			items, err = res.wireForms(items)
		}
		if err != nil {
			s.fail(w, err)
			return
		}
	}
	switch mode {
	case mediaTable:
		objs := items
		if single != nil {
			objs = []object{single}
		}
		t, err := s.table(res, objs, lm, r.URL.Query().Get("includeObject"), true)
		if err != nil {
			s.fail(w, err)
			return
		}
		writeBody(w, http.StatusOK, contentTypeTable, t)
	case mediaPartial:
		if single != nil {
			writeJSON(w, http.StatusOK, partial(single))
			return
		}
		parts := make([]object, 0, len(items))
		for _, o := range items {
			parts = append(parts, partial(o))
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"apiVersion": "meta.k8s.io/v1",
			"kind":       "PartialObjectMetadataList",
			"metadata":   lm,
			"items":      parts,
		})
	case mediaJSON:
		if single != nil {
			writeJSON(w, http.StatusOK, single)
			return
		}
		if items == nil {
			items = []object{}
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"apiVersion": res.APIVersion(),
			"kind":       res.Kind + "List",
			"metadata":   lm,
			"items":      items,
		})
	default:
		s.fail(w, errNotAcceptable())
	}
}
