package repo_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pkg.dev/pkg/repo"
)

// pki is a CA with a server certificate for 127.0.0.1 and a client
// certificate, written as PEM files.
type pki struct {
	ca, serverCert, serverKey, clientCert, clientKey string
	pool                                             *x509.CertPool
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey := key()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pkg test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, usage x509.ExtKeyUsage, ip bool) ([]byte, []byte) {
		k := key()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature,
		}
		if ip {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der, kder
	}
	sc, sk := leaf(2, x509.ExtKeyUsageServerAuth, true)
	cc, ck := leaf(3, x509.ExtKeyUsageClientAuth, false)
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return pki{
		ca:         write("ca.pem", "CERTIFICATE", caDER),
		serverCert: write("server.pem", "CERTIFICATE", sc),
		serverKey:  write("server-key.pem", "EC PRIVATE KEY", sk),
		clientCert: write("client.pem", "CERTIFICATE", cc),
		clientKey:  write("client-key.pem", "EC PRIVATE KEY", ck),
		pool:       pool,
	}
}

// TestRepoClientCertificates serves a repository that requires a client
// certificate signed by the test CA.
func TestRepoClientCertificates(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	dir := repoDir(t, "")
	s := httptest.NewUnstartedServer(http.FileServer(http.Dir(dir)))
	cert, err := tls.LoadX509KeyPair(p.serverCert, p.serverKey)
	if err != nil {
		t.Fatal(err)
	}
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.pool}
	s.StartTLS()
	t.Cleanup(s.Close)
	cases := []struct {
		name  string
		entry repo.Entry
		want  string // "" for success
	}{
		{"client certificate", repo.Entry{URL: s.URL, CAFile: p.ca, CertFile: p.clientCert, KeyFile: p.clientKey}, ""},
		{"no client certificate", repo.Entry{URL: s.URL, CAFile: p.ca}, "certificate"},
		{"unknown CA", repo.Entry{URL: s.URL, CertFile: p.clientCert, KeyFile: p.clientKey}, "certificate"},
		{"insecure with client certificate", repo.Entry{URL: s.URL, InsecureSkipTLSVerify: true, CertFile: p.clientCert, KeyFile: p.clientKey}, ""},
		{"certificate without key", repo.Entry{URL: s.URL, CAFile: p.ca, CertFile: p.clientCert}, "key file"},
		{"missing CA file", repo.Entry{URL: s.URL, CAFile: filepath.Join(t.TempDir(), "none.pem")}, "CA bundle"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.entry.Name = "mtls"
			_, idx, err := fetcher().FetchIndex(context.Background(), &tc.entry, nil)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				cv, err := idx.Get("hello", "")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := fetcher().FetchChart(context.Background(), &tc.entry, cv); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
