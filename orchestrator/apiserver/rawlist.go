package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"k8s.io/apimachinery/pkg/labels"

	"pkg.dev/pkg/orchestrator/store"
)

// selectsAll says the selector keeps every object, so a list need not
// decode them to filter.
func (sel *selector) selectsAll() bool {
	return sel == nil || (sel.name == "" && (sel.labels == nil || sel.labels.Empty()) && (sel.fields == nil || sel.fields.Empty()))
}

// labelsOnly says the selector filters by labels at most: a raw list can
// apply it reading each object's metadata alone.
func (sel *selector) labelsOnly() bool {
	return sel == nil || (sel.name == "" && (sel.fields == nil || sel.fields.Empty()))
}

// serveRawList answers a plain JSON list without a selector, or with
// labels only (below), from the stored bytes, stamping each object's resourceVersion in place rather
// than decoding and re-encoding it: listing thousands of objects is then
// bound by copying. It reports false, having written nothing, when the
// request needs the general path (an error from the store, whose mapping
// that path owns).
//
// lsel, when not empty, keeps only the objects whose labels it matches,
// read from each object's metadata without decoding the rest (the
// release history Helm lists by label, every record a chart's worth of
// base64). It is taken only for a whole list (no limit, no continue): a
// page of a filtered list counts matching objects, which the general path
// does.
func (s *Server) serveRawList(ctx context.Context, w http.ResponseWriter, res *Resource, ns string, lsel labels.Selector, limit int64, cont string) bool {
	if res.otherVersions {
		// The stored apiVersion may not be the one asked for.
		return false
	}
	filter := lsel != nil && !lsel.Empty()
	if filter && (limit > 0 || cont != "") {
		return false
	}
	got, err := s.cfg.Store.List(ctx, res.keyPrefix(ns), store.ListOptions{Limit: limit, Continue: cont})
	if err != nil {
		return false
	}
	lm, err := json.Marshal(listMeta(got.Rev, got.Continue, got.Remaining, !filter))
	if err != nil {
		return false
	}
	size := 128
	for _, kv := range got.Items {
		size += len(kv.Value) + 48
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	buf.WriteString(`{"apiVersion":`)
	writeJSONString(buf, res.APIVersion())
	buf.WriteString(`,"items":[`)
	first := true
	for _, kv := range got.Items {
		if filter {
			lbs, ok := rawLabels(kv.Value)
			if !ok {
				o, err := fromKV(kv)
				if err != nil {
					s.fail(w, err)
					return true
				}
				lbs = stringMap(o, "metadata", "labels")
			}
			if !lsel.Matches(labels.Set(lbs)) {
				continue
			}
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		if !appendStamped(buf, kv.Value, kv.ModRev) {
			// Not the shape the store writes: take the slow, sure way.
			o, err := fromKV(kv)
			if err != nil {
				s.fail(w, err)
				return true
			}
			data, err := json.Marshal(o)
			if err != nil {
				s.fail(w, err)
				return true
			}
			buf.Write(data)
		}
	}
	buf.WriteString(`],"kind":`)
	writeJSONString(buf, res.Kind+"List")
	buf.WriteString(`,"metadata":`)
	buf.Write(lm)
	buf.WriteString("}\n")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return true
}

// rawLabels reads the labels of the stored object raw from its metadata
// alone; false when raw is not a JSON object with a metadata object.
func rawLabels(raw []byte) (map[string]string, bool) {
	open := metadataOpen(raw)
	if open < 0 {
		return nil, false
	}
	end := objectEnd(raw, open)
	if end < 0 {
		return nil, false
	}
	var md struct {
		Labels map[string]string `json:"labels"`
	}
	if err := json.Unmarshal(raw[open:end+1], &md); err != nil {
		return nil, false
	}
	return md.Labels, true
}

// objectEnd returns the index of the '}' closing the JSON object that
// opens at raw[open], or -1.
func objectEnd(raw []byte, open int) int {
	depth := 0
	for i := open; i < len(raw); i++ {
		switch raw[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i
			}
		case '"':
			end := stringEnd(raw, i)
			if end < 0 {
				return -1
			}
			i = end
		}
	}
	return -1
}

// writeJSONString writes s as a JSON string.
func writeJSONString(buf *bytes.Buffer, s string) {
	data, _ := json.Marshal(s)
	buf.Write(data)
}

// appendStamped appends the stored object raw with
// "resourceVersion":"rev" as the first member of its top-level metadata
// object. It reports false, having appended nothing, when raw is not a
// JSON object with a metadata object.
func appendStamped(buf *bytes.Buffer, raw []byte, rev int64) bool {
	at := metadataOpen(raw)
	if at < 0 {
		return false
	}
	buf.Write(raw[:at+1])
	buf.WriteString(`"resourceVersion":"`)
	buf.WriteString(strconv.FormatInt(rev, 10))
	buf.WriteByte('"')
	if next := skipSpace(raw, at+1); next < len(raw) && raw[next] != '}' {
		buf.WriteByte(',')
	}
	buf.Write(raw[at+1:])
	return true
}

// metadataOpen returns the index of the '{' opening the value of the
// top-level "metadata" member of the JSON object raw, or -1. It scans
// strings and nesting only; the store holds valid JSON.
func metadataOpen(raw []byte) int {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return -1
	}
	depth := 0
	for ; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return -1
			}
		case '"':
			end := stringEnd(raw, i)
			if end < 0 {
				return -1
			}
			if depth == 1 && string(raw[i:end+1]) == `"metadata"` {
				j := skipSpace(raw, end+1)
				if j < len(raw) && raw[j] == ':' {
					j = skipSpace(raw, j+1)
					if j < len(raw) && raw[j] == '{' {
						return j
					}
					return -1
				}
			}
			i = end
		}
	}
	return -1
}

// stringEnd returns the index of the quote closing the JSON string that
// opens at raw[start], or -1.
func stringEnd(raw []byte, start int) int {
	for i := start + 1; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// skipSpace returns the index of the first non-space byte at or after i.
func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}
