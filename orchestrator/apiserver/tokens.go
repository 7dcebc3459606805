package apiserver

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ServiceAccountIssuer is the issuer (iss) of the ServiceAccount tokens
// the server signs, and the audience they are for unless a TokenRequest
// names others, as kube-apiserver's default.
const ServiceAccountIssuer = "https://kubernetes.default.svc.cluster.local"

// Token lifetimes, as kube-apiserver bounds them.
const (
	minTokenSeconds     = 600
	defaultTokenSeconds = 3600
	// kubeAPIAccessSeconds is what the ServiceAccount admission asks for
	// in a Pod's kube-api-access volume; such a token is issued for a
	// year, with a warnafter claim at the hour, so that clients that do
	// not reload it keep working (--service-account-extend-token-expiration).
	kubeAPIAccessSeconds = 3607
	extendedTokenSeconds = 365 * 24 * 3600
)

// TokenSigner signs ServiceAccount tokens (JWTs, ES256) with the
// cluster's key and checks them.
type TokenSigner struct {
	key   *ecdsa.PrivateKey
	keyID string
}

// NewTokenSigner returns a signer with key, a P-256 key.
func NewTokenSigner(key *ecdsa.PrivateKey) (*TokenSigner, error) {
	if key == nil || key.Curve.Params().BitSize != 256 {
		return nil, errors.New("service account tokens: a P-256 key is needed")
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return &TokenSigner{key: key, keyID: base64.RawURLEncoding.EncodeToString(sum[:])}, nil
}

// serveOIDC answers the service account issuer discovery documents, as
// kube-apiserver does, so that other systems (Vault, SPIRE, cloud
// workload identity) can check the cluster's tokens:
// /.well-known/openid-configuration and the key set /openid/v1/jwks.
func (s *Server) serveOIDC(w http.ResponseWriter, path string) {
	a := s.cfg.Authentication
	if a == nil || a.Tokens == nil {
		s.fail(w, errPathNotFound())
		return
	}
	switch path {
	case "/.well-known/openid-configuration":
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer":                                ServiceAccountIssuer,
			"jwks_uri":                              ServiceAccountIssuer + "/openid/v1/jwks",
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"ES256"},
		})
	default:
		pub := a.Tokens.key.PublicKey
		coord := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
		x, y := make([]byte, 32), make([]byte, 32)
		pub.X.FillBytes(x)
		pub.Y.FillBytes(y)
		writeJSON(w, http.StatusOK, map[string]any{"keys": []any{map[string]any{
			"use": "sig", "kty": "EC", "kid": a.Tokens.keyID, "crv": "P-256", "alg": "ES256", "x": coord(x), "y": coord(y),
		}}})
	}
}

// tokenClaims are a ServiceAccount token's claims, as kube-apiserver
// writes them.
type tokenClaims struct {
	Issuer     string           `json:"iss"`
	Subject    string           `json:"sub"`
	Audience   []string         `json:"aud"`
	Expiry     int64            `json:"exp"`
	IssuedAt   int64            `json:"iat"`
	NotBefore  int64            `json:"nbf"`
	ID         string           `json:"jti"`
	Kubernetes kubernetesClaims `json:"kubernetes.io"`
}

type kubernetesClaims struct {
	Namespace      string     `json:"namespace"`
	ServiceAccount objectRef  `json:"serviceaccount"`
	Pod            *objectRef `json:"pod,omitempty"`
	WarnAfter      int64      `json:"warnafter,omitempty"`
}

type objectRef struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

type tokenHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// sign encodes and signs c.
func (t *TokenSigner) sign(c tokenClaims) (string, error) { return t.signAny(c) }

