package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// validatePatchOptions checks the fieldManager and force parameters of a
// patch as kube-apiserver does: apply needs a field manager, and only
// apply may force.
func validatePatchOptions(r *http.Request, pt types.PatchType) error {
	q := r.URL.Query()
	opts := &metav1.PatchOptions{FieldManager: q.Get("fieldManager")}
	if v, ok := q["force"]; ok && len(v) > 0 {
		force := v[0] == "true" || v[0] == "1"
		opts.Force = &force
	}
	errs := metav1validation.ValidatePatchOptions(opts, pt)
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: "PatchOptions"}, "", errs)
}

// validateFieldManager checks the fieldManager parameter of a create or
// an update: at most 128 printable characters, or the 422 kube-apiserver
// answers about its CreateOptions or UpdateOptions.
func validateFieldManager(r *http.Request) error {
	errs := metav1validation.ValidateFieldManager(r.URL.Query().Get("fieldManager"), field.NewPath("fieldManager"))
	if len(errs) == 0 {
		return nil
	}
	kind := "CreateOptions"
	if r.Method == http.MethodPut {
		kind = "UpdateOptions"
	}
	return apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: kind}, "", errs)
}

// apply serves a server-side apply patch (application/apply-patch+yaml):
// the patch is merged into the current object, or makes a new one, by
// structured-merge-diff, which records the fields the manager owns and
// refuses, unless forced, to change fields another manager owns. It
// returns the stored object and whether it was created.
func (s *Server) apply(ctx context.Context, req request, body []byte, force bool, validation string) (object, bool, []string, error) {
	data, err := yaml.YAMLToJSON(body)
	if err != nil {
		return nil, false, nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding patch: %v", err))
	}
	patch := map[string]any{}
	if err := utiljson.Unmarshal(data, &patch); err != nil || patch == nil {
		if err == nil {
			err = errors.New("the patch is not an object")
		}
		return nil, false, nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding patch: %v", err))
	}
	// The patch is merged into the object in the version the client
	// addressed, wire, and the result converted back to the stored
	// version res (conversion.go).
	res, wire := req.res, req.wire()
	sub := req.sub
	fm, err := s.fields.get(wire, sub)
	if err != nil {
		return nil, false, nil, err
	}
	for attempt := 0; ; attempt++ {
		cur, _, err := s.getObject(ctx, res, req.ns, req.name)
		exists := err == nil
		if err != nil && (!apierrors.IsNotFound(err) || sub != "") {
			return nil, false, nil, err
		}
		var live *unstructured.Unstructured
		if exists {
			wcur, err := wire.wireForm(cur)
			if err != nil {
				return nil, false, nil, err
			}
			if live, err = toUnstructured(wcur); err != nil {
				return nil, false, nil, err
			}
		} else {
			live = &unstructured.Unstructured{Object: map[string]any{}}
			live.SetGroupVersionKind(wire.GroupVersionKind())
		}
		merged, err := fm.Apply(live, &unstructured.Unstructured{Object: deepCopyJSON(patch)}, req.manager, force)
		if err != nil {
			var status apierrors.APIStatus
			if errors.As(err, &status) {
				return nil, false, nil, err
			}
			// Such as a field the schema does not declare: kube-apiserver
			// answers these with a 500 of no reason and the bare message,
			// which kubectl prints after "Error from server:".
			return nil, false, nil, &apierrors.StatusError{ErrStatus: metav1.Status{
				Status:  metav1.StatusFailure,
				Code:    http.StatusInternalServerError,
				Reason:  metav1.StatusReasonUnknown,
				Message: err.Error(),
			}}
		}
		next, err := fromUnstructured(merged)
		if err != nil {
			return nil, false, nil, err
		}
		if err := checkKind(wire, next); err != nil {
			return nil, false, nil, err
		}
		next, warnings, err := typedRoundTrip(s.scheme, wire, next, validation)
		if err != nil {
			return nil, false, nil, err
		}
		if next, err = wire.storedForm(next); err != nil {
			return nil, false, nil, err
		}
		if !exists {
			m := meta(next)
			if name := str(m, "name"); name != "" && name != req.name {
				return nil, false, nil, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", name, req.name))
			}
			if uid := str(m, "uid"); uid != "" {
				return nil, false, nil, apierrors.NewConflict(res.GroupResource(), req.name, fmt.Errorf("uid mismatch: the provided object specified uid %s, and no existing object was found", uid))
			}
			m["name"] = req.name
			delete(m, "generateName")
			created := req
			created.manager = ""
			out, err := s.createAs(ctx, created, next)
			if apierrors.IsAlreadyExists(err) && attempt < patchRetries {
				continue
			}
			if err != nil {
				return nil, false, warnings, err
			}
			out, err = wire.wireForm(out)
			return out, err == nil, warnings, err
		}
		applied := req
		applied.applied = true
		if str(patch, "metadata", "resourceVersion") == "" {
			meta(next)["resourceVersion"] = str(cur, "metadata", "resourceVersion")
		}
		out, err := s.update(ctx, applied, next)
		if (isReason(err, metav1.StatusReasonConflict) || apierrors.IsNotFound(err)) && attempt < patchRetries &&
			str(patch, "metadata", "resourceVersion") == "" {
			continue
		}
		if err != nil {
			return nil, false, warnings, err
		}
		out, err = wire.wireForm(out)
		return out, false, warnings, err
	}
}

// deepCopyJSON copies a JSON-shaped value of maps, lists and scalars.
func deepCopyJSON(m map[string]any) map[string]any {
	return unstructuredCopy(m).(map[string]any)
}

// unstructuredCopy copies one JSON-shaped value.
func unstructuredCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = unstructuredCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = unstructuredCopy(e)
		}
		return out
	}
	return v
}
