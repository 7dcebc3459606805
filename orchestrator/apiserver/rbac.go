package apiserver

import (
	"context"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// rbacAllows evaluates RBAC as kube-apiserver's authorizer does: a request
// is allowed when a rule of a role bound to the user (by a
// ClusterRoleBinding, or by a RoleBinding in the request's namespace)
// covers it. A ClusterRole with an aggregationRule has the rules of the
// ClusterRoles its selectors match.
func (s *Server) rbacAllows(ctx context.Context, u *User, a attributes) (bool, error) {
	ns := a.ns
	if !a.resourceRequest {
		ns = ""
	}
	allowed := false
	err := s.eachBoundRule(ctx, u, ns, func(r rbacv1.PolicyRule) bool {
		allowed = ruleAllows(r, a)
		return allowed
	})
	return allowed, err
}

// eachBoundRule calls f with each rule of the roles bound to u: by
// ClusterRoleBindings, then by RoleBindings in ns (none when ns is
// empty), until f returns true.
func (s *Server) eachBoundRule(ctx context.Context, u *User, ns string, f func(rbacv1.PolicyRule) bool) error {
	crbs, err := s.listTyped(ctx, "clusterrolebindings", "")
	if err != nil {
		return err
	}
	var clusterRoles []rbacv1.ClusterRole
	rolesLoaded := false
	clusterRoleRules := func(name string) ([]rbacv1.PolicyRule, error) {
		if !rolesLoaded {
			rolesLoaded = true
			items, err := s.listTyped(ctx, "clusterroles", "")
			if err != nil {
				return nil, err
			}
			for _, o := range items {
				var cr rbacv1.ClusterRole
				if err := fromObject(o, &cr); err == nil {
					clusterRoles = append(clusterRoles, cr)
				}
			}
		}
		return aggregatedRules(clusterRoles, name), nil
	}
	each := func(rules []rbacv1.PolicyRule) bool {
		for _, r := range rules {
			if f(r) {
				return true
			}
		}
		return false
	}
	for _, o := range crbs {
		var b rbacv1.ClusterRoleBinding
		if fromObject(o, &b) != nil || b.RoleRef.Kind != "ClusterRole" || !subjectsMatch(b.Subjects, u, "") {
			continue
		}
		rules, err := clusterRoleRules(b.RoleRef.Name)
		if err != nil {
			return err
		}
		if each(rules) {
			return nil
		}
	}
	if ns == "" {
		return nil
	}
	rbs, err := s.listTyped(ctx, "rolebindings", ns)
	if err != nil {
		return err
	}
	for _, o := range rbs {
		var b rbacv1.RoleBinding
		if fromObject(o, &b) != nil || !subjectsMatch(b.Subjects, u, ns) {
			continue
		}
		var rules []rbacv1.PolicyRule
		switch b.RoleRef.Kind {
		case "ClusterRole":
			if rules, err = clusterRoleRules(b.RoleRef.Name); err != nil {
				return err
			}
		case "Role":
			ro, _, err := s.getObject(ctx, s.byGV["rbac.authorization.k8s.io/v1"]["roles"], ns, b.RoleRef.Name)
			if err != nil {
				continue
			}
			var role rbacv1.Role
			if fromObject(ro, &role) != nil {
				continue
			}
			rules = role.Rules
		}
		if each(rules) {
			return nil
		}
	}
	return nil
}

// listTyped lists the stored objects of an RBAC resource.
func (s *Server) listTyped(ctx context.Context, resource, ns string) ([]object, error) {
	page, err := s.list(ctx, s.byGV["rbac.authorization.k8s.io/v1"][resource], ns, nil, 0, "")
	if err != nil {
		return nil, err
	}
	return page.items, nil
}

// aggregatedRules are the rules of the ClusterRole name: its own, or,
// with an aggregationRule, those of every ClusterRole a selector of it
// matches.
func aggregatedRules(all []rbacv1.ClusterRole, name string) []rbacv1.PolicyRule {
	i := slices.IndexFunc(all, func(cr rbacv1.ClusterRole) bool { return cr.Name == name })
	if i < 0 {
		return nil
	}
	cr := all[i]
	if cr.AggregationRule == nil {
		return cr.Rules
	}
	var rules []rbacv1.PolicyRule
	for _, sel := range cr.AggregationRule.ClusterRoleSelectors {
		ls, err := metav1.LabelSelectorAsSelector(&sel)
		if err != nil {
			continue
		}
		for _, other := range all {
			if other.Name != name && ls.Matches(labels.Set(other.Labels)) {
				rules = append(rules, other.Rules...)
			}
		}
	}
	return rules
}

// subjectsMatch tells whether u is one of subjects; ns is the binding's
// namespace ("" for a ClusterRoleBinding).
func subjectsMatch(subjects []rbacv1.Subject, u *User, ns string) bool {
	for _, sub := range subjects {
		switch sub.Kind {
		case rbacv1.UserKind:
			if sub.Name == u.Name {
				return true
			}
		case rbacv1.GroupKind:
			if slices.Contains(u.Groups, sub.Name) {
				return true
			}
		case rbacv1.ServiceAccountKind:
			sns := sub.Namespace
			if sns == "" {
				sns = ns
			}
			if sns != "" && serviceAccountUsername(sns, sub.Name) == u.Name {
				return true
			}
		}
	}
	return false
}

// rulesAllow tells whether a rule of rules covers a.
func rulesAllow(rules []rbacv1.PolicyRule, a attributes) bool {
	for _, r := range rules {
		if ruleAllows(r, a) {
			return true
		}
	}
	return false
}

func ruleAllows(r rbacv1.PolicyRule, a attributes) bool {
	if !hasOrStar(r.Verbs, a.verb) {
		return false
	}
	if !a.resourceRequest {
		for _, u := range r.NonResourceURLs {
			if u == "*" || u == a.path || strings.HasSuffix(u, "*") && strings.HasPrefix(a.path, strings.TrimSuffix(u, "*")) {
				return true
			}
		}
		return false
	}
	if !hasOrStar(r.APIGroups, a.group) {
		return false
	}
	res := a.resource
	if a.sub != "" {
		res += "/" + a.sub
	}
	resourceOK := false
	for _, rr := range r.Resources {
		if rr == "*" || rr == res || a.sub != "" && rr == "*/"+a.sub {
			resourceOK = true
		}
	}
	if !resourceOK {
		return false
	}
	return len(r.ResourceNames) == 0 || a.name != "" && slices.Contains(r.ResourceNames, a.name)
}

func hasOrStar(list []string, v string) bool {
	return slices.Contains(list, "*") || slices.Contains(list, v)
}
