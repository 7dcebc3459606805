package apiserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// User is who a request comes from, as kube-apiserver's authenticators
// name it.
type User struct {
	Name   string
	UID    string
	Groups []string
}

// Group names with a meaning of their own.
const (
	// GroupMasters is the group every request may come from (RBAC is
	// not asked), as kube-apiserver's system:masters.
	GroupMasters       = "system:masters"
	GroupAuthenticated = "system:authenticated"
	// GroupServiceAccounts has every ServiceAccount; each is also in
	// system:serviceaccounts:NAMESPACE.
	GroupServiceAccounts = "system:serviceaccounts"
	// AdminUser is the name of the holder of the cluster's own token.
	AdminUser = "pkg-admin"
)

type userKey struct{}

// WithUser returns ctx carrying u.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the user a request's context carries.
func UserFrom(ctx context.Context) (*User, bool) {
	u, ok := ctx.Value(userKey{}).(*User)
	return u, ok
}

// Authentication is how the server tells who a request comes from.
type Authentication struct {
	// AdminToken is the cluster's own bearer token; its holder is
	// AdminUser in system:masters.
	AdminToken string
	// Tokens signs the ServiceAccount tokens the server issues
	// (serviceaccounts/NAME/token, and Secrets of type
	// kubernetes.io/service-account-token) and checks those it is shown;
	// nil issues and accepts none.
	Tokens *TokenSigner
	// CA is the PEM of the CA that signed the serving certificate, put
	// in token Secrets as ca.crt.
	CA []byte
}

// unauthorizedBody is the Status kube-apiserver answers a request
// without valid credentials with.
const unauthorizedBody = `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}` + "\n"

// authenticate returns the request's user, or nil when its credentials
// are missing or invalid (the caller answers 401). Without
// Config.Authentication every request is the admin's.
func (s *Server) authenticate(r *http.Request) *User {
	a := s.cfg.Authentication
	if a == nil {
		return adminUser()
	}
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		return nil
	}
	if a.AdminToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(a.AdminToken)) == 1 {
		return adminUser()
	}
	if a.Tokens == nil || strings.Count(token, ".") != 2 {
		return nil
	}
	u, err := s.tokenUser(r.Context(), token)
	if err != nil {
		s.log.Debug("rejected a ServiceAccount token", "err", err)
		return nil
	}
	return u
}

// impersonate applies the Impersonate-User and Impersonate-Group headers
// (kubectl --as and --as-group), as kube-apiserver does: the
// authenticated user needs the verb impersonate on each (users, groups,
// or the ServiceAccount), and the request then runs as the user named,
// in the groups named, plus system:authenticated (and the
// ServiceAccount groups for a ServiceAccount's name).
func (s *Server) impersonate(r *http.Request, u *User) (*User, error) {
	name := r.Header.Get("Impersonate-User")
	groups := r.Header.Values("Impersonate-Group")
	if name == "" {
		if len(groups) > 0 || r.Header.Get("Impersonate-Uid") != "" {
			return nil, apierrors.NewBadRequest("impersonating groups or a uid requires impersonating a user (Impersonate-User)")
		}
		return u, nil
	}
	ctx := r.Context()
	as := &User{Name: name}
	check := attributes{resourceRequest: true, verb: "impersonate", resource: "users", name: name}
	if ns, sa, ok := strings.Cut(strings.TrimPrefix(name, "system:serviceaccount:"), ":"); ok && strings.HasPrefix(name, "system:serviceaccount:") {
		check = attributes{resourceRequest: true, verb: "impersonate", resource: "serviceaccounts", ns: ns, name: sa}
		as.Groups = append(as.Groups, GroupServiceAccounts, GroupServiceAccounts+":"+ns)
	}
	if err := s.authorized(ctx, u, check); err != nil {
		return nil, err
	}
	for _, g := range groups {
		if err := s.authorized(ctx, u, attributes{resourceRequest: true, verb: "impersonate", resource: "groups", name: g}); err != nil {
			return nil, err
		}
		if !slices.Contains(as.Groups, g) {
			as.Groups = append(as.Groups, g)
		}
	}
	if !slices.Contains(as.Groups, GroupAuthenticated) {
		as.Groups = append(as.Groups, GroupAuthenticated)
	}
	return as, nil
}

