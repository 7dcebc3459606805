package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// writeKeyrings makes a signing key and writes its secret and public
// keyrings (binary, as GnuPG's), encrypting the secret one when
// passphrase is set.
func writeKeyrings(t *testing.T, dir, passphrase string) (secring, pubring string) {
	t.Helper()
	e, err := openpgp.NewEntity("Chart Signer", "test", "signer@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	if err := e.Serialize(&pub); err != nil {
		t.Fatal(err)
	}
	if passphrase != "" {
		if err := e.EncryptPrivateKeys([]byte(passphrase), nil); err != nil {
			t.Fatal(err)
		}
	}
	var sec bytes.Buffer
	if err := e.SerializePrivateWithoutSigning(&sec, nil); err != nil {
		t.Fatal(err)
	}
	secring, pubring = filepath.Join(dir, "secring.gpg"), filepath.Join(dir, "pubring.gpg")
	if err := os.WriteFile(secring, sec.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubring, pub.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return secring, pubring
}

// TestSignAndVerifyWithHelm: pkg package --sign writes a .prov helm
// verify accepts, and pkg verify accepts helm's, printing what helm
// prints; a tampered archive fails both; install --verify checks a local
// archive.
func TestSignAndVerifyWithHelm(t *testing.T) {
	helmRef(t)
	hello := filepath.Join(chartsDir(t), "hello")
	for _, passphrase := range []string{"", "s3cret"} {
		dir := t.TempDir()
		secring, pubring := writeKeyrings(t, dir, passphrase)
		pfile := filepath.Join(dir, "pass")
		if err := os.WriteFile(pfile, []byte(passphrase+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		signArgs := func(dest string) []string {
			a := []string{"package", hello, "-d", dest, "--sign", "--key", "Chart Signer", "--keyring", secring}
			if passphrase != "" {
				a = append(a, "--passphrase-file", pfile)
			}
			return a
		}
		sb := newSandbox(t)
		ours, theirs := filepath.Join(dir, "ours"), filepath.Join(dir, "theirs")
		if o := runPkg(t, sb, "", signArgs(ours)...); o.code != 0 {
			t.Fatalf("pkg package --sign: %s", o.stderr)
		}
		if o := runHelm(t, sb, dir, "", signArgs(theirs)...); o.code != 0 {
			t.Fatalf("helm package --sign: %s", o.stderr)
		}
		for _, d := range []string{ours, theirs} {
			archive := filepath.Join(d, "hello-0.1.0.tgz")
			h := runHelm(t, sb, dir, "", "verify", archive, "--keyring", pubring)
			p := runPkg(t, sb, "", "verify", archive, "--keyring", pubring)
			if h.code != 0 || p.code != 0 || h.stdout != p.stdout {
				t.Errorf("verify %s (passphrase %q): helm %d %q %s / pkg %d %q %s", d, passphrase, h.code, h.stdout, h.stderr, p.code, p.stdout, p.stderr)
			}
			if !strings.Contains(p.stdout, "Signed by: Chart Signer (test) <signer@example.com>") {
				t.Errorf("pkg verify output: %s", p.stdout)
			}
		}
		// install --verify (client dry run: no cluster needed to render).
		if o := runPkg(t, sb, "", "template", "r", filepath.Join(ours, "hello-0.1.0.tgz"), "--verify", "--keyring", pubring); o.code != 0 {
			t.Errorf("template --verify of a signed archive: %s", o.stderr)
		}
	}
	// Tampering: both refuse.
	dir := t.TempDir()
	secring, pubring := writeKeyrings(t, dir, "")
	sb := newSandbox(t)
	if o := runPkg(t, sb, "", "package", hello, "-d", dir, "--sign", "--key", "Chart Signer", "--keyring", secring); o.code != 0 {
		t.Fatal(o.stderr)
	}
	archive := filepath.Join(dir, "hello-0.1.0.tgz")
	data, _ := os.ReadFile(archive)
	if err := os.WriteFile(archive, append(data, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	h := runHelm(t, sb, dir, "", "verify", archive, "--keyring", pubring)
	p := runPkg(t, sb, "", "verify", archive, "--keyring", pubring)
	if h.code == 0 || p.code == 0 || !strings.Contains(p.stderr, "sha256 sum does not match for hello-0.1.0.tgz") {
		t.Errorf("tampered archive: helm %d %s / pkg %d %s", h.code, h.stderr, p.code, p.stderr)
	}
	if o := runPkg(t, sb, "", "template", "r", archive, "--verify", "--keyring", pubring); o.code == 0 {
		t.Error("template --verify accepted a tampered archive")
	}
	// A key that does not sign: verify fails naming the keyring problem.
	_, other := writeKeyrings(t, t.TempDir(), "")
	if o := runPkg(t, sb, "", "verify", filepath.Join(dir, "hello-0.1.0.tgz"), "--keyring", other); o.code == 0 {
		t.Error("verify accepted a signature from a key outside the keyring")
	}
}
