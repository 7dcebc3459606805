package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Eviction messages, as kube-apiserver words them.
const (
	evictionViolatesBudget = "Cannot evict pod as it would violate the pod's disruption budget."
	evictionManyBudgets    = "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
	// maxDisruptedPods bounds a budget's disruptedPods, as Kubernetes'
	// MaxDisruptedPodSize: more evictions than the disruption controller
	// has confirmed are refused.
	maxDisruptedPods = 2000
	// evictionRetries is how often an eviction retries on a conflict.
	evictionRetries = 5
)

// serveEviction answers POST pods/NAME/eviction (policy/v1 or v1beta1
// Eviction), as kube-apiserver's eviction storage does: a Pod that is
// already being deleted, finished or Pending is deleted at once; any
// other is deleted only when the one PodDisruptionBudget selecting it
// (if any) allows a disruption, which is taken from the budget's
// disruptionsAllowed and recorded in its disruptedPods before the Pod is
// deleted. A refusal is a 429 TooManyRequests, which kubectl drain
// retries.
func (s *Server) serveEviction(w http.ResponseWriter, r *http.Request, req request) {
	body, err := s.readJSON(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	var ev policyv1.Eviction
	if err := json.Unmarshal(body, &ev); err != nil {
		s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("decoding Eviction: %v", err)))
		return
	}
	switch ev.APIVersion {
	case "", "policy/v1", "policy/v1beta1":
	default:
		s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("unsupported apiVersion %q for an Eviction: policy/v1 or policy/v1beta1 expected", ev.APIVersion)))
		return
	}
	if ev.Kind != "" && ev.Kind != "Eviction" {
		s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("kind %q is not an Eviction", ev.Kind)))
		return
	}
	if ev.Name != req.name {
		s.fail(w, apierrors.NewBadRequest("name in URL does not match name in Eviction object"))
		return
	}
	if ev.Namespace != "" && ev.Namespace != req.ns {
		s.fail(w, apierrors.NewBadRequest("namespace in URL does not match namespace in Eviction object"))
		return
	}
	opts := metav1.DeleteOptions{}
	if ev.DeleteOptions != nil {
		opts = *ev.DeleteOptions.DeepCopy()
	}
	for _, v := range opts.DryRun {
		if v != metav1.DryRunAll {
			s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("unsupported dryRun value %q: only All is supported", v)))
			return
		}
		req.dryRun = true
	}
	if req.dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	status, err := s.evict(r.Context(), req, &opts)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, int(status.Code), status)
}

// evict carries out an eviction and returns the Status to answer.
func (s *Server) evict(ctx context.Context, req request, opts *metav1.DeleteOptions) (*metav1.Status, error) {
	userRV := opts.Preconditions != nil && opts.Preconditions.ResourceVersion != nil
	var pod object
	for try := 0; ; try++ {
		p, _, err := s.getObject(ctx, req.res, req.ns, req.name)
		if err != nil {
			return nil, err
		}
		pod = p
		if !evictableWithoutBudget(pod) {
			break
		}
		// As kube-apiserver, a Pod not yet finished is deleted only in
		// the state read, lest it became Running (and covered by a
		// budget) meanwhile.
		o := opts
		if !userRV && !podTerminal(pod) {
			o = opts.DeepCopy()
			setPreconditionRV(o, str(pod, "metadata", "resourceVersion"))
		}
		err = s.evictDelete(ctx, req, pod, o)
		if err == nil {
			return evictedStatus(), nil
		}
		if !apierrors.IsConflict(err) || userRV || try >= evictionRetries {
			return nil, err
		}
	}

	pdbs, err := s.podBudgets(ctx, req.ns, pod)
	if err != nil {
		return nil, err
	}
	if len(pdbs) > 1 {
		return &metav1.Status{
			TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
			Status:   metav1.StatusFailure, Message: evictionManyBudgets, Code: http.StatusInternalServerError,
		}, nil
	}
	o := opts
	if len(pdbs) == 1 {
		pdb := pdbs[0]
		unhealthyOK := false
		if !podIsReady(pod) {
			// An unready Pod does not count as healthy: its eviction
			// takes nothing from the budget when the policy allows it
			// always or the budget has the healthy Pods it needs.
			if p := pdb.Spec.UnhealthyPodEvictionPolicy; p != nil && *p == policyv1.AlwaysAllow {
				unhealthyOK = true
			} else if pdb.Status.CurrentHealthy >= pdb.Status.DesiredHealthy && pdb.Status.DesiredHealthy > 0 {
				unhealthyOK = true
			}
		}
		if unhealthyOK {
			if !userRV {
				o = opts.DeepCopy()
				setPreconditionRV(o, str(pod, "metadata", "resourceVersion"))
			}
		} else if err := s.takeDisruption(ctx, req, pdb.Name, req.name); err != nil {
			return nil, err
		}
		if err := s.evictDelete(ctx, req, pod, o); err != nil {
			if unhealthyOK && !userRV && apierrors.IsConflict(err) {
				return nil, budgetPendingError(pdb.Name)
			}
			return nil, err
		}
		return evictedStatus(), nil
	}
	if err := s.evictDelete(ctx, req, pod, o); err != nil {
		return nil, err
	}
	return evictedStatus(), nil
}

