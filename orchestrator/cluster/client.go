package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"sigs.k8s.io/yaml"
)

// Client returns an HTTP client that trusts the cluster's CA only.
func Client(creds Credentials) (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(creds.CAPEM) {
		return nil, errors.New("cluster CA holds no certificate")
	}
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		},
	}, nil
}

// Probe asks the server at url for /version with the credentials and
// returns nil when it answers 200.
func Probe(ctx context.Context, url string, creds Credentials) error {
	c, err := Client(creds)
	if err != nil {
		return err
	}
	defer c.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/version", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+creds.Token)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s/version: %s", url, resp.Status)
	}
	return nil
}

// ContextName names the cluster, the user and the context of the
// kubeconfig Kubeconfig writes.
const ContextName = "pkg"

// Kubeconfig returns a kubeconfig file for the server at url: one
// cluster, user and context, all named ContextName, with the CA embedded
// and the bearer token.
func Kubeconfig(url string, creds Credentials) ([]byte, error) {
	kc := map[string]any{
		"apiVersion": "v1",
		"kind":       "Config",
		"clusters": []any{map[string]any{"name": ContextName, "cluster": map[string]any{
			"server":                     url,
			"certificate-authority-data": creds.CAPEM,
		}}},
		"users": []any{map[string]any{"name": ContextName, "user": map[string]any{
			"token": creds.Token,
		}}},
		"contexts": []any{map[string]any{"name": ContextName, "context": map[string]any{
			"cluster": ContextName, "user": ContextName,
		}}},
		"current-context": ContextName,
		"preferences":     map[string]any{},
	}
	return yaml.Marshal(kc)
}
