package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// serveAccessReview answers SelfSubjectReview (who am I, kubectl auth
// whoami) and the authorization.k8s.io/v1 reviews, as
// kube-apiserver does, without storing them: SelfSubjectAccessReview
// (may I?), SubjectAccessReview and LocalSubjectAccessReview (may this
// user?), and SelfSubjectRulesReview (what may I do in a namespace?),
// which kubectl auth can-i and can-i --list send.
func (s *Server) serveAccessReview(w http.ResponseWriter, r *http.Request, req request) {
	body, err := s.readJSON(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	ctx := r.Context()
	me, _ := UserFrom(ctx)
	if me == nil {
		me = adminUser()
	}
	switch req.res.Kind {
	case "SelfSubjectReview":
		out := authenticationv1.SelfSubjectReview{}
		out.APIVersion, out.Kind = "authentication.k8s.io/v1", req.res.Kind
		out.Status.UserInfo = authenticationv1.UserInfo{Username: me.Name, UID: me.UID, Groups: me.Groups}
		writeJSON(w, http.StatusCreated, out)
		return
	case "SelfSubjectRulesReview":
		var rr authorizationv1.SelfSubjectRulesReview
		if err := json.Unmarshal(body, &rr); err != nil {
			s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("decoding SelfSubjectRulesReview: %v", err)))
			return
		}
		rules, err := s.rulesFor(ctx, me, rr.Spec.Namespace)
		if err != nil {
			s.fail(w, apierrors.NewInternalError(err))
			return
		}
		for _, rule := range rules {
			if len(rule.NonResourceURLs) > 0 {
				rr.Status.NonResourceRules = append(rr.Status.NonResourceRules, authorizationv1.NonResourceRule{Verbs: rule.Verbs, NonResourceURLs: rule.NonResourceURLs})
			} else {
				rr.Status.ResourceRules = append(rr.Status.ResourceRules, authorizationv1.ResourceRule{Verbs: rule.Verbs, APIGroups: rule.APIGroups, Resources: rule.Resources, ResourceNames: rule.ResourceNames})
			}
		}
		rr.APIVersion, rr.Kind = "authorization.k8s.io/v1", req.res.Kind
		writeJSON(w, http.StatusCreated, rr)
		return
	}
	var ar authorizationv1.SubjectAccessReview
	if err := json.Unmarshal(body, &ar); err != nil {
		s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("decoding %s: %v", req.res.Kind, err)))
		return
	}
	who := me
	if req.res.Kind != "SelfSubjectAccessReview" {
		if ar.Spec.User == "" && len(ar.Spec.Groups) == 0 {
			s.fail(w, apierrors.NewBadRequest("at least one of user or group must be specified"))
			return
		}
		who = &User{Name: ar.Spec.User, UID: ar.Spec.UID, Groups: ar.Spec.Groups}
	}
	var a attributes
	switch ra, na := ar.Spec.ResourceAttributes, ar.Spec.NonResourceAttributes; {
	case ra != nil && na == nil:
		if req.res.Kind == "LocalSubjectAccessReview" && ra.Namespace != req.ns {
			s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("spec.resourceAttributes.namespace must match metadata.namespace: %q %q", ra.Namespace, req.ns)))
			return
		}
		a = attributes{resourceRequest: true, verb: ra.Verb, group: ra.Group, resource: ra.Resource, sub: ra.Subresource, ns: ra.Namespace, name: ra.Name}
	case na != nil && ra == nil:
		a = attributes{verb: na.Verb, path: na.Path}
	default:
		s.fail(w, apierrors.NewBadRequest("exactly one of nonResourceAttributes or resourceAttributes must be specified"))
		return
	}
	err = s.authorized(ctx, who, a)
	switch {
	case err == nil:
		ar.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: "allowed by the cluster's RBAC roles"}
		if slices.Contains(who.Groups, GroupMasters) {
			ar.Status.Reason = "a member of system:masters"
		}
	case apierrors.IsForbidden(err):
		ar.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: false}
	default:
		ar.Status = authorizationv1.SubjectAccessReviewStatus{EvaluationError: err.Error()}
	}
	ar.APIVersion, ar.Kind = "authorization.k8s.io/v1", req.res.Kind
	writeJSON(w, http.StatusCreated, ar)
}

// rulesFor lists the rules u has in namespace ns: those of the
// ClusterRoles bound to u cluster-wide and of the roles bound to u in ns;
// a member of system:masters has cluster-admin's.
func (s *Server) rulesFor(ctx context.Context, u *User, ns string) ([]rbacv1.PolicyRule, error) {
	if slices.Contains(u.Groups, GroupMasters) {
		return []rbacv1.PolicyRule{
			{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}},
			{NonResourceURLs: []string{"*"}, Verbs: []string{"*"}},
		}, nil
	}
	var rules []rbacv1.PolicyRule
	err := s.eachBoundRule(ctx, u, ns, func(r rbacv1.PolicyRule) bool {
		rules = append(rules, r)
		return false
	})
	return rules, err
}
