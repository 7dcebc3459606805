package cli_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"pkg.dev/pkg/cmd/pkg/internal/cli"
)

// imageFixture builds a one-layer linux/amd64 image.
func imageFixture(t *testing.T, body string) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "hello", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))})
	tw.Write([]byte(body))
	tw.Close()
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func runImage(t *testing.T, data string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	env := cli.Env{Streams: cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb}}
	code := cli.Run(t.Context(), env, append(append([]string{"image"}, args...), "--data-dir", data))
	return out.String(), errb.String(), code
}

func TestImageCommands(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	img := imageFixture(t, "from an archive")
	archive := filepath.Join(t.TempDir(), "app.tar")
	tag, _ := name.NewTag("example.com/team/app:v1")
	if err := tarball.WriteToFile(archive, tag, img); err != nil {
		t.Fatal(err)
	}
	out, errs, code := runImage(t, data, "load", archive)
	if code != 0 || out != "Loaded image: example.com/team/app:v1\n" {
		t.Fatalf("load: code %d, out %q, err %q", code, out, errs)
	}

	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	pulled := imageFixture(t, "from a registry")
	ref, _ := name.ParseReference(host + "/pulled:2")
	if err := remote.Write(ref, pulled); err != nil {
		t.Fatal(err)
	}
	out, errs, code = runImage(t, data, "pull", host+"/pulled:2")
	cfg, _ := pulled.ConfigName()
	if code != 0 || out != "Image is up to date for "+cfg.String()+"\n" {
		t.Fatalf("pull: code %d, out %q, err %q", code, out, errs)
	}

	out, _, code = runImage(t, data, "ls")
	id, _ := img.ConfigName()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 {
		t.Fatalf("ls: code %d, out:\n%s", code, out)
	}
	// Rows are sorted by reference: "127.0.0.1:..." before "example.com".
	for i, want := range [][]string{
		{"IMAGE", "TAG", "IMAGE", "ID", "SIZE"},
		{host + "/pulled", "2", cfg.Hex[:13]},
		{"example.com/team/app", "v1", id.Hex[:13]},
	} {
		f := strings.Fields(lines[i])
		for j, w := range want {
			if j >= len(f) || f[j] != w {
				t.Errorf("ls line %d = %q, want fields %v", i, lines[i], want)
				break
			}
		}
	}

	out, _, code = runImage(t, data, "ls", "-o", "json")
	var list struct {
		Images []struct {
			ID       string   `json:"id"`
			RepoTags []string `json:"repoTags"`
			Size     int64    `json:"size"`
		} `json:"images"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list.Images) != 2 || list.Images[1].ID != id.String() || list.Images[1].Size == 0 {
		t.Errorf("ls -o json: code %d, out %s", code, out)
	}
	if out, _, code = runImage(t, data, "ls", "-o", "yaml"); code != 0 || !strings.Contains(out, "repoTags:") {
		t.Errorf("ls -o yaml: code %d, out %s", code, out)
	}

	out, errs, code = runImage(t, data, "rm", "example.com/team/app:v1")
	if code != 0 || !strings.Contains(out, "Deleted: example.com/team/app:v1\n") {
		t.Errorf("rm: code %d, out %q, err %q", code, out, errs)
	}
	if out, _, _ = runImage(t, data, "ls"); strings.Contains(out, "example.com/team/app") || !strings.Contains(out, "/pulled") {
		t.Errorf("ls after rm:\n%s", out)
	}
	if _, errs, code = runImage(t, data, "rm", "example.com/team/app:v1"); code == 0 || !strings.Contains(errs, "not found") {
		t.Errorf("rm again: code %d, err %q", code, errs)
	}
	if _, errs, code = runImage(t, data, "load"); code == 0 || !strings.Contains(errs, "requires at least 1 argument") {
		t.Errorf("load without args: code %d, err %q", code, errs)
	}
	if _, errs, code = runImage(t, data, "pull", host+"/missing:1"); code == 0 || !strings.Contains(errs, "not found") {
		t.Errorf("pull missing: code %d, err %q", code, errs)
	}
}
