package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// patchRetries is how many times a patch is reapplied when the object
// changes between reading and writing it.
const patchRetries = 5

// servePatch answers PATCH of an object or of its status.
func (s *Server) servePatch(w http.ResponseWriter, r *http.Request, req request) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		s.fail(w, errUnsupportedMedia(ct))
		return
	}
	pt := types.PatchType(mt)
	switch pt {
	case types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType, types.ApplyYAMLPatchType:
	default:
		s.fail(w, errUnsupportedPatch(mt))
		return
	}
	if err := validatePatchOptions(r, pt); err != nil {
		s.fail(w, err)
		return
	}
	body, err := s.readBody(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	var out any
	switch {
	case pt == types.ApplyYAMLPatchType && req.sub == "scale":
		out, err = s.applyScale(r.Context(), req, body, boolParam(r, "force"))
	case pt == types.ApplyYAMLPatchType:
		var (
			warnings []string
			created  bool
		)
		out, created, warnings, err = s.apply(r.Context(), req, body, boolParam(r, "force"), r.URL.Query().Get("fieldValidation"))
		addWarnings(w, warnings)
		if err == nil && created {
			writeJSON(w, http.StatusCreated, out)
			return
		}
	case req.sub == "scale":
		out, err = s.patchScale(r.Context(), req, pt, body)
	default:
		var warnings []string
		out, warnings, err = s.patch(r.Context(), req, pt, body, r.URL.Query().Get("fieldValidation"))
		addWarnings(w, warnings)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// errUnsupportedPatch is the 415 answer to a patch type the server does
// not apply.
func errUnsupportedPatch(mt string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusUnsupportedMediaType,
		Reason:  metav1.StatusReasonUnsupportedMediaType,
		Message: fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got %q)", mt),
	}}
}

// patch applies a patch to the current object and stores the result as an
// update, retrying when someone else wrote in between. The patch applies
// to the object in the version the client addressed, and the result is
// in that version too (conversion.go).
func (s *Server) patch(ctx context.Context, req request, pt types.PatchType, body []byte, validation string) (object, []string, error) {
	wire := req.wire()
	for attempt := 0; ; attempt++ {
		cur, _, err := s.getObject(ctx, req.res, req.ns, req.name)
		if err != nil {
			return nil, nil, err
		}
		wcur, err := wire.wireForm(cur)
		if err != nil {
			return nil, nil, err
		}
		curJSON, err := json.Marshal(wcur)
		if err != nil {
			return nil, nil, err
		}
		patched, err := applyPatch(s.scheme, wire, pt, curJSON, body)
		if err != nil {
			return nil, nil, err
		}
		in, err := decodeBody(wire, patched)
		if err != nil {
			return nil, nil, err
		}
		in, warnings, err := typedRoundTrip(s.scheme, wire, in, validation)
		if err != nil {
			return nil, nil, err
		}
		if in, err = wire.storedForm(in); err != nil {
			return nil, nil, err
		}
		out, err := s.update(ctx, req, in)
		if isReason(err, metav1.StatusReasonConflict) && attempt < patchRetries &&
			str(in, "metadata", "resourceVersion") == str(cur, "metadata", "resourceVersion") && !patchSetsRV(pt, body) {
			continue
		}
		if err != nil {
			return nil, warnings, err
		}
		out, err = wire.wireForm(out)
		return out, warnings, err
	}
}

// patchSetsRV reports whether a patch names a resourceVersion, making it a
// precondition that must not be retried past.
func patchSetsRV(pt types.PatchType, body []byte) bool {
	if pt == types.JSONPatchType {
		return false
	}
	var p struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	return json.Unmarshal(body, &p) == nil && p.Metadata.ResourceVersion != ""
}

// applyPatch applies one patch document to the JSON of an object of res.
// Strategic merge patches need the kind's Go type, from the server's scheme.
func applyPatch(sch *runtime.Scheme, res *Resource, pt types.PatchType, cur, body []byte) ([]byte, error) {
	var typed any
	if pt == types.StrategicMergePatchType {
		obj, err := sch.New(res.GroupVersionKind())
		if err != nil {
			return nil, errUnsupportedPatch(string(pt))
		}
		typed = obj
	}
	return applyPatchTyped(pt, cur, body, typed)
}

// applyPatchTyped applies one patch document to the JSON of an object
// whose Go type, needed by strategic merge patches, is typed.
func applyPatchTyped(pt types.PatchType, cur, body []byte, typed any) ([]byte, error) {
	switch pt {
	case types.JSONPatchType:
		p, err := jsonpatch.DecodePatch(body)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("decoding JSON patch: %v", err))
		}
		out, err := applyJSONPatch(p, cur)
		if err != nil {
			return nil, &apierrors.StatusError{ErrStatus: metav1.Status{
				Status:  metav1.StatusFailure,
				Code:    http.StatusUnprocessableEntity,
				Reason:  metav1.StatusReasonInvalid,
				Message: fmt.Sprintf("the server rejected our request due to an error in our request: %v", err),
			}}
		}
		return out, nil
	case types.MergePatchType:
		out, err := jsonpatch.MergePatch(cur, body)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("applying merge patch: %v", err))
		}
		return out, nil
	default:
		out, err := strategicpatch.StrategicMergePatch(cur, body, typed)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("applying strategic merge patch: %v", err))
		}
		return out, nil
	}
}
