package repo

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/chart"
)

// Provenance files are Helm's: a PGP clear-signed message whose body is
// the chart's Chart.yaml (as YAML), the YAML document end marker "...",
// and a YAML map of the archive's file name to its sha256 digest. They
// sit next to the archive as NAME-VERSION.tgz.prov.

// sums is the second document of a provenance message.
type sums struct {
	Files  map[string]string `json:"files"`
	Images map[string]string `json:"images,omitempty"`
}

// Verification is what checking a provenance file established.
type Verification struct {
	// SignedBy is the key that signed it.
	SignedBy *openpgp.Entity
	// FileName and FileHash ("sha256:HEX") are the archive's.
	FileName string
	FileHash string
}

// LoadKeyring reads a PGP keyring file (binary, as GnuPG's pubring.gpg and
// secring.gpg, or armored).
func LoadKeyring(path string) (openpgp.EntityList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err // names the file, as Helm's message does
	}
	if ring, err := openpgp.ReadKeyRing(bytes.NewReader(data)); err == nil {
		return ring, nil
	}
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("reading keyring %s: %w", path, err)
	}
	return ring, nil
}

// SigningKey finds the key named id in ring as Helm does: an identity
// equal to id, else the only identity containing it.
func SigningKey(ring openpgp.EntityList, id string) (*openpgp.Entity, error) {
	var candidate *openpgp.Entity
	vague := false
	for _, e := range ring {
		for n := range e.Identities {
			if n == id {
				return e, nil
			}
			if strings.Contains(n, id) {
				if candidate != nil && candidate != e {
					vague = true
				}
				candidate = e
			}
		}
	}
	if vague {
		return nil, fmt.Errorf("more than one key contain the id %q", id)
	}
	if candidate == nil {
		return nil, errors.New("private key not found")
	}
	return candidate, nil
}

// Sign writes ARCHIVE.prov for a chart archive with key, decrypting the
// key with passphrase (asked for with the key's identity) when it is
// encrypted. The message is Helm's, signed with SHA-512 as Helm signs.
func Sign(archive string, key *openpgp.Entity, passphrase func(name string) ([]byte, error)) (string, error) {
	if key.PrivateKey == nil {
		return "", errors.New("provided key is not a private key. Try providing a keyring with secret keys")
	}
	if key.PrivateKey.Encrypted {
		name := "Unknown"
		for n := range key.Identities {
			if n != "" {
				name = n
				break
			}
		}
		if passphrase == nil {
			return "", fmt.Errorf("key %q is encrypted: give its passphrase (--passphrase-file)", name)
		}
		p, err := passphrase(name)
		if err != nil {
			return "", err
		}
		if err := key.PrivateKey.Decrypt(p); err != nil {
			return "", fmt.Errorf("decrypting key %q: %w", name, err)
		}
	}
	msg, err := message(archive)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	w, err := clearsign.Encode(&out, key.PrivateKey, &packet.Config{DefaultHash: crypto.SHA512})
	if err != nil {
		return "", err
	}
	if _, err := w.Write(msg); err != nil {
		return "", fmt.Errorf("signing %s: %w", archive, err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("signing %s: %w", archive, err)
	}
	prov := archive + ".prov"
	if err := writeFileAtomic(prov, out.Bytes(), 0o644); err != nil {
		return "", err
	}
	return prov, nil
}

// message builds the signed text of an archive's provenance.
func message(archive string) ([]byte, error) {
	fi, err := os.Stat(archive)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, errors.New("cannot sign a directory")
	}
	c, err := chart.Load(archive)
	if err != nil {
		return nil, err
	}
	digest, err := fileDigest(archive)
	if err != nil {
		return nil, err
	}
	md, err := yaml.Marshal(c.Metadata)
	if err != nil {
		return nil, err
	}
	sc, err := yaml.Marshal(sums{Files: map[string]string{filepath.Base(archive): "sha256:" + digest}})
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(md)
	b.WriteString("\n...\n")
	b.Write(sc)
	return b.Bytes(), nil
}

func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Verify checks an archive against its provenance file with the keys of
// keyring: the signature, then the archive's digest, as `helm verify`
// does.
func Verify(archive, provfile string, ring openpgp.EntityList) (*Verification, error) {
	for _, p := range []string{archive, provfile} {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if fi.IsDir() {
			return nil, fmt.Errorf("%s cannot be a directory", p)
		}
	}
	data, err := os.ReadFile(provfile)
	if err != nil {
		return nil, err
	}
	digest, err := fileDigest(archive)
	if err != nil {
		return nil, err
	}
	return verify(filepath.Base(archive), digest, provfile, data, ring)
}

// VerifyData checks a downloaded archive, not yet written anywhere,
// against the provenance message prov: the signature with the keys of
// ring, then that the message records the archive's SHA-256 under
// fileName (the name the archive is saved as, NAME-VERSION.tgz). provName
// names the provenance file in errors (its URL, say).
func VerifyData(archive []byte, fileName string, prov []byte, provName string, ring openpgp.EntityList) (*Verification, error) {
	sum := sha256.Sum256(archive)
	return verify(fileName, hex.EncodeToString(sum[:]), provName, prov, ring)
}

// verify checks the provenance message data (named provName in errors)
// for the archive base whose SHA-256 is digest (hex).
func verify(base, digest, provName string, data []byte, ring openpgp.EntityList) (*Verification, error) {
	block, _ := clearsign.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: signature block not found", provName)
	}
	signer, err := block.VerifySignature(ring, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: the signature does not verify with the keyring: %w", provName, err)
	}
	parts := bytes.SplitN(block.Plaintext, []byte("\n...\n"), 2)
	if len(parts) != 2 {
		return nil, fmt.Errorf("%s: message block must have at least two parts", provName)
	}
	var sc sums
	if err := yaml.Unmarshal(parts[1], &sc); err != nil {
		return nil, fmt.Errorf("%s: %w", provName, err)
	}
	want, ok := sc.Files[base]
	if !ok {
		return nil, fmt.Errorf("provenance does not contain a SHA for a file named %q", base)
	}
	if got := "sha256:" + digest; got != want {
		return nil, fmt.Errorf("sha256 sum does not match for %s: %q != %q", base, want, got)
	}
	return &Verification{SignedBy: signer, FileName: base, FileHash: want}, nil
}
