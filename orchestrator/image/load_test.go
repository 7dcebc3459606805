package image

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// writeDockerSave writes img as `docker save` would, under tags.
func writeDockerSave(t *testing.T, file string, img v1.Image, tags ...string) {
	t.Helper()
	refs := map[name.Reference]v1.Image{}
	for _, tg := range tags {
		r, err := name.NewTag(tg)
		if err != nil {
			t.Fatal(err)
		}
		refs[r] = img
	}
	if err := tarball.MultiRefWriteToFile(file, refs); err != nil {
		t.Fatal(err)
	}
}

// writeOCIArchive writes img as an OCI image layout tarball named ref.
func writeOCIArchive(t *testing.T, file string, img v1.Image, annotations map[string]string) {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(annotations)); err != nil {
		t.Fatal(err)
	}
	tarDir(t, dir, file)
}

func tarDir(t *testing.T, dir, file string) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

func gzipFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(out)
	if _, err := io.Copy(zw, in); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	out.Close()
}

func TestLoadArchives(t *testing.T) {
	t.Parallel()
	img := testImage(t,
		layer(t, entry{name: "bin/app", body: "app", mode: 0o755}),
		layer(t, entry{name: "etc/motd", body: "hello"}),
	)
	cfgName, _ := img.ConfigName()
	tests := []struct {
		name     string
		write    func(t *testing.T, file string)
		wantTags []string
	}{
		{"docker save", func(t *testing.T, file string) {
			writeDockerSave(t, file, img, "example.com/app:v1")
		}, []string{"example.com/app:v1"}},
		{"docker save two tags, short names", func(t *testing.T, file string) {
			writeDockerSave(t, file, img, "app:v1", "app:latest")
		}, []string{"docker.io/library/app:latest", "docker.io/library/app:v1"}},
		{"docker save gzipped", func(t *testing.T, file string) {
			writeDockerSave(t, file+".plain", img, "localhost:5000/app:v2")
			gzipFile(t, file+".plain", file)
		}, []string{"localhost:5000/app:v2"}},
		{"OCI layout, containerd name", func(t *testing.T, file string) {
			writeOCIArchive(t, file, img, map[string]string{annotationContainerdName: "docker.io/library/app:oci", annotationRefName: "oci"})
		}, []string{"docker.io/library/app:oci"}},
		{"OCI layout, full ref name", func(t *testing.T, file string) {
			writeOCIArchive(t, file, img, map[string]string{annotationRefName: "registry.example/team/app:2"})
		}, []string{"registry.example/team/app:2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "image.tar")
			tt.write(t, file)
			s := openStore(t)
			imgs, err := s.Load(bg, file, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(imgs) != 1 {
				t.Fatalf("loaded %d images, want 1", len(imgs))
			}
			got := imgs[0]
			if got.ID != cfgName.String() {
				t.Errorf("ID = %s, want %s", got.ID, cfgName)
			}
			if strings.Join(got.RepoTags, ",") != strings.Join(tt.wantTags, ",") {
				t.Errorf("RepoTags = %v, want %v", got.RepoTags, tt.wantTags)
			}
			root := filepath.Join(t.TempDir(), "rootfs")
			if _, err := s.Unpack(bg, tt.wantTags[0], root, UnpackOptions{}); err != nil {
				t.Fatal(err)
			}
			if tree := readTree(t, root); tree["bin/app"] != "app" || tree["etc/motd"] != "hello" {
				t.Errorf("rootfs = %v", tree)
			}
			if _, err := s.Get(bg, got.ID[len("sha256:"):][:12]); err != nil {
				t.Errorf("by short image ID: %v", err)
			}
		})
	}
}

func TestLoadRefusesBadArchives(t *testing.T) {
	t.Parallel()
	img := testImage(t, layer(t, entry{name: "f", body: "f"}))
	tests := []struct {
		name  string
		write func(t *testing.T, file string)
		want  string
	}{
		{"not an archive", func(t *testing.T, file string) {
			os.WriteFile(file, []byte("hello"), 0o644)
		}, "reading archive"},
		{"plain tar", func(t *testing.T, file string) {
			os.WriteFile(file, tarBytes(t, entry{name: "x", body: "x"}), 0o644)
		}, "neither manifest.json nor index.json"},
		{"OCI layout without a name", func(t *testing.T, file string) {
			writeOCIArchive(t, file, img, nil)
		}, "has no full name"},
		{"OCI layout with a tag only", func(t *testing.T, file string) {
			writeOCIArchive(t, file, img, map[string]string{annotationRefName: "v1"})
		}, "has no full name"},
		{"missing file", func(t *testing.T, file string) {}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "image.tar")
			tt.write(t, file)
			_, err := openStore(t).Load(bg, file, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
}

func TestRemoveCollectsGarbage(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	shared := layer(t, entry{name: "shared", body: "base"})
	a := testImage(t, shared, layer(t, entry{name: "a", body: "a"}))
	b := testImage(t, shared, layer(t, entry{name: "b", body: "b"}))
	for ref, img := range map[string]v1.Image{"example.com/a:1": a, "example.com/b:1": b} {
		r, _ := ParseReference(ref)
		if _, err := s.write(bg, img, []Reference{r}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Unpack(bg, ref, filepath.Join(t.TempDir(), "root"), UnpackOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// A second tag of a keeps it alive when the first goes.
	if err := s.updateRefs(func(m map[string]string) error {
		m["example.com/a:2"] = m["example.com/a:1"]
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	count := func(sub string) int {
		e, _ := os.ReadDir(filepath.Join(s.Dir(), sub, "sha256"))
		return len(e)
	}
	// 2 manifests + 2 configs + 3 layers; 3 unpacked layers.
	if count("blobs") != 7 || count("layers") != 3 {
		t.Fatalf("before: %d blobs, %d layers; want 7, 3", count("blobs"), count("layers"))
	}
	if _, err := s.Remove(bg, "example.com/a:1"); err != nil {
		t.Fatal(err)
	}
	if count("blobs") != 7 {
		t.Errorf("removing one of two tags deleted blobs: %d left", count("blobs"))
	}
	removed, err := s.Remove(bg, "example.com/a:2")
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 2 { // the tag and the digest reference
		t.Errorf("removed %v, want the tag and its digest reference", removed)
	}
	if count("blobs") != 4 || count("layers") != 2 {
		t.Errorf("after: %d blobs, %d layers; want 4, 2", count("blobs"), count("layers"))
	}
	if _, err := s.Get(bg, "example.com/a:1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("removed image: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Unpack(bg, "example.com/b:1", filepath.Join(t.TempDir(), "root"), UnpackOptions{}); err != nil {
		t.Errorf("the other image broke: %v", err)
	}
	if _, err := s.Remove(bg, "example.com/nope:1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing a missing image: err = %v, want ErrNotFound", err)
	}
	list, _ := s.List(bg)
	if len(list) != 1 || list[0].RepoTags[0] != "example.com/b:1" {
		t.Errorf("List = %+v", list)
	}
}

func TestRemoveByID(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	img := testImage(t, layer(t, entry{name: "f", body: "by id"}))
	refs := []Reference{{Repo: "example.com/x", Tag: "1"}, {Repo: "example.com/x", Tag: "2"}}
	if _, err := s.write(bg, img, refs, nil); err != nil {
		t.Fatal(err)
	}
	cfg, _ := img.ConfigName()
	removed, err := s.Remove(bg, cfg.Hex[:12])
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 3 { // two tags and the digest reference
		t.Errorf("removed %v, want both tags and the digest reference", removed)
	}
	if list, _ := s.List(bg); len(list) != 0 {
		t.Errorf("List after removing by ID = %v", list)
	}
	if e, _ := os.ReadDir(filepath.Join(s.Dir(), "blobs", "sha256")); len(e) != 0 {
		t.Errorf("%d blobs left", len(e))
	}
}

// TestLoadDockerSaveUncompressed loads an archive laid out as `docker save`
// writes it: uncompressed layer.tar files and a manifest.json, no manifest
// digests at all.
func TestLoadDockerSaveUncompressed(t *testing.T) {
	t.Parallel()
	layerTar := tarBytes(t, entry{name: "etc/", typ: tar.TypeDir}, entry{name: "etc/os-release", body: "ID=test"})
	diffID := sha256Hex(layerTar)
	config := `{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:` + diffID + `"]}}`
	configHex := sha256Hex([]byte(config))
	manifest := `[{"Config":"` + configHex + `.json","RepoTags":["docker.io/library/saved:1"],"Layers":["` + diffID + `/layer.tar"]}]`
	file := filepath.Join(t.TempDir(), "saved.tar")
	os.WriteFile(file, tarBytes(t,
		entry{name: diffID + "/", typ: tar.TypeDir},
		entry{name: diffID + "/layer.tar", body: string(layerTar)},
		entry{name: configHex + ".json", body: config},
		entry{name: "manifest.json", body: manifest},
		entry{name: "repositories", body: `{"saved":{"1":"` + diffID + `"}}`},
	), 0o644)
	s := openStore(t)
	imgs, err := s.Load(bg, file, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 1 || imgs[0].ID != "sha256:"+configHex || imgs[0].Config.Cmd[0] != "/bin/sh" {
		t.Fatalf("loaded %+v", imgs)
	}
	// Stored as they came: uncompressed, under their diffID.
	if l := imgs[0].Layers[0]; l.Digest != "sha256:"+diffID || l.DiffID != l.Digest || l.MediaType != "application/vnd.oci.image.layer.v1.tar" || l.Size != int64(len(layerTar)) {
		t.Errorf("layer = %+v", l)
	}
	root := filepath.Join(t.TempDir(), "rootfs")
	if _, err := s.Unpack(bg, "saved:1", root, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := readTree(t, root)["etc/os-release"]; got != "ID=test" {
		t.Errorf("etc/os-release = %q", got)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
