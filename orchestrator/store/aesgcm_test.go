package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAESGCM(t *testing.T) {
	t.Parallel()
	a, err := NewAESGCM(bytes.Repeat([]byte{7}, AESKeySize))
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewAESGCM(bytes.Repeat([]byte{8}, AESKeySize))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"data":{"password":"hunter2"}}`)
	sealed, err := a.Seal("/registry/secrets/ns/a", plain)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := a.Seal("/registry/secrets/ns/a", plain)
	if bytes.Equal(sealed, again) {
		t.Error("two seals of one value are equal: nonces are reused")
	}
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Error("sealed value contains the plaintext")
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1

	tests := []struct {
		name   string
		a      *AESGCM
		key    string
		sealed []byte
		ok     bool
	}{
		{"round trip", a, "/registry/secrets/ns/a", sealed, true},
		{"other object key", a, "/registry/secrets/ns/b", sealed, false},
		{"other encryption key", other, "/registry/secrets/ns/a", sealed, false},
		{"tampered", a, "/registry/secrets/ns/a", tampered, false},
		{"truncated", a, "/registry/secrets/ns/a", sealed[:len(aesMagic)+5], false},
		{"plaintext", a, "/registry/secrets/ns/a", plain, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.a.Open(tt.key, tt.sealed)
			if tt.ok != (err == nil) {
				t.Fatalf("Open: err = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && !bytes.Equal(got, plain) {
				t.Errorf("Open = %q, want %q", got, plain)
			}
		})
	}
	if _, err := NewAESGCM(make([]byte, 16)); err == nil {
		t.Error("NewAESGCM accepted a 16-byte key")
	}
}

func TestLoadAESGCM(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), KeyFile)
	a, err := LoadAESGCM(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want mode 0600", err, fi.Mode())
	}
	sealed, err := a.Seal("k", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadAESGCM(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.Open("k", sealed); err != nil || string(got) != "v" {
		t.Fatalf("reloaded key opens %q, %v", got, err)
	}
	if err := os.WriteFile(path, []byte("%%%"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadAESGCM(path); err == nil || !strings.Contains(err.Error(), "not base64") {
		t.Errorf("garbage key file: err = %v", err)
	}
}

// TestSecretsEncryptedAtRest reads the database file itself: the secret's
// plaintext must not be in it, while a config map's is (which shows the
// search works).
func TestSecretsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	opts := Options{SealedPrefixes: []string{"/registry/secrets/"}}
	const secret = "s3cr3t-password-4a6f1b"
	const config = "plain-config-value-9c2e7d"
	s, err := Open(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Watch(ctx, "/registry/", 0)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "/registry/secrets/ns/db", `{"password":"`+secret+`"}`)
	mustCreate(t, s, "/registry/configmaps/ns/db", `{"setting":"`+config+`"}`)
	if _, err := s.Update(ctx, "/registry/secrets/ns/db", []byte(`{"password":"`+secret+`-2"}`), 0); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "/registry/secrets/ns/gone", secret+"-gone")
	deleted, err := s.Delete(ctx, "/registry/secrets/ns/gone", 0)
	if err != nil || string(deleted.Value) != secret+"-gone" {
		t.Fatalf("Delete = %q, %v", deleted.Value, err)
	}
	// Watchers and lists see plaintext.
	if ev := receive(t, w); !strings.Contains(string(ev.Object.Value), secret) {
		t.Errorf("watch event %s is not plaintext", describe(ev))
	}
	w.Stop()
	res, err := s.List(ctx, "/registry/secrets/", ListOptions{})
	if err != nil || len(res.Items) != 1 || !strings.Contains(string(res.Items[0].Value), secret+"-2") {
		t.Fatalf("List = %+v, %v", res, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(filepath.Join(dir, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(config)) {
		t.Fatal("the config map's plaintext is not in the file: the search cannot see values")
	}
	if bytes.Contains(raw, []byte(secret)) {
		t.Fatal("the secret's plaintext is in the database file")
	}
	if !bytes.Contains(raw, []byte(aesMagic)) {
		t.Error("no sealed value in the database file")
	}

	// The key persists across restarts.
	s = openDir(t, dir, opts)
	kv, err := s.Get(ctx, "/registry/secrets/ns/db")
	if err != nil || string(kv.Value) != `{"password":"`+secret+`-2"}` {
		t.Fatalf("Get after restart = %q, %v", kv.Value, err)
	}
}

func TestSealedValueNeedsKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, dir, Options{SealedPrefixes: []string{"/registry/secrets/"}})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "/registry/secrets/ns/a", "v")
	mustCreate(t, s, "/registry/configmaps/ns/a", "v")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	t.Run("no transformer", func(t *testing.T) {
		s := openDir(t, dir, Options{})
		if _, err := s.Get(ctx, "/registry/secrets/ns/a"); err == nil || !strings.Contains(err.Error(), "encrypted") {
			t.Errorf("Get without a transformer: err = %v", err)
		}
		if _, err := s.List(ctx, "/registry/secrets/", ListOptions{}); err == nil {
			t.Error("List without a transformer succeeded")
		}
		if _, err := s.Get(ctx, "/registry/configmaps/ns/a"); err != nil {
			t.Errorf("plain values must stay readable: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		if err := os.Remove(filepath.Join(dir, KeyFile)); err != nil {
			t.Fatal(err)
		}
		s := openDir(t, dir, Options{SealedPrefixes: []string{"/registry/secrets/"}})
		_, err := s.Get(ctx, "/registry/secrets/ns/a")
		if err == nil || !strings.Contains(err.Error(), "wrong key") {
			t.Errorf("Get with another key: err = %v", err)
		}
		if _, err := s.Update(ctx, "/registry/secrets/ns/a", []byte("w"), 0); err == nil {
			t.Error("Update of a value that cannot be opened succeeded")
		}
		if errors.Is(err, ErrNotFound) {
			t.Error("an unreadable value was reported as missing")
		}
	})
}
