package apiserver

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The Secret type and annotations of a legacy ServiceAccount token.
const (
	secretTypeServiceAccountToken = "kubernetes.io/service-account-token"
	annotationServiceAccountName  = "kubernetes.io/service-account.name"
	annotationServiceAccountUID   = "kubernetes.io/service-account.uid"
	// legacyTokenIssuer is the issuer of tokens kept in Secrets.
	legacyTokenIssuer = "kubernetes/serviceaccount"
)

// legacyClaims are the claims of a token kept in a Secret, as
// kube-controller-manager's tokens controller writes them: no audience,
// no expiry, valid while the Secret holds it.
type legacyClaims struct {
	Issuer     string `json:"iss"`
	Subject    string `json:"sub"`
	Namespace  string `json:"kubernetes.io/serviceaccount/namespace"`
	SecretName string `json:"kubernetes.io/serviceaccount/secret.name"`
	SAName     string `json:"kubernetes.io/serviceaccount/service-account.name"`
	SAUID      string `json:"kubernetes.io/serviceaccount/service-account.uid"`
}

// admitServiceAccountTokenSecret checks a Secret of type
// kubernetes.io/service-account-token being created (it must name its
// ServiceAccount) and, when this server issues tokens and the
// ServiceAccount exists, fills in the token, the cluster's CA and the
// namespace, as the tokens controller does: charts that still make
// long-lived tokens this way get one.
func (s *Server) admitServiceAccountTokenSecret(ctx context.Context, res *Resource, o object) error {
	if str(o, "type") != secretTypeServiceAccountToken {
		return nil
	}
	m := meta(o)
	name, ns := str(m, "name"), str(m, "namespace")
	annotations, _ := m["annotations"].(map[string]any)
	saName, _ := annotations[annotationServiceAccountName].(string)
	if saName == "" {
		return apierrors.NewInvalid(res.GroupVersionKind().GroupKind(), name, field.ErrorList{
			field.Required(field.NewPath("metadata", "annotations").Key(annotationServiceAccountName), ""),
		})
	}
	a := s.cfg.Authentication
	if a == nil || a.Tokens == nil || name == "" {
		return nil
	}
	sa, _, err := s.getObject(ctx, s.byGV["v1"]["serviceaccounts"], ns, saName)
	if apierrors.IsNotFound(err) {
		return nil // as the tokens controller: nothing to fill in yet
	}
	if err != nil {
		return err
	}
	uid := str(sa, "metadata", "uid")
	token, err := a.Tokens.signAny(legacyClaims{
		Issuer: legacyTokenIssuer, Subject: serviceAccountUsername(ns, saName),
		Namespace: ns, SecretName: name, SAName: saName, SAUID: uid,
	})
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	annotations[annotationServiceAccountUID] = uid
	data, _ := o["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
		o["data"] = data
	}
	enc := base64.StdEncoding.EncodeToString
	data["token"] = enc([]byte(token))
	data["namespace"] = enc([]byte(ns))
	if len(a.CA) > 0 {
		data["ca.crt"] = enc(a.CA)
	}
	return nil
}

// legacyServiceAccountUser checks a token kept in a Secret: the Secret
// must still hold it, and its ServiceAccount be the one it was made for.
func (s *Server) legacyServiceAccountUser(ctx context.Context, token string, c legacyClaims) (*User, error) {
	if c.Namespace == "" || c.SAName == "" || c.SecretName == "" || c.Subject != serviceAccountUsername(c.Namespace, c.SAName) {
		return nil, errors.New("not a service account token")
	}
	sec, _, err := s.getObject(ctx, s.byGV["v1"]["secrets"], c.Namespace, c.SecretName)
	if err != nil {
		return nil, fmt.Errorf("the token's secret %s/%s: %w", c.Namespace, c.SecretName, err)
	}
	held, _ := mapOf(sec, "data")["token"].(string)
	if b, err := base64.StdEncoding.DecodeString(held); err != nil || string(b) != token {
		return nil, errors.New("the token's secret no longer holds it")
	}
	sa, _, err := s.getObject(ctx, s.byGV["v1"]["serviceaccounts"], c.Namespace, c.SAName)
	if err != nil || str(sa, "metadata", "uid") != c.SAUID {
		return nil, errors.New("the token's service account is gone")
	}
	return serviceAccountUser(c.Namespace, c.SAName, c.SAUID), nil
}
