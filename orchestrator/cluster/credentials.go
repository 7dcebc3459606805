package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"strings"
	"time"
)

// Credentials are what a client needs to reach a cluster: the CA that
// signed the serving certificate, PEM encoded, and the bearer token.
type Credentials struct {
	// CAPEM is the certificate authority's certificate.
	CAPEM []byte
	// Token is the bearer token.
	Token string
}

// LoadCredentials reads the CA certificate and the token of a data
// directory. It fails with ErrNoCredentials when the cluster was never
// started there.
func LoadCredentials(dir string) (Credentials, error) {
	p := Paths{dir}
	ca, err := os.ReadFile(p.CA())
	if errors.Is(err, os.ErrNotExist) {
		return Credentials{}, fmt.Errorf("reading %s: %w", p.CA(), ErrNoCredentials)
	}
	if err != nil {
		return Credentials{}, fmt.Errorf("reading CA: %w", err)
	}
	tok, err := os.ReadFile(p.Token())
	if errors.Is(err, os.ErrNotExist) {
		return Credentials{}, fmt.Errorf("reading %s: %w", p.Token(), ErrNoCredentials)
	}
	if err != nil {
		return Credentials{}, fmt.Errorf("reading token: %w", err)
	}
	return Credentials{CAPEM: ca, Token: strings.TrimSpace(string(tok))}, nil
}

// ensureToken returns the token of dir, generating 32 random bytes
// (hex encoded, file mode 0600) when there is none.
func ensureToken(dir string) (string, error) {
	p := Paths{dir}
	b, err := os.ReadFile(p.Token())
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("reading token: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generating token: %w", err)
	}
	tok := hex.EncodeToString(raw)
	if err := writeFileAtomic(p.Token(), []byte(tok+"\n")); err != nil {
		return "", fmt.Errorf("writing token: %w", err)
	}
	return tok, nil
}

// ServiceAccountKeyFile holds the key ServiceAccount tokens are signed
// with, in the data dir.
const ServiceAccountKeyFile = "sa.key"

// ensureServiceAccountKey returns the P-256 key of dir that signs
// ServiceAccount tokens, generating it (mode 0600) when there is none.
func ensureServiceAccountKey(dir string) (*ecdsa.PrivateKey, error) {
	path := Paths{dir}.File(ServiceAccountKeyFile)
	data, err := os.ReadFile(path)
	if err == nil {
		block, _ := pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("%s: not a PEM key; remove it to make a new one (tokens issued so far stop working)", path)
		}
		key, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w; remove it to make a new one (tokens issued so far stop working)", path, err)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading the service account key: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating the service account key: %w", err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})); err != nil {
		return nil, fmt.Errorf("writing the service account key: %w", err)
	}
	return key, nil
}

// authority is a loaded certificate authority.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

// ensureCA loads the CA of dir, generating an ECDSA P-256 one valid for ten
// years when there is none.
func ensureCA(dir string, now time.Time) (*authority, error) {
	p := Paths{dir}
	certPEM, cerr := os.ReadFile(p.CA())
	keyPEM, kerr := os.ReadFile(p.File(CAKeyFile))
	if cerr == nil && kerr == nil {
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("loading CA from %s: %w", dir, err)
		}
		key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("loading CA from %s: key is not ECDSA", dir)
		}
		cert, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			return nil, fmt.Errorf("loading CA from %s: %w", dir, err)
		}
		return &authority{cert: cert, key: key, pem: certPEM}, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "pkg-cluster-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("creating CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("creating CA certificate: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding CA key: %w", err)
	}
	if err := writeFileAtomic(p.File(CAKeyFile), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})); err != nil {
		return nil, fmt.Errorf("writing CA key: %w", err)
	}
	if err := writeFileAtomic(p.CA(), certPEM); err != nil {
		return nil, fmt.Errorf("writing CA certificate: %w", err)
	}
	return &authority{cert: cert, key: key, pem: certPEM}, nil
}

// issueServing signs a fresh serving certificate for 127.0.0.1, ::1,
// localhost, host (when it is another name or address) and the extra
// names (addresses or DNS names, as Pods reach the API), writes it to dir
// and returns it.
func (ca *authority) issueServing(dir, host string, now time.Time, extra ...string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generating server key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "pkg-cluster"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsUnspecified() && !ip.IsLoopback() {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		}
	} else if host != "" && host != "localhost" {
		tmpl.DNSNames = append(tmpl.DNSNames, host)
	}
	for _, e := range extra {
		if ip := net.ParseIP(e); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if e != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, e)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("creating server certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("encoding server key: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	p := Paths{dir}
	if err := writeFileAtomic(p.File(ServerKeyFile), keyPEM); err != nil {
		return tls.Certificate{}, fmt.Errorf("writing server key: %w", err)
	}
	if err := writeFileAtomic(p.File(ServerCertFile), certPEM); err != nil {
		return tls.Certificate{}, fmt.Errorf("writing server certificate: %w", err)
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

// serial returns a random 127-bit certificate serial number.
func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

// writeFileAtomic writes data to path with mode 0600 through a temporary
// file, so that readers never see half a file.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
