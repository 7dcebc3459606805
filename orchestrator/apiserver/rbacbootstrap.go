package apiserver

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The verbs of the default roles.
var (
	readVerbs  = []string{"get", "list", "watch"}
	writeVerbs = []string{"create", "delete", "deletecollection", "patch", "update"}
)

func rule(groups []string, resources []string, verbs ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: groups, Resources: resources, Verbs: verbs}
}

var core = []string{""}

// defaultClusterRoles are the ClusterRoles kube-apiserver bootstraps that
// matter here: cluster-admin, discovery and public information for
// everyone authenticated, and the user-facing admin, edit and view, which
// aggregate the system:aggregate-to-* roles (and any ClusterRole a chart
// labels rbac.authorization.k8s.io/aggregate-to-admin, -edit or -view).
func defaultClusterRoles() []rbacv1.ClusterRole {
	readable := func(verbs ...string) []rbacv1.PolicyRule {
		return []rbacv1.PolicyRule{
			rule(core, []string{"configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"}, verbs...),
			rule(core, []string{"bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status", "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"}, verbs...),
			rule(core, []string{"namespaces"}, verbs...),
			rule([]string{"discovery.k8s.io"}, []string{"endpointslices"}, verbs...),
			rule([]string{"apps"}, []string{"controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"}, verbs...),
			rule([]string{"autoscaling"}, []string{"horizontalpodautoscalers", "horizontalpodautoscalers/status"}, verbs...),
			rule([]string{"batch"}, []string{"cronjobs", "cronjobs/status", "jobs", "jobs/status"}, verbs...),
			rule([]string{"policy"}, []string{"poddisruptionbudgets", "poddisruptionbudgets/status"}, verbs...),
			rule([]string{"networking.k8s.io"}, []string{"ingresses", "ingresses/status", "networkpolicies"}, verbs...),
		}
	}
	editable := []rbacv1.PolicyRule{
		rule(core, []string{"pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"}, readVerbs...),
		rule(core, []string{"serviceaccounts"}, "impersonate"),
		rule(core, []string{"pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"}, writeVerbs...),
		rule(core, []string{"pods/eviction"}, "create"),
		rule(core, []string{"configmaps", "events", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy"}, writeVerbs...),
		rule(core, []string{"serviceaccounts/token"}, "create"),
		rule([]string{"apps"}, []string{"daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"}, writeVerbs...),
		rule([]string{"autoscaling"}, []string{"horizontalpodautoscalers"}, writeVerbs...),
		rule([]string{"batch"}, []string{"cronjobs", "jobs"}, writeVerbs...),
		rule([]string{"networking.k8s.io"}, []string{"ingresses", "networkpolicies"}, writeVerbs...),
		rule([]string{"policy"}, []string{"poddisruptionbudgets"}, writeVerbs...),
	}
	adminOnly := []rbacv1.PolicyRule{
		rule([]string{"authorization.k8s.io"}, []string{"localsubjectaccessreviews"}, "create"),
		rule([]string{"rbac.authorization.k8s.io"}, []string{"rolebindings", "roles"}, append(append([]string{}, writeVerbs...), readVerbs...)...),
	}
	aggregateTo := func(names ...string) map[string]string {
		l := map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}
		for _, n := range names {
			l["rbac.authorization.k8s.io/aggregate-to-"+n] = "true"
		}
		return l
	}
	aggregating := func(name, label string) rbacv1.ClusterRole {
		return rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: aggregateTo()},
			AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
				{MatchLabels: map[string]string{"rbac.authorization.k8s.io/aggregate-to-" + label: "true"}},
			}},
		}
	}
	plain := func(name string, rules ...rbacv1.PolicyRule) rbacv1.ClusterRole {
		return rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: aggregateTo()}, Rules: rules}
	}
	viewer := plain("system:aggregate-to-view", readable(readVerbs...)...)
	viewer.Labels = aggregateTo("admin", "edit", "view")
	editor := plain("system:aggregate-to-edit", editable...)
	editor.Labels = aggregateTo("admin", "edit")
	adminRole := plain("system:aggregate-to-admin", adminOnly...)
	adminRole.Labels = aggregateTo("admin")
	admin := aggregating("admin", "admin")
	edit := aggregating("edit", "edit")
	edit.Labels = aggregateTo("admin")
	view := aggregating("view", "view")
	view.Labels = aggregateTo("admin", "edit")
	return []rbacv1.ClusterRole{
		plain("cluster-admin",
			rbacv1.PolicyRule{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}},
			rbacv1.PolicyRule{NonResourceURLs: []string{"*"}, Verbs: []string{"*"}}),
		plain("system:discovery", rbacv1.PolicyRule{Verbs: []string{"get"},
			NonResourceURLs: []string{"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"}}),
		plain("system:basic-user",
			rule([]string{"authorization.k8s.io"}, []string{"selfsubjectaccessreviews", "selfsubjectrulesreviews"}, "create"),
			rule([]string{"authentication.k8s.io"}, []string{"selfsubjectreviews"}, "create")),
		plain("system:service-account-issuer-discovery", rbacv1.PolicyRule{Verbs: []string{"get"},
			NonResourceURLs: []string{"/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/"}}),
		plain("system:public-info-viewer", rbacv1.PolicyRule{Verbs: []string{"get"},
			NonResourceURLs: []string{"/healthz", "/livez", "/readyz", "/version", "/version/"}}),
		admin, edit, view, adminRole, editor, viewer,
	}
}

// defaultClusterRoleBindings bind cluster-admin to system:masters and
// discovery to every authenticated user, as kube-apiserver does.
func defaultClusterRoleBindings() []rbacv1.ClusterRoleBinding {
	bind := func(name string, groups ...string) rbacv1.ClusterRoleBinding {
		b := rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		}
		for _, g := range groups {
			b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: g})
		}
		return b
	}
	return []rbacv1.ClusterRoleBinding{
		bind("cluster-admin", GroupMasters),
		bind("system:discovery", GroupAuthenticated),
		bind("system:basic-user", GroupAuthenticated),
		bind("system:service-account-issuer-discovery", GroupServiceAccounts),
		bind("system:public-info-viewer", GroupAuthenticated, "system:unauthenticated"),
	}
}

// bootstrapRBAC creates the default roles and bindings that do not
// exist; those that do are left as they are (a user's change stays).
func (s *Server) bootstrapRBAC(ctx context.Context) error {
	add := func(resource string, v any, name string) error {
		res := s.byGV["rbac.authorization.k8s.io/v1"][resource]
		if _, _, err := s.getObject(ctx, res, "", name); err == nil || !apierrors.IsNotFound(err) {
			return err
		}
		o, err := toObject(v)
		if err != nil {
			return err
		}
		o["metadata"].(map[string]any)["annotations"] = map[string]any{"rbac.authorization.kubernetes.io/autoupdate": "true"}
		if _, err := s.create(ctx, res, "", o, false); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating %s %s: %w", resource, name, err)
		}
		return nil
	}
	for _, cr := range defaultClusterRoles() {
		cr.APIVersion, cr.Kind = "rbac.authorization.k8s.io/v1", "ClusterRole"
		if err := add("clusterroles", cr, cr.Name); err != nil {
			return err
		}
	}
	for _, b := range defaultClusterRoleBindings() {
		b.APIVersion, b.Kind = "rbac.authorization.k8s.io/v1", "ClusterRoleBinding"
		if err := add("clusterrolebindings", b, b.Name); err != nil {
			return err
		}
	}
	return nil
}
