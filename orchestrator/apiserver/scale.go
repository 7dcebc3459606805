package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// scaleOf builds the autoscaling/v1 Scale of a workload.
func scaleOf(o object) autoscalingv1.Scale {
	sel := &metav1.LabelSelector{MatchLabels: stringMap(o, "spec", "selector", "matchLabels")}
	selector := ""
	if s, err := metav1.LabelSelectorAsSelector(sel); err == nil {
		selector = s.String()
	}
	return autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
		ObjectMeta: metav1.ObjectMeta{
			Name:            str(o, "metadata", "name"),
			Namespace:       str(o, "metadata", "namespace"),
			UID:             types.UID(str(o, "metadata", "uid")),
			ResourceVersion: str(o, "metadata", "resourceVersion"),
		},
		Spec:   autoscalingv1.ScaleSpec{Replicas: int32(replicas(o))},
		Status: autoscalingv1.ScaleStatus{Replicas: int32(num(o, "status", "replicas")), Selector: selector},
	}
}

// serveGetScale answers GET of the scale subresource.
func (s *Server) serveGetScale(w http.ResponseWriter, r *http.Request, req request) {
	o, _, err := s.getObject(r.Context(), req.res, req.ns, req.name)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, scaleView(req.res, o))
}

// serveUpdateScale answers PUT of the scale subresource: it sets
// spec.replicas, with the Scale's resourceVersion as precondition.
func (s *Server) serveUpdateScale(w http.ResponseWriter, r *http.Request, req request) {
	body, err := s.readJSON(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	var sc autoscalingv1.Scale
	if err := json.Unmarshal(body, &sc); err != nil {
		s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("decoding Scale: %v", err)))
		return
	}
	out, err := s.setScale(r.Context(), req, sc)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, scaleView(req.res, out))
}

// patchScale answers PATCH of the scale subresource, as kubectl scale
// sends: the patch applies to the Scale, whose replicas are then set.
func (s *Server) patchScale(ctx context.Context, req request, pt types.PatchType, body []byte) (any, error) {
	o, _, err := s.getObject(ctx, req.res, req.ns, req.name)
	if err != nil {
		return nil, err
	}
	cur, err := json.Marshal(scaleOf(o))
	if err != nil {
		return nil, err
	}
	patched, err := applyPatchTyped(pt, cur, body, &autoscalingv1.Scale{})
	if err != nil {
		return nil, err
	}
	var sc autoscalingv1.Scale
	if err := json.Unmarshal(patched, &sc); err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("decoding patched Scale: %v", err))
	}
	out, err := s.setScale(ctx, req, sc)
	if err != nil {
		return nil, err
	}
	return scaleView(req.res, out), nil
}

// setScale stores sc.Spec.Replicas as the workload's spec.replicas, with
// the Scale's resourceVersion as precondition.
func (s *Server) setScale(ctx context.Context, req request, sc autoscalingv1.Scale) (object, error) {
	o, _, err := s.getObject(ctx, req.res, req.ns, req.name)
	if err != nil {
		return nil, err
	}
	if rv := sc.ResourceVersion; rv != "" && rv != str(o, "metadata", "resourceVersion") {
		return nil, errConflict(req.res, req.name)
	}
	spec, _ := o["spec"].(map[string]any)
	if spec == nil {
		spec = map[string]any{}
		o["spec"] = spec
	}
	spec["replicas"] = sc.Spec.Replicas
	req.sub, req.fieldsSub = "", "scale"
	return s.update(ctx, req, o)
}
