package apiserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// serveBinding answers POST pods/NAME/binding, as the scheduler binds a
// Pod to a node: it sets spec.nodeName, once (a bound Pod is a 409
// Conflict), and marks the Pod's PodScheduled condition True, as
// kube-apiserver's binding storage does.
func (s *Server) serveBinding(w http.ResponseWriter, r *http.Request, req request) {
	body, err := s.readJSON(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	var b corev1.Binding
	if err := json.Unmarshal(body, &b); err != nil {
		s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("decoding Binding: %v", err)))
		return
	}
	if b.Name != "" && b.Name != req.name {
		s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", b.Name, req.name)))
		return
	}
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		s.fail(w, apierrors.NewInvalid(schema.GroupKind{Kind: "Binding"}, req.name, field.ErrorList{field.NotSupported(field.NewPath("target", "kind"), b.Target.Kind, []string{"Node", "<empty>"})}))
		return
	}
	if b.Target.Name == "" {
		s.fail(w, apierrors.NewInvalid(schema.GroupKind{Kind: "Binding"}, req.name, field.ErrorList{field.Required(field.NewPath("target", "name"), "")}))
		return
	}
	ctx := r.Context()
	pod, _, err := s.getObject(ctx, req.res, req.ns, req.name)
	if err != nil {
		s.fail(w, err)
		return
	}
	if uid := string(b.UID); uid != "" && uid != str(pod, "metadata", "uid") {
		s.fail(w, apierrors.NewConflict(req.res.GroupResource(), req.name, fmt.Errorf("Precondition failed: UID in precondition: %s, UID in object meta: %s", uid, str(pod, "metadata", "uid"))))
		return
	}
	if node := str(pod, "spec", "nodeName"); node != "" {
		s.fail(w, apierrors.NewConflict(req.res.GroupResource(), req.name, fmt.Errorf("pod %s is already assigned to node %q", req.name, node)))
		return
	}
	if str(pod, "metadata", "deletionTimestamp") != "" {
		s.fail(w, apierrors.NewConflict(req.res.GroupResource(), req.name, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", req.name)))
		return
	}
	spec := mapOf(pod, "spec")
	if spec == nil {
		spec = map[string]any{}
		pod["spec"] = spec
	}
	spec["nodeName"] = b.Target.Name
	for k, v := range b.Annotations {
		ann := mapOf(pod, "metadata", "annotations")
		if ann == nil {
			ann = map[string]any{}
			meta(pod)["annotations"] = ann
		}
		ann[k] = v
	}
	breq := req
	breq.sub, breq.fieldsSub = "", "binding"
	bound, err := s.update(ctx, breq, pod)
	if err != nil {
		s.fail(w, err)
		return
	}
	setPodCondition(bound, "PodScheduled", "True", "", "")
	sreq := req
	sreq.sub, sreq.fieldsSub = "status", "binding"
	meta(bound)["resourceVersion"] = ""
	if _, err := s.update(ctx, sreq, bound); err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusSuccess, Code: http.StatusCreated,
	})
}

// setPodCondition sets a condition of a Pod object's status, keeping its
// lastTransitionTime when the status does not change.
func setPodCondition(pod object, typ, status, reason, message string) {
	st := mapOf(pod, "status")
	if st == nil {
		st = map[string]any{}
		pod["status"] = st
	}
	conds, _ := st["conditions"].([]any)
	now := time.Now().UTC().Format(time.RFC3339)
	for _, c := range conds {
		cm, ok := c.(map[string]any)
		if !ok || cm["type"] != typ {
			continue
		}
		if cm["status"] != status {
			cm["lastTransitionTime"] = now
		}
		cm["status"], cm["reason"], cm["message"] = status, reason, message
		clean(cm)
		return
	}
	cm := map[string]any{"type": typ, "status": status, "lastProbeTime": nil, "lastTransitionTime": now, "reason": reason, "message": message}
	clean(cm)
	st["conditions"] = append(conds, cm)
}

func clean(m map[string]any) {
	for _, k := range []string{"reason", "message"} {
		if m[k] == "" {
			delete(m, k)
		}
	}
}
