package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestServiceAccountIdentity drives what a Pod's identity is through the
// cluster's HTTPS API, as kube-apiserver serves it: the default
// ServiceAccount of a new namespace, tokens from the TokenRequest API,
// RBAC deciding what each token may do (403 worded as kube-apiserver's),
// tokens that stop working with their ServiceAccount or Pod, and the
// ServiceAccount admission of Pods.
func TestServiceAccountIdentity(t *testing.T) {
	t.Parallel()
	r := serve(t, t.TempDir())
	admin := r.creds.Token
	call := func(method, path, token, body string, want int) []byte {
		t.Helper()
		var code int
		var out []byte
		// The controllers make what a namespace needs a moment after it.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			code, out = do(t, r, method, path, token, body)
			if code == want || time.Now().After(deadline) {
				break
			}
		}
		if code != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, code, out, want)
		}
		return out
	}
	tokenFor := func(ns, sa string, extra string) string {
		t.Helper()
		out := call(http.MethodPost, "/api/v1/namespaces/"+ns+"/serviceaccounts/"+sa+"/token", admin,
			`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{`+extra+`}}`, http.StatusCreated)
		var tr authenticationv1.TokenRequest
		if err := json.Unmarshal(out, &tr); err != nil || tr.Status.Token == "" {
			t.Fatalf("TokenRequest: %v %s", err, out)
		}
		return tr.Status.Token
	}

	call(http.MethodPost, "/api/v1/namespaces", admin, `{"metadata":{"name":"team"}}`, http.StatusCreated)
	call(http.MethodGet, "/api/v1/namespaces/team/serviceaccounts/default", admin, "", http.StatusOK)
	call(http.MethodGet, "/api/v1/namespaces/team/configmaps/kube-root-ca.crt", admin, "", http.StatusOK)
	call(http.MethodPost, "/api/v1/namespaces/team/serviceaccounts", admin, `{"metadata":{"name":"reader"}}`, http.StatusCreated)
	call(http.MethodPost, "/api/v1/namespaces/team/serviceaccounts/reader/token", admin,
		`{"spec":{"expirationSeconds":60}}`, http.StatusUnprocessableEntity)
	reader := tokenFor("team", "reader", "")

	// Discovery and version for every authenticated user; nothing else.
	call(http.MethodGet, "/version", reader, "", http.StatusOK)
	call(http.MethodGet, "/apis", reader, "", http.StatusOK)
	out := call(http.MethodGet, "/api/v1/namespaces/team/pods", reader, "", http.StatusForbidden)
	if want := `pods is forbidden: User \"system:serviceaccount:team:reader\" cannot list resource \"pods\" in API group \"\" in the namespace \"team\"`; !strings.Contains(string(out), want) {
		t.Errorf("403 body %s, want it to say %s", out, want)
	}

	// A Role bound in the namespace: what it grants there, nothing more.
	call(http.MethodPost, "/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles", admin,
		`{"metadata":{"name":"pod-reader"},"rules":[{"apiGroups":[""],"resources":["pods","pods/log"],"verbs":["get","list","watch"]}]}`, http.StatusCreated)
	call(http.MethodPost, "/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings", admin,
		`{"metadata":{"name":"read-pods"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"pod-reader"},"subjects":[{"kind":"ServiceAccount","name":"reader","namespace":"team"}]}`, http.StatusCreated)
	call(http.MethodGet, "/api/v1/namespaces/team/pods", reader, "", http.StatusOK)
	call(http.MethodGet, "/api/v1/namespaces/default/pods", reader, "", http.StatusForbidden)
	call(http.MethodGet, "/api/v1/namespaces/team/secrets", reader, "", http.StatusForbidden)
	out = call(http.MethodPost, "/api/v1/namespaces/team/pods", reader, `{"metadata":{"name":"x"},"spec":{"containers":[{"name":"c","image":"i"}]}}`, http.StatusForbidden)
	if !strings.Contains(string(out), `cannot create resource \"pods\"`) {
		t.Errorf("create 403: %s", out)
	}

	// The aggregated view role, with a chart's ClusterRole aggregated
	// into it, bound cluster-wide.
	call(http.MethodPost, "/apis/rbac.authorization.k8s.io/v1/clusterroles", admin,
		`{"metadata":{"name":"node-viewer","labels":{"rbac.authorization.k8s.io/aggregate-to-view":"true"}},"rules":[{"apiGroups":[""],"resources":["nodes"],"verbs":["list"]}]}`, http.StatusCreated)
	call(http.MethodPost, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", admin,
		`{"metadata":{"name":"reader-views"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},"subjects":[{"kind":"ServiceAccount","name":"reader","namespace":"team"}]}`, http.StatusCreated)
	call(http.MethodGet, "/apis/apps/v1/deployments", reader, "", http.StatusOK)
	call(http.MethodGet, "/api/v1/nodes", reader, "", http.StatusOK)
	call(http.MethodGet, "/api/v1/namespaces/default/secrets", reader, "", http.StatusForbidden)
	out = call(http.MethodDelete, "/api/v1/nodes/pkg-node-1", reader, "", http.StatusForbidden)
	if !strings.Contains(string(out), `cannot delete resource \"nodes\" in API group \"\" at the cluster scope`) {
		t.Errorf("cluster-scoped 403: %s", out)
	}

	// A token is worth nothing once its ServiceAccount is gone, even if
	// one of the same name is made again; a made-up one never was.
	call(http.MethodDelete, "/api/v1/namespaces/team/serviceaccounts/reader", admin, "", http.StatusOK)
	call(http.MethodGet, "/version", reader, "", http.StatusUnauthorized)
	call(http.MethodPost, "/api/v1/namespaces/team/serviceaccounts", admin, `{"metadata":{"name":"reader"}}`, http.StatusCreated)
	call(http.MethodGet, "/version", reader, "", http.StatusUnauthorized)
	forged := strings.Join(append(strings.Split(tokenFor("team", "reader", ""), ".")[:2], "AAAA"), ".")
	call(http.MethodGet, "/version", forged, "", http.StatusUnauthorized)

	// The ServiceAccount admission: a Pod runs as default, gets the
	// kube-api-access volume in every container; a Pod naming a missing
	// ServiceAccount is refused; one that opts out gets no volume.
	out = call(http.MethodPost, "/api/v1/namespaces/team/pods", admin,
		`{"metadata":{"name":"web"},"spec":{"initContainers":[{"name":"i","image":"x"}],"containers":[{"name":"c","image":"x"}]}}`, http.StatusCreated)
	var pod corev1.Pod
	if err := json.Unmarshal(out, &pod); err != nil {
		t.Fatal(err)
	}
	if pod.Spec.ServiceAccountName != "default" || pod.Spec.DeprecatedServiceAccount != "default" || len(pod.Spec.Volumes) != 1 ||
		!strings.HasPrefix(pod.Spec.Volumes[0].Name, "kube-api-access-") || pod.Spec.Volumes[0].Projected == nil || len(pod.Spec.Volumes[0].Projected.Sources) != 3 {
		t.Fatalf("admitted Pod spec: %+v", pod.Spec)
	}
	for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
		if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/var/run/secrets/kubernetes.io/serviceaccount" || !c.VolumeMounts[0].ReadOnly {
			t.Errorf("container %s mounts %+v", c.Name, c.VolumeMounts)
		}
	}
	out = call(http.MethodPost, "/api/v1/namespaces/team/pods", admin,
		`{"metadata":{"name":"lost"},"spec":{"serviceAccountName":"nobody","containers":[{"name":"c","image":"x"}]}}`, http.StatusForbidden)
	if !strings.Contains(string(out), `pods \"lost\" is forbidden: error looking up service account team/nobody: serviceaccount \"nobody\" not found`) {
		t.Errorf("missing ServiceAccount: %s", out)
	}
	// A ServiceAccount that opts out of the token and carries pull
	// secrets: its Pod gets the secrets and no volume.
	call(http.MethodPost, "/api/v1/namespaces/team/serviceaccounts", admin,
		`{"metadata":{"name":"puller"},"automountServiceAccountToken":false,"imagePullSecrets":[{"name":"registry-creds"}]}`, http.StatusCreated)
	out = call(http.MethodPost, "/api/v1/namespaces/team/pods", admin,
		`{"metadata":{"name":"quiet"},"spec":{"serviceAccountName":"puller","containers":[{"name":"c","image":"x"}]}}`, http.StatusCreated)
	pod = corev1.Pod{}
	if err := json.Unmarshal(out, &pod); err != nil || len(pod.Spec.Volumes) != 0 ||
		len(pod.Spec.ImagePullSecrets) != 1 || pod.Spec.ImagePullSecrets[0].Name != "registry-creds" {
		t.Errorf("a Pod of a ServiceAccount with automount off and pull secrets: volumes %+v, pull secrets %+v (%v)", pod.Spec.Volumes, pod.Spec.ImagePullSecrets, err)
	}
	out = call(http.MethodPost, "/api/v1/namespaces/team/pods", admin,
		`{"metadata":{"name":"quieter"},"spec":{"automountServiceAccountToken":false,"containers":[{"name":"c","image":"x"}]}}`, http.StatusCreated)
	pod = corev1.Pod{}
	if err := json.Unmarshal(out, &pod); err != nil || len(pod.Spec.Volumes) != 0 {
		t.Errorf("a Pod with automountServiceAccountToken false still got %+v (%v)", pod.Spec.Volumes, err)
	}

	// A token bound to a Pod lives as long as the Pod.
	webUID := func() string {
		var p corev1.Pod
		_ = json.Unmarshal(call(http.MethodGet, "/api/v1/namespaces/team/pods/web", admin, "", http.StatusOK), &p)
		return string(p.UID)
	}()
	call(http.MethodPost, "/api/v1/namespaces/team/serviceaccounts/default/token", admin,
		`{"spec":{"boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":"web","uid":"not-its-uid"}}}`, http.StatusConflict)
	podToken := tokenFor("team", "default", `"boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":"web","uid":"`+webUID+`"}`)
	call(http.MethodGet, "/version", podToken, "", http.StatusOK)
	// kubectl --as: the admin may act as anyone, and is then held to
	// that identity's rights; a ServiceAccount may not act as another
	// without the impersonate verb.
	as := func(token, user string, groups []string, path string) int {
		t.Helper()
		c, err := Client(r.creds)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, r.state.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Impersonate-User", user)
		for _, g := range groups {
			req.Header.Add("Impersonate-Group", g)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := as(admin, "system:serviceaccount:team:default", nil, "/api/v1/namespaces/team/secrets"); code != http.StatusForbidden {
		t.Errorf("admin as the default ServiceAccount reading Secrets: %d, want 403", code)
	}
	if code := as(admin, "jane", []string{"system:masters"}, "/api/v1/namespaces/team/secrets"); code != http.StatusOK {
		t.Errorf("admin as a member of system:masters: %d, want 200", code)
	}
	if code := as(podToken, "system:serviceaccount:team:reader", nil, "/version"); code != http.StatusForbidden {
		t.Errorf("a ServiceAccount impersonating another: %d, want 403", code)
	}

	// kubectl auth can-i and whoami: the reviews answer for the caller,
	// or for whom a SubjectAccessReview names.
	review := func(token, path, body string) map[string]any {
		t.Helper()
		var out map[string]any
		if err := json.Unmarshal(call(http.MethodPost, path, token, body, http.StatusCreated), &out); err != nil {
			t.Fatal(err)
		}
		st, _ := out["status"].(map[string]any)
		return st
	}
	if st := review(podToken, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
		`{"spec":{"resourceAttributes":{"namespace":"team","verb":"list","resource":"pods"}}}`); st["allowed"] == true {
		t.Errorf("the default ServiceAccount may list Pods? %v", st)
	}
	if st := review(admin, "/apis/authorization.k8s.io/v1/subjectaccessreviews",
		`{"spec":{"user":"system:serviceaccount:team:reader","groups":["system:serviceaccounts"],"resourceAttributes":{"verb":"list","group":"apps","resource":"deployments"}}}`); st["allowed"] != true {
		t.Errorf("reader, bound to view cluster-wide, may not list Deployments? %v", st)
	}
	if st := review(podToken, "/apis/authentication.k8s.io/v1/selfsubjectreviews", `{}`); st["userInfo"].(map[string]any)["username"] != "system:serviceaccount:team:default" {
		t.Errorf("whoami: %v", st)
	}

	// A long-lived token kept in a Secret, as older charts make them:
	// filled in at creation, valid while the Secret holds it.
	call(http.MethodPost, "/api/v1/namespaces/team/serviceaccounts", admin, `{"metadata":{"name":"legacy"}}`, http.StatusCreated)
	call(http.MethodPost, "/api/v1/namespaces/team/secrets", admin,
		`{"metadata":{"name":"no-account"},"type":"kubernetes.io/service-account-token"}`, http.StatusUnprocessableEntity)
	out = call(http.MethodPost, "/api/v1/namespaces/team/secrets", admin,
		`{"metadata":{"name":"legacy-token","annotations":{"kubernetes.io/service-account.name":"legacy"}},"type":"kubernetes.io/service-account-token"}`, http.StatusCreated)
	var sec corev1.Secret
	if err := json.Unmarshal(out, &sec); err != nil {
		t.Fatal(err)
	}
	if len(sec.Data["token"]) == 0 || string(sec.Data["namespace"]) != "team" || !strings.Contains(string(sec.Data["ca.crt"]), "BEGIN CERTIFICATE") || sec.Annotations["kubernetes.io/service-account.uid"] == "" {
		t.Fatalf("the token Secret was not filled in: %v %v", sec.Annotations, sec.Data)
	}
	legacy := string(sec.Data["token"])
	out = call(http.MethodGet, "/api/v1/namespaces/team/pods", legacy, "", http.StatusForbidden)
	if !strings.Contains(string(out), `system:serviceaccount:team:legacy`) {
		t.Errorf("the Secret's token is not the ServiceAccount's: %s", out)
	}
	call(http.MethodDelete, "/api/v1/namespaces/team/secrets/legacy-token", admin, "", http.StatusOK)
	call(http.MethodGet, "/version", legacy, "", http.StatusUnauthorized)

	// Issuer discovery: another system checks a Pod's token with the
	// published key alone.
	var oidc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(call(http.MethodGet, "/.well-known/openid-configuration", podToken, "", http.StatusOK), &oidc); err != nil ||
		oidc.Issuer != "https://kubernetes.default.svc.cluster.local" || oidc.JWKSURI != oidc.Issuer+"/openid/v1/jwks" {
		t.Errorf("openid-configuration: %+v %v", oidc, err)
	}
	var jwks struct {
		Keys []struct{ Kty, Crv, Alg, X, Y string } `json:"keys"`
	}
	if err := json.Unmarshal(call(http.MethodGet, "/openid/v1/jwks", podToken, "", http.StatusOK), &jwks); err != nil || len(jwks.Keys) != 1 {
		t.Fatalf("jwks: %+v %v", jwks, err)
	}
	if !verifyES256(t, podToken, jwks.Keys[0].X, jwks.Keys[0].Y) {
		t.Error("the Pod's token does not verify with the published key")
	}

	// No node runs it here: deleted at once with a zero grace period.
	call(http.MethodDelete, "/api/v1/namespaces/team/pods/web", admin, `{"gracePeriodSeconds":0}`, http.StatusOK)
	call(http.MethodGet, "/version", podToken, "", http.StatusUnauthorized)
}

// verifyES256 checks a JWT's ES256 signature with the public key whose
// coordinates are x and y (base64url), as a JWKS consumer does.
func verifyES256(t *testing.T, token, x, y string) bool {
	t.Helper()
	dec := func(s string) *big.Int {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return new(big.Int).SetBytes(b)
	}
	parts := strings.Split(token, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature: %v", err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: dec(x), Y: dec(y)}
	return ecdsa.Verify(pub, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
}
