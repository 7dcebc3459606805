package image

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzUnpack feeds arbitrary bytes to the layer extractor: it must never
// panic and never write next to its directory.
func FuzzUnpack(f *testing.F) {
	f.Add(tarBytes(f, entry{name: "a/b", body: "x"}))
	f.Add(tarBytes(f, entry{name: "../x", body: "x"}))
	f.Add(tarBytes(f, entry{name: "l", typ: tar.TypeSymlink, link: "/"}, entry{name: "l/x", body: "x"}))
	f.Add(tarBytes(f, entry{name: "h", typ: tar.TypeLink, link: "../../etc/passwd"}))
	f.Add(tarBytes(f, entry{name: "d/", typ: tar.TypeDir}, entry{name: "d/.wh..wh..opq"}, entry{name: ".wh.d"}))
	f.Add([]byte("not a tar"))
	f.Fuzz(func(t *testing.T, data []byte) {
		base := t.TempDir()
		dir := filepath.Join(base, "root")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if extractLayer(bg, bytes.NewReader(data), dir) == nil {
			// Apply what was extracted, twice, as two layers of one image.
			a := &applier{rootfs: filepath.Join(base, "rootfs"), root: os.Geteuid() == 0}
			if err := os.Mkdir(a.rootfs, 0o755); err != nil {
				t.Fatal(err)
			}
			_ = a.apply(bg, dir)
			_ = a.apply(bg, dir)
		}
		entries, err := os.ReadDir(base)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) > 2 {
			t.Fatalf("extraction wrote next to its directory: %v", entries)
		}
		removeTree(dir)
	})
}