// signAny encodes and signs any claims.
func (t *TokenSigner) signAny(c any) (string, error) {
	h, err := json.Marshal(tokenHeader{Alg: "ES256", Kid: t.keyID})
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	signed := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	sum := sha256.Sum256([]byte(signed))
	r, s, err := ecdsa.Sign(rand.Reader, t.key, sum[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// tokenLeeway is the clock skew allowed on exp and nbf, as
// kube-apiserver's.
const tokenLeeway = time.Minute

// verify checks a token's signature, issuer, audience and times, and
// returns its claims: a bound token's, or (legacy set) a token kept in a
// Secret, which has neither audience nor expiry and is checked against
// its Secret by the caller.
func (t *TokenSigner) verify(token string, now time.Time) (c *tokenClaims, legacy *legacyClaims, err error) {
	pb, err := t.verifySignature(token)
	if err != nil {
		return nil, nil, err
	}
	var iss struct {
		Issuer string `json:"iss"`
	}
	if err := json.Unmarshal(pb, &iss); err != nil {
		return nil, nil, fmt.Errorf("malformed claims: %w", err)
	}
	if iss.Issuer == legacyTokenIssuer {
		var l legacyClaims
		if err := json.Unmarshal(pb, &l); err != nil {
			return nil, nil, fmt.Errorf("malformed claims: %w", err)
		}
		return nil, &l, nil
	}
	c, err = checkClaims(pb, now)
	return c, nil, err
}

// verifySignature checks a JWT's header and signature and returns its
// claims' bytes.
func (t *TokenSigner) verifySignature(token string) ([]byte, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, errors.New("malformed header")
	}
	var h tokenHeader
	if err := json.Unmarshal(hb, &h); err != nil || h.Alg != "ES256" || h.Kid != t.keyID {
		return nil, errors.New("not signed by this cluster")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return nil, errors.New("malformed signature")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(&t.key.PublicKey, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return nil, errors.New("invalid signature")
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("malformed claims")
	}
	return pb, nil
}

// checkClaims decodes a bound token's claims and checks its issuer,
// audience, times and subject.
func checkClaims(pb []byte, now time.Time) (*tokenClaims, error) {
	var c tokenClaims
	if err := json.Unmarshal(pb, &c); err != nil {
		return nil, fmt.Errorf("malformed claims: %w", err)
	}
	switch {
	case c.Issuer != ServiceAccountIssuer:
		return nil, fmt.Errorf("issuer %q is not this cluster's", c.Issuer)
	case !slices.Contains(c.Audience, ServiceAccountIssuer):
		return nil, fmt.Errorf("audience %q is not the API server's", c.Audience)
	case now.After(time.Unix(c.Expiry, 0).Add(tokenLeeway)):
		return nil, errors.New("expired")
	case now.Add(tokenLeeway).Before(time.Unix(c.NotBefore, 0)):
		return nil, errors.New("not valid yet")
	case c.Kubernetes.Namespace == "" || c.Kubernetes.ServiceAccount.Name == "" ||
		c.Subject != serviceAccountUsername(c.Kubernetes.Namespace, c.Kubernetes.ServiceAccount.Name):
		return nil, errors.New("not a service account token")
	}
	return &c, nil
}

// serveTokenRequest answers POST serviceaccounts/NAME/token
// (authentication.k8s.io/v1 TokenRequest), as kube-apiserver does: a
// token for the ServiceAccount, for the audiences asked (the API server
// by default), for expirationSeconds (an hour by default, at least ten
// minutes), bound to a Pod when boundObjectRef names one.
func (s *Server) serveTokenRequest(w http.ResponseWriter, r *http.Request, req request) {
	a := s.cfg.Authentication
	if a == nil || a.Tokens == nil {
		s.fail(w, apierrors.NewMethodNotSupported(req.res.GroupResource(), "create token"))
		return
	}
	body, err := s.readJSON(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	var tr authenticationv1.TokenRequest
	if err := json.Unmarshal(body, &tr); err != nil {
		s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("decoding TokenRequest: %v", err)))
		return
	}
	ctx := r.Context()
	sa, _, err := s.getObject(ctx, req.res, req.ns, req.name)
	if err != nil {
		s.fail(w, err)
		return
	}
	gk := authenticationv1.SchemeGroupVersion.WithKind("TokenRequest").GroupKind()
	secs := int64(defaultTokenSeconds)
	if tr.Spec.ExpirationSeconds != nil {
		secs = *tr.Spec.ExpirationSeconds
	}
	if secs < minTokenSeconds || secs > 1<<32 {
		why := "may not specify a duration less than 10 minutes"
		if secs > 1<<32 {
			why = "may not specify a duration larger than 2^32 seconds"
		}
		s.fail(w, apierrors.NewInvalid(gk, req.name, field.ErrorList{field.Invalid(field.NewPath("spec", "expirationSeconds"), secs, why)}))
		return
	}
	now := s.now()
	c := tokenClaims{
		Issuer:    ServiceAccountIssuer,
		Subject:   serviceAccountUsername(req.ns, req.name),
		Audience:  tr.Spec.Audiences,
		IssuedAt:  now.Unix(),
		NotBefore: now.Unix(),
		ID:        string(uuid.NewUUID()),
		Kubernetes: kubernetesClaims{
			Namespace:      req.ns,
			ServiceAccount: objectRef{Name: req.name, UID: str(sa, "metadata", "uid")},
		},
	}
	if len(c.Audience) == 0 {
		c.Audience = []string{ServiceAccountIssuer}
	}
	if ref := tr.Spec.BoundObjectRef; ref != nil {
		if ref.Kind != "Pod" || (ref.APIVersion != "" && ref.APIVersion != "v1") {
			s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("cannot bind a token to a %s %s: only Pods are supported", ref.APIVersion, ref.Kind)))
			return
		}
		pod, _, err := s.getObject(ctx, s.byGV["v1"]["pods"], req.ns, ref.Name)
		if err != nil {
			s.fail(w, err)
			return
		}
		uid := str(pod, "metadata", "uid")
		if ref.UID != "" && string(ref.UID) != uid {
			s.fail(w, apierrors.NewConflict(s.byGV["v1"]["pods"].GroupResource(), ref.Name, fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID)))
			return
		}
		c.Kubernetes.Pod = &objectRef{Name: ref.Name, UID: uid}
	}
	valid := secs
	if secs == kubeAPIAccessSeconds && c.Kubernetes.Pod != nil {
		valid = extendedTokenSeconds
		c.Kubernetes.WarnAfter = now.Add(time.Duration(secs) * time.Second).Unix()
	}
	exp := now.Add(time.Duration(valid) * time.Second)
	c.Expiry = exp.Unix()
	token, err := a.Tokens.sign(c)
	if err != nil {
		s.fail(w, apierrors.NewInternalError(err))
		return
	}
	tr.APIVersion, tr.Kind = "authentication.k8s.io/v1", "TokenRequest"
	tr.Name, tr.Namespace = req.name, req.ns
	tr.CreationTimestamp = metav1.NewTime(now.Truncate(time.Second))
	tr.Spec.ExpirationSeconds = &secs
	tr.Spec.Audiences = c.Audience
	// The status gives the lifetime asked for even when the token's own
	// is extended, so that the kubelet (and this node agent) renew it
	// then, as with kube-apiserver.
	asked := now.Add(time.Duration(secs) * time.Second)
	tr.Status = authenticationv1.TokenRequestStatus{Token: token, ExpirationTimestamp: metav1.NewTime(asked.Truncate(time.Second))}
	writeJSON(w, http.StatusCreated, tr)
}
