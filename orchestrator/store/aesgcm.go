package store

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// AESKeySize is the length in bytes of an AESGCM key (AES-256).
const AESKeySize = 32

// aesMagic starts every value sealed by AESGCM, naming the scheme so that a
// later key rotation or scheme change can recognise old values.
const aesMagic = "pkg:aesgcm:v1:"

// AESGCM is a Transformer using AES-256 in Galois/Counter Mode with a random
// 96-bit nonce per value and the object's key as additional authenticated
// data. Sealed values are aesMagic, the nonce, then the ciphertext and tag.
type AESGCM struct {
	aead cipher.AEAD
}

var _ Transformer = (*AESGCM)(nil)

// NewAESGCM returns an AESGCM using key, which must be AESKeySize bytes.
func NewAESGCM(key []byte) (*AESGCM, error) {
	if len(key) != AESKeySize {
		return nil, fmt.Errorf("aes-gcm key is %d bytes, want %d", len(key), AESKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes-gcm key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("aes-gcm key: %w", err)
	}
	return &AESGCM{aead: aead}, nil
}

// LoadAESGCM returns an AESGCM whose key is read from path, a file holding
// the key in standard base64. If path does not exist, a random key is
// written there first, with mode 0600. Losing the file loses every value
// sealed with it.
func LoadAESGCM(path string) (*AESGCM, error) {
	text, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		text, err = createKeyFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("loading encryption key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(text)))
	if err != nil {
		return nil, fmt.Errorf("loading encryption key %s: not base64: %w", path, err)
	}
	a, err := NewAESGCM(key)
	if err != nil {
		return nil, fmt.Errorf("loading encryption key %s: %w", path, err)
	}
	return a, nil
}

// createKeyFile writes a fresh random key to path atomically: a temporary
// file is synced and renamed into place, so a crash never leaves a partial
// key behind.
func createKeyFile(path string) ([]byte, error) {
	key := make([]byte, AESKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	text := []byte(base64.StdEncoding.EncodeToString(key) + "\n")
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, err
	}
	if _, err := tmp.Write(text); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, err
	}
	return text, syncDir(filepath.Dir(path))
}

// Seal encrypts plain, authenticating key with it.
func (a *AESGCM) Seal(key string, plain []byte) ([]byte, error) {
	ns := a.aead.NonceSize()
	out := make([]byte, len(aesMagic)+ns, len(aesMagic)+ns+len(plain)+a.aead.Overhead())
	copy(out, aesMagic)
	nonce := out[len(aesMagic):]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("sealing %s: %w", key, err)
	}
	return a.aead.Seal(out, nonce, plain, []byte(key)), nil
}

// Open decrypts a value sealed by Seal under the same key.
func (a *AESGCM) Open(key string, sealed []byte) ([]byte, error) {
	rest, ok := bytes.CutPrefix(sealed, []byte(aesMagic))
	if !ok {
		return nil, fmt.Errorf("opening %s: value is not sealed with aes-gcm", key)
	}
	ns := a.aead.NonceSize()
	if len(rest) < ns+a.aead.Overhead() {
		return nil, fmt.Errorf("opening %s: sealed value is truncated", key)
	}
	plain, err := a.aead.Open(nil, rest[:ns], rest[ns:], []byte(key))
	if err != nil {
		return nil, fmt.Errorf("opening %s: wrong key or corrupted value: %w", key, err)
	}
	return plain, nil
}

// syncDir fsyncs a directory so that a rename or create in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
