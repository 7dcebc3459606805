package apiserver

import (
	"context"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RBAC objects take any name that is one path segment, as in
// kube-apiserver: "system:..." roles are everyday names.
func TestRBACNamesArePathSegments(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	roles := ts.client.RbacV1().ClusterRoles()
	if _, err := roles.Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "system:controller:thing"}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("a ClusterRole named system:controller:thing: %v", err)
	}
	if _, err := ts.client.RbacV1().RoleBindings("default").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "Read:Pods"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("a RoleBinding named Read:Pods: %v", err)
	}
	for name, want := range map[string]string{"a/b": "may not contain '/'", "..": "may not be '..'", "x%y": "may not contain '%'"} {
		_, err := roles.Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("ClusterRole %q: %v, want Invalid: %s", name, err, want)
		}
	}
}