// evictedStatus is the answer to a successful eviction.
func evictedStatus() *metav1.Status {
	return &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusSuccess, Code: http.StatusCreated,
	}
}

// evictableWithoutBudget reports whether a Pod may be evicted without
// consulting its budgets: it is being deleted, finished or Pending.
func evictableWithoutBudget(pod object) bool {
	if deleting(pod) || podTerminal(pod) {
		return true
	}
	return str(pod, "status", "phase") == string(corev1.PodPending)
}

func podTerminal(pod object) bool {
	switch str(pod, "status", "phase") {
	case string(corev1.PodSucceeded), string(corev1.PodFailed):
		return true
	}
	return false
}

// podIsReady reports whether a Pod's Ready condition is True.
func podIsReady(pod object) bool {
	for _, c := range slice(pod, "status", "conditions") {
		if str(c, "type") == string(corev1.PodReady) {
			return str(c, "status") == string(corev1.ConditionTrue)
		}
	}
	return false
}

func setPreconditionRV(o *metav1.DeleteOptions, rv string) {
	if o.Preconditions == nil {
		o.Preconditions = &metav1.Preconditions{}
	}
	o.Preconditions.ResourceVersion = &rv
}

// evictDelete marks the Pod with the DisruptionTarget condition, as
// kube-apiserver does, and deletes it with opts.
func (s *Server) evictDelete(ctx context.Context, req request, pod object, opts *metav1.DeleteOptions) error {
	dryRun := req.dryRun || len(opts.DryRun) > 0
	if !dryRun {
		if pre := opts.Preconditions; pre != nil {
			if pre.UID != nil && *pre.UID != "" && string(*pre.UID) != str(pod, "metadata", "uid") {
				return apierrors.NewConflict(req.res.GroupResource(), req.name,
					fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *pre.UID, str(pod, "metadata", "uid")))
			}
			if pre.ResourceVersion != nil && *pre.ResourceVersion != "" && *pre.ResourceVersion != str(pod, "metadata", "resourceVersion") {
				return apierrors.NewConflict(req.res.GroupResource(), req.name,
					fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in meta: %v", *pre.ResourceVersion, str(pod, "metadata", "resourceVersion")))
			}
		}
		next := deepCopy(pod)
		setPodCondition(next, "DisruptionTarget", "True", "EvictionByEvictionAPI", "Eviction API: evicting")
		sreq := req
		sreq.sub, sreq.fieldsSub, sreq.manager = "status", "", ""
		updated, err := s.update(ctx, sreq, next)
		if err != nil {
			return err
		}
		if opts.Preconditions != nil && opts.Preconditions.ResourceVersion != nil {
			opts = opts.DeepCopy()
			rv := str(updated, "metadata", "resourceVersion")
			opts.Preconditions.ResourceVersion = &rv
		}
	}
	_, err := s.delete(ctx, req.res, req.ns, req.name, opts, dryRun)
	return err
}

// podBudgets returns the PodDisruptionBudgets of namespace ns whose
// selector selects the Pod; an empty or invalid selector selects
// nothing.
func (s *Server) podBudgets(ctx context.Context, ns string, pod object) ([]policyv1.PodDisruptionBudget, error) {
	res := s.byGV["policy/v1"]["poddisruptionbudgets"]
	if res == nil {
		return nil, nil
	}
	page, err := s.list(ctx, res, ns, nil, 0, "")
	if err != nil {
		return nil, err
	}
	podLabels := stringMap(pod, "metadata", "labels")
	var out []policyv1.PodDisruptionBudget
	for _, o := range page.items {
		pdb, err := toPDB(o)
		if err != nil || pdb.Spec.Selector == nil {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(podLabels)) {
			continue
		}
		out = append(out, pdb)
	}
	return out, nil
}