// bearer extracts the token of an "Authorization: Bearer TOKEN" header.
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// tokenUser checks a ServiceAccount token as kube-apiserver
// does: signed by this cluster, for its audience, not expired, and its
// ServiceAccount (and the Pod it is bound to, if any) still the one it
// was issued for.
func (s *Server) tokenUser(ctx context.Context, token string) (*User, error) {
	c, legacy, err := s.cfg.Authentication.Tokens.verify(token, s.now())
	if err != nil {
		return nil, err
	}
	if legacy != nil {
		return s.legacyServiceAccountUser(ctx, token, *legacy)
	}
	k := c.Kubernetes
	sa, _, err := s.getObject(ctx, s.byGV["v1"]["serviceaccounts"], k.Namespace, k.ServiceAccount.Name)
	if err != nil {
		return nil, fmt.Errorf("service account %s/%s: %w", k.Namespace, k.ServiceAccount.Name, err)
	}
	if str(sa, "metadata", "uid") != k.ServiceAccount.UID {
		return nil, errors.New("the service account was deleted and made again since the token was issued")
	}
	if k.Pod != nil {
		pod, _, err := s.getObject(ctx, s.byGV["v1"]["pods"], k.Namespace, k.Pod.Name)
		if err != nil || str(pod, "metadata", "uid") != k.Pod.UID {
			return nil, fmt.Errorf("the pod %s/%s the token is bound to is gone", k.Namespace, k.Pod.Name)
		}
	}
	return serviceAccountUser(k.Namespace, k.ServiceAccount.Name, k.ServiceAccount.UID), nil
}

// adminUser is the holder of the cluster's own token.
func adminUser() *User {
	return &User{Name: AdminUser, Groups: []string{GroupMasters, GroupAuthenticated}}
}

// serviceAccountUser is the user a ServiceAccount's token stands for,
// in the ServiceAccount groups.
func serviceAccountUser(ns, name, uid string) *User {
	return &User{
		Name:   serviceAccountUsername(ns, name),
		UID:    uid,
		Groups: []string{GroupServiceAccounts, GroupServiceAccounts + ":" + ns, GroupAuthenticated},
	}
}

// serviceAccountUsername is a ServiceAccount's user name.
func serviceAccountUsername(ns, name string) string {
	return "system:serviceaccount:" + ns + ":" + name
}

// authorized answers whether u may do what attrs describe, and if not,
// the Forbidden error kube-apiserver gives.
func (s *Server) authorized(ctx context.Context, u *User, a attributes) error {
	for _, g := range u.Groups {
		if g == GroupMasters {
			return nil
		}
	}
	ok, err := s.rbacAllows(ctx, u, a)
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("authorizing: %w", err))
	}
	if ok {
		return nil
	}
	return a.forbidden(u)
}

// attributes are what a request asks to do, as RBAC reads it.
type attributes struct {
	verb string
	// path is the request's path, for a non-resource request.
	path                           string
	group, resource, sub, ns, name string
	resourceRequest                bool
}

// forbidden is kube-apiserver's 403 for a, worded as its authorization
// filter words it.
func (a attributes) forbidden(u *User) error {
	if !a.resourceRequest {
		return apierrors.NewForbidden(schema.GroupResource{}, "", fmt.Errorf("User %q cannot %s path %q", u.Name, a.verb, a.path))
	}
	res := a.resource
	if a.sub != "" {
		res += "/" + a.sub
	}
	msg := fmt.Sprintf("User %q cannot %s resource %q in API group %q at the cluster scope", u.Name, a.verb, res, a.group)
	if a.ns != "" {
		msg = fmt.Sprintf("User %q cannot %s resource %q in API group %q in the namespace %q", u.Name, a.verb, res, a.group, a.ns)
	}
	return apierrors.NewForbidden(schema.GroupResource{Group: a.group, Resource: a.resource}, a.name, errors.New(msg))
}

// verbOf is the RBAC verb of a request to a resource: get, list, watch,
// create, update, patch, delete or deletecollection.
func verbOf(method string, req request, watch bool) string {
	switch method {
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		if req.name == "" {
			return "deletecollection"
		}
		return "delete"
	}
	switch {
	case watch:
		return "watch"
	case req.name == "":
		return "list"
	}
	return "get"
}

// nonResourceVerb is the RBAC verb of a request to a path that names no
// resource.
func nonResourceVerb(method string) string {
	switch method {
	case http.MethodPost:
		return "post"
	case http.MethodPut:
		return "put"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		return "delete"
	case http.MethodHead:
		return "head"
	}
	return "get"
}
