package repo_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/internal/helmtest"
	"pkg.dev/pkg/repo"
)

// signedArchive packages testdata/charts/hello into a fresh directory and
// signs it with a new key; it returns the archive's path and the key.
func signedArchive(t *testing.T) (string, *openpgp.Entity) {
	t.Helper()
	c, err := chart.Load(filepath.Join(helmtest.ModuleRoot(t), "testdata", "charts", "hello"))
	if err != nil {
		t.Fatal(err)
	}
	archive, err := chart.Save(c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key, err := openpgp.NewEntity("Chart Signer", "", "signer@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Sign(archive, key, nil); err != nil {
		t.Fatal(err)
	}
	return archive, key
}

func TestVerifyData(t *testing.T) {
	t.Parallel()
	archive, key := signedArchive(t)
	data, _ := os.ReadFile(archive)
	prov, _ := os.ReadFile(archive + ".prov")
	_, stranger := signedArchive(t)
	ring := openpgp.EntityList{key}
	const name = "hello-0.1.0.tgz"
	cases := []struct {
		name    string
		data    []byte
		file    string
		prov    []byte
		ring    openpgp.EntityList
		wantErr string
	}{
		{"signed", data, name, prov, ring, ""},
		{"other bytes", append(bytes.Clone(data), 0), name, prov, ring, "sha256 sum does not match for hello-0.1.0.tgz"},
		{"other name", data, "hello-0.2.0.tgz", prov, ring, `provenance does not contain a SHA for a file named "hello-0.2.0.tgz"`},
		{"unknown signer", data, name, prov, openpgp.EntityList{stranger}, "https://x/hello-0.1.0.tgz.prov: the signature does not verify with the keyring"},
		{"not signed", data, name, []byte("name: hello\n...\nfiles: {}\n"), ring, "https://x/hello-0.1.0.tgz.prov: signature block not found"},
		{"empty", data, name, nil, ring, "signature block not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := repo.VerifyData(tc.data, tc.file, tc.prov, "https://x/hello-0.1.0.tgz.prov", tc.ring)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if v.FileName != name || !strings.HasPrefix(v.FileHash, "sha256:") || v.SignedBy != key {
					t.Errorf("verification: %+v", v)
				}
				// The same as verifying the files.
				fv, err := repo.Verify(archive, archive+".prov", ring)
				if err != nil || fv.FileHash != v.FileHash {
					t.Errorf("Verify of the files: %v %+v", err, fv)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestFetchProvenance(t *testing.T) {
	t.Parallel()
	archive, _ := signedArchive(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Dir(archive))))
	defer srv.Close()
	e := &repo.Entry{Name: "signed", URL: srv.URL}
	got, err := fetcher().FetchProvenance(context.Background(), e, srv.URL+"/hello-0.1.0.tgz", "hello-0.1.0")
	want, _ := os.ReadFile(archive + ".prov")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("FetchProvenance: %v (%d bytes, want %d)", err, len(got), len(want))
	}
	_, err = fetcher().FetchProvenance(context.Background(), e, srv.URL+"/nope-1.0.0.tgz", "nope-1.0.0")
	if !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("missing .prov: %v", err)
	}
	for _, part := range []string{`downloading provenance of chart "nope-1.0.0"`, `repository "signed"`, srv.URL + "/nope-1.0.0.tgz.prov", "404"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q lacks %q", err, part)
		}
	}
}
