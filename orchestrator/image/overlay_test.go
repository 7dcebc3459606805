package image

import (
	"archive/tar"
	"os"
	"path/filepath"
	"testing"

	"pkg.dev/pkg/orchestrator/internal/mount"
)

// TestMountOverlay: two containers of one image each get an overlay of
// the image flattened once (whiteouts honoured), see each other's writes
// nowhere, leave the flattened tree untouched, and Unmount leaves plain
// directories. GC keeps a tree an overlay uses even once its image is
// gone, and removes it when the overlay is.
func TestMountOverlay(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting overlayfs needs root")
	}
	t.Parallel()
	host := startRegistry(t, nil)
	base := layer(t,
		entry{name: "etc/", typ: tar.TypeDir},
		entry{name: "etc/hostname", body: "base"},
		entry{name: "etc/gone", body: "x"},
	)
	top := layer(t,
		entry{name: "etc/", typ: tar.TypeDir},
		entry{name: "etc/hostname", body: "top"},
		entry{name: "etc/.wh.gone"},
	)
	ref := host + "/team/app:v1"
	push(t, ref, testImage(t, base, top))
	s := openStore(t)
	if _, err := s.Pull(bg, ref, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mountAt := func(name string) string {
		rootfs := filepath.Join(dir, name, "rootfs")
		if _, err := s.Mount(bg, ref, rootfs, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = mount.Unmount(rootfs) })
		return rootfs
	}
	a, b := mountAt("a"), mountAt("b")
	for _, r := range []string{a, b} {
		if got := readTree(t, r); got["etc/hostname"] != "top" || got["etc/gone"] != "" {
			t.Errorf("%s: %v; want etc/hostname=top and no etc/gone", r, got)
		}
	}
	if err := os.WriteFile(filepath.Join(a, "etc", "hostname"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(b, "etc", "hostname")); string(got) != "top" {
		t.Errorf("the other container sees %q", got)
	}
	flat, _ := filepath.Glob(filepath.Join(s.Dir(), "rootfs", "sha256", "*"))
	if len(flat) != 1 {
		t.Fatalf("flattened trees: %v; want one", flat)
	}
	if got, _ := os.ReadFile(filepath.Join(flat[0], "etc", "hostname")); string(got) != "top" {
		t.Errorf("the flattened tree changed: %q", got)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "a", "upper", "etc", "hostname")); string(got) != "changed" {
		t.Errorf("the write is not in the container's upper directory: %q", got)
	}

	// Mounting again starts from the image, not from the old writes.
	a = mountAt("a")
	if got, _ := os.ReadFile(filepath.Join(a, "etc", "hostname")); string(got) != "top" {
		t.Errorf("a new mount kept the old writes: %q", got)
	}

	if _, err := s.Remove(bg, ref); err != nil {
		t.Fatal(err)
	}
	if err := s.GC(bg); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(flat[0]); err != nil {
		t.Fatalf("GC removed a tree mounted overlays use: %v", err)
	}
	for _, r := range []string{a, b} {
		if err := mount.Unmount(r); err != nil {
			t.Fatal(err)
		}
		if points, _ := mount.Under(r); len(points) != 0 {
			t.Errorf("still mounted: %v", points)
		}
	}
	if err := s.GC(bg); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(flat[0]); !os.IsNotExist(err) {
		t.Errorf("GC kept the tree of a removed image nothing uses: %v", err)
	}
}
