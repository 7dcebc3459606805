package image

import (
	"archive/tar"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestUnpackAsNonRoot checks what a rootless node gets: no device nodes,
// no set-id bits, every file readable by its owner, and read-only trees
// that garbage collection can still remove. Run as root, it re-runs itself
// as the user nobody.
func TestUnpackAsNonRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		dir, err := os.MkdirTemp("", "pkg-image-nonroot-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(dir, "image.test")
		if err := copyExecutable(os.Args[0], bin); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-test.run=^TestUnpackAsNonRoot$", "-test.v")
		cmd.Dir = dir
		cmd.Env = []string{"PKG_IMAGE_NONROOT_DIR=" + dir, "PATH=/usr/bin:/bin"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestUnpackAsNonRoot") {
			t.Fatalf("as nobody: %v\n%s", err, out)
		}
		return
	}
	base := os.Getenv("PKG_IMAGE_NONROOT_DIR")
	if base == "" {
		base = t.TempDir()
	}
	s, err := Open(filepath.Join(base, "images"))
	if err != nil {
		t.Fatal(err)
	}
	img := testImage(t, layer(t,
		entry{name: "ro/", typ: tar.TypeDir, mode: 0o555},
		entry{name: "ro/secret", body: "s", mode: 0o000},
		entry{name: "suid", body: "x", mode: 0o4755},
		entry{name: "dev/null", typ: tar.TypeChar, mode: 0o666},
		entry{name: "fifo", typ: tar.TypeFifo, mode: 0o644},
	))
	if _, err := s.write(bg, img, []Reference{{Repo: "example.com/rootless", Tag: "1"}}, nil); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(base, "rootfs")
	if _, err := s.Unpack(bg, "example.com/rootless:1", root, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "ro/secret")); err != nil || string(b) != "s" {
		t.Errorf("ro/secret: %q, %v; want it readable", b, err)
	}
	if fi, err := os.Stat(filepath.Join(root, "suid")); err != nil || fi.Mode()&os.ModeSetuid != 0 || fi.Mode().Perm() != 0o755 {
		t.Errorf("suid: %v, %v; want 0755 without set-uid", fi.Mode(), err)
	}
	if _, err := os.Lstat(filepath.Join(root, "dev/null")); !os.IsNotExist(err) {
		t.Errorf("dev/null: %v; want no device node", err)
	}
	if fi, err := os.Lstat(filepath.Join(root, "fifo")); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("fifo: %v, %v", fi, err)
	}
	if _, err := s.Remove(bg, "example.com/rootless:1"); err != nil {
		t.Fatal(err)
	}
	if e, _ := os.ReadDir(filepath.Join(s.Dir(), "layers", "sha256")); len(e) != 0 {
		t.Errorf("layer cache not collected: %v", e)
	}
	if err := removeTree(root); err != nil {
		t.Errorf("removing the root filesystem: %v", err)
	}
}

func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
