package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/yaml"
)

// scaleResource is the autoscaling/v1 Scale, as the field manager of the
// scale subresource types it.
func scaleResource() *Resource {
	return &Resource{Group: "autoscaling", Version: "v1", Kind: "Scale", Resource: "scale"}
}

// scaleHandler maps managedFields between a workload, whose replicas are
// at spec.replicas, and its Scale, as kube-apiserver maps them.
func scaleHandler(res *Resource, o object) (*managedfields.ScaleHandler, error) {
	var entries []metav1.ManagedFieldsEntry
	if mf, ok := get(o, "metadata", "managedFields").([]any); ok {
		data, err := json.Marshal(mf)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, &entries); err != nil {
			return nil, fmt.Errorf("reading the managedFields of %s %s: %w", res.Kind, str(o, "metadata", "name"), err)
		}
	}
	return managedfields.NewScaleHandler(entries, res.GroupVersion(), managedfields.ResourcePathMappings{
		res.APIVersion(): fieldpath.MakePathOrDie("spec", "replicas"),
	}), nil
}

// scaleView is the Scale of workload o with the managedFields that
// concern its replicas, as GET of the scale subresource shows them.
func scaleView(res *Resource, o object) autoscalingv1.Scale {
	sc := scaleOf(o)
	if h, err := scaleHandler(res, o); err == nil {
		if entries, err := h.ToSubresource(); err == nil && len(entries) > 0 {
			sc.ManagedFields = entries
		}
	}
	return sc
}

// applyScale serves a server-side apply of the scale subresource: the
// patch is a Scale, merged into the workload's Scale with the field
// ownership of its replicas, and the result's replicas and ownership go
// back to the workload. The workload must exist.
func (s *Server) applyScale(ctx context.Context, req request, body []byte, force bool) (any, error) {
	data, err := yaml.YAMLToJSON(body)
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding patch: %v", err))
	}
	patch := map[string]any{}
	if err := utiljson.Unmarshal(data, &patch); err != nil || patch == nil {
		if err == nil {
			err = errors.New("the patch is not an object")
		}
		return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding patch: %v", err))
	}
	fm, err := s.fields.get(scaleResource(), "scale")
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		o, _, err := s.getObject(ctx, req.res, req.ns, req.name)
		if err != nil {
			return nil, err
		}
		h, err := scaleHandler(req.res, o)
		if err != nil {
			return nil, err
		}
		cur := scaleOf(o)
		if cur.ManagedFields, err = h.ToSubresource(); err != nil {
			return nil, err
		}
		curJSON, err := json.Marshal(cur)
		if err != nil {
			return nil, err
		}
		live := &unstructured.Unstructured{}
		if err := utiljson.Unmarshal(curJSON, &live.Object); err != nil {
			return nil, err
		}
		merged, err := fm.Apply(live, &unstructured.Unstructured{Object: deepCopyJSON(patch)}, req.manager, force)
		if err != nil {
			var status apierrors.APIStatus
			if errors.As(err, &status) {
				return nil, err
			}
			return nil, &apierrors.StatusError{ErrStatus: metav1.Status{
				Status: metav1.StatusFailure, Code: http.StatusInternalServerError, Reason: metav1.StatusReasonUnknown, Message: err.Error(),
			}}
		}
		mergedJSON, err := json.Marshal(merged)
		if err != nil {
			return nil, err
		}
		var next autoscalingv1.Scale
		if err := json.Unmarshal(mergedJSON, &next); err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("decoding the applied Scale: %v", err))
		}
		if rv := next.ResourceVersion; rv != "" && rv != str(o, "metadata", "resourceVersion") {
			return nil, errConflict(req.res, req.name)
		}
		entries, err := h.ToParent(next.ManagedFields)
		if err != nil {
			return nil, err
		}
		spec, _ := o["spec"].(map[string]any)
		if spec == nil {
			spec = map[string]any{}
			o["spec"] = spec
		}
		spec["replicas"] = next.Spec.Replicas
		mf, err := toJSONValue(entries)
		if err != nil {
			return nil, err
		}
		meta(o)["managedFields"] = mf
		upd := req
		upd.sub, upd.applied = "", true
		out, err := s.update(ctx, upd, o)
		if isReason(err, metav1.StatusReasonConflict) && attempt < patchRetries && patchRV(patch) == "" {
			continue
		}
		if err != nil {
			return nil, err
		}
		return scaleView(req.res, out), nil
	}
}

// patchRV returns the resourceVersion an apply patch names, "" when none.
func patchRV(patch map[string]any) string {
	return str(patch, "metadata", "resourceVersion")
}

// toJSONValue converts v to plain JSON values (maps, lists, scalars).
func toJSONValue(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}