func toPDB(o object) (policyv1.PodDisruptionBudget, error) {
	var pdb policyv1.PodDisruptionBudget
	data, err := json.Marshal(o)
	if err != nil {
		return pdb, err
	}
	err = json.Unmarshal(data, &pdb)
	return pdb, err
}

// takeDisruption checks that budget name allows a disruption and takes
// it: disruptionsAllowed is decremented and the Pod recorded in
// disruptedPods in one update of the budget's status, retried on
// conflicts. A dry run only checks.
func (s *Server) takeDisruption(ctx context.Context, req request, name, podName string) error {
	res := s.byGV["policy/v1"]["poddisruptionbudgets"]
	for try := 0; ; try++ {
		o, _, err := s.getObject(ctx, res, req.ns, name)
		if err != nil {
			return err
		}
		pdb, err := toPDB(o)
		if err != nil {
			return err
		}
		if pdb.Status.ObservedGeneration < pdb.Generation {
			return budgetPendingError(pdb.Name)
		}
		if pdb.Status.DisruptionsAllowed < 0 {
			return apierrors.NewForbidden(res.GroupResource(), pdb.Name, fmt.Errorf("pdb disruptions allowed is negative"))
		}
		if len(pdb.Status.DisruptedPods) > maxDisruptedPods {
			return apierrors.NewForbidden(res.GroupResource(), pdb.Name, fmt.Errorf("DisruptedPods map too big - too many evictions not confirmed by PDB controller"))
		}
		if pdb.Status.DisruptionsAllowed == 0 {
			err := apierrors.NewTooManyRequests(evictionViolatesBudget, 0)
			err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{
				Type:    policyv1.DisruptionBudgetCause,
				Message: fmt.Sprintf("The disruption budget %s needs %d healthy pods and has %d currently", pdb.Name, pdb.Status.DesiredHealthy, pdb.Status.CurrentHealthy),
			})
			return err
		}
		if req.dryRun {
			return nil
		}
		st := mapOf(o, "status")
		if st == nil {
			st = map[string]any{}
			o["status"] = st
		}
		allowed := pdb.Status.DisruptionsAllowed - 1
		st["disruptionsAllowed"] = int64(allowed)
		dp := mapOf(o, "status", "disruptedPods")
		if dp == nil {
			dp = map[string]any{}
			st["disruptedPods"] = dp
		}
		now := s.now().UTC()
		dp[podName] = now.Format(time.RFC3339)
		if allowed == 0 {
			setBudgetCondition(o, now)
		}
		sreq := request{res: res, ns: req.ns, name: name, sub: "status"}
		_, err = s.update(ctx, sreq, o)
		if err == nil {
			return nil
		}
		if !apierrors.IsConflict(err) {
			return err
		}
		if try >= evictionRetries {
			return apierrors.NewTimeoutError(fmt.Sprintf("couldn't update PodDisruptionBudget %q due to conflicts", name), 10)
		}
	}
}

// setBudgetCondition sets a budget's DisruptionAllowed condition False
// (InsufficientPods), as an eviction taking its last disruption does.
func setBudgetCondition(o object, now time.Time) {
	st := mapOf(o, "status")
	conds, _ := st["conditions"].([]any)
	c := map[string]any{
		"type": policyv1.DisruptionAllowedCondition, "status": string(metav1.ConditionFalse),
		"reason": policyv1.InsufficientPodsReason, "message": "",
		"observedGeneration": num(o, "metadata", "generation"),
	}
	for i, cur := range conds {
		cm, ok := cur.(map[string]any)
		if !ok || cm["type"] != policyv1.DisruptionAllowedCondition {
			continue
		}
		c["lastTransitionTime"] = cm["lastTransitionTime"]
		if cm["status"] != c["status"] {
			c["lastTransitionTime"] = now.Format(time.RFC3339)
		}
		conds[i] = c
		return
	}
	c["lastTransitionTime"] = now.Format(time.RFC3339)
	st["conditions"] = append(conds, c)
}

// budgetPendingError is the 429 of a budget whose status the disruption
// controller has not computed for its current generation.
func budgetPendingError(name string) error {
	err := apierrors.NewTooManyRequests(evictionViolatesBudget, 10)
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{
		Type:    policyv1.DisruptionBudgetCause,
		Message: fmt.Sprintf("The disruption budget %s is still being processed by the server.", name),
	})
	return err
}
