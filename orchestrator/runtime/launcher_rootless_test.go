package runtime

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// rootlessEnv carries, to the test binary re-run as an unprivileged
// user, the directory prepared for it.
const rootlessEnv = "PKG_TEST_LAUNCHER_ROOTLESS_DIR"

// nobody is the unprivileged user the rootless test runs as.
const nobody = 65534

// TestLauncherRootless runs the launcher without root, where it puts
// containers in user namespaces: as root, it runs this test binary again
// as an unprivileged user.
func TestLauncherRootless(t *testing.T) {
	if dir := os.Getenv(rootlessEnv); dir != "" {
		rootlessInner(t, dir)
		return
	}
	t.Parallel()
	if testing.Short() {
		t.Skip("runs containers with the built-in launcher")
	}
	if os.Geteuid() != 0 {
		// Unprivileged already: the test itself.
		root := rootfs(t)
		rootlessInner(t, filepath.Dir(root))
		return
	}
	dir, err := os.MkdirTemp("", "pkg-rootless-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	root := rootfs(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Everything the unprivileged run needs, owned by it: the rootfs, a
	// copy of this binary, and the driver's directory.
	copyFile := func(src, dst string, mode os.FileMode) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"rootfs/data", "rootfs/tmp", "rootfs/etc", "state"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(filepath.Join(root, "testapp"), filepath.Join(dir, "rootfs", "testapp"), 0o755)
	copyFile(self, filepath.Join(dir, "runtime.test"), 0o755)
	if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, nobody, nobody)
	}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(tctx(t), filepath.Join(dir, "runtime.test"), "-test.run=^TestLauncherRootless$", "-test.v", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = []string{rootlessEnv + "=" + dir, "PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the rootless run failed: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "--- SKIP") {
		t.Skipf("the rootless run skipped:\n%s", out)
	}
}

// rootlessInner is the test as the unprivileged user.
func rootlessInner(t *testing.T, dir string) {
	if os.Geteuid() == 0 {
		t.Fatal("the rootless run is root")
	}
	d, err := NewLauncherDriver(filepath.Join(dir, "state"), nil)
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	if !d.Rootless() {
		t.Fatal("the driver does not know it runs rootless")
	}
	ctx := context.Background()
	var out safeBuffer
	err = d.Start(ctx, "rl", ContainerSpec{
		Rootfs: filepath.Join(dir, "rootfs"), Args: []string{"/testapp", "-report"}, Hostname: "rootless",
		Mounts: []Mount{{Type: "tmpfs", Destination: "/scratch"}}, Stdout: &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := d.Wait(ctx, "rl")
	if err != nil || st.Code != 0 {
		t.Fatalf("exit %+v, %v\n%s", st, err, out.String())
	}
	for _, want := range []string{"pid=1\n", "hostname=rootless\n", "uid=0\n", "mount /proc proc", "mount /scratch tmpfs", "mount /dev/pts devpts"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("container output lacks %q:\n%s", want, out.String())
		}
	}
	if err := d.Remove(ctx, "rl"); err != nil {
		t.Fatal(err)
	}
	// A long-running one: exec through nsenter, signal, remove.
	if err := d.Start(ctx, "rl-long", ContainerSpec{Rootfs: filepath.Join(dir, "rootfs"), Args: []string{"/testapp", "-sleep", "1h"}}); err != nil {
		t.Fatal(err)
	}
	var ex safeBuffer
	code, err := d.Exec(ctx, "rl-long", []string{"/testapp", "-report"}, &ex, &ex)
	if err != nil || code != 0 || !strings.Contains(ex.String(), "uid=0\n") || strings.Contains(ex.String(), "pid=1\n") {
		t.Errorf("exec: %d, %v\n%s", code, err, ex.String())
	}
	if err := d.Signal(ctx, "rl-long", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st, err := d.Wait(ctx, "rl-long"); err != nil || st.Signal != syscall.SIGKILL {
		t.Errorf("after SIGKILL: %+v, %v", st, err)
	}
	if err := d.Remove(ctx, "rl-long"); err != nil {
		t.Fatal(err)
	}
	// Only uid 0 is mapped.
	if err := d.Start(ctx, "rl-user", ContainerSpec{Rootfs: filepath.Join(dir, "rootfs"), Args: []string{"/testapp"}, UID: 1000}); err == nil || !strings.Contains(err.Error(), "runAsUser 1000") {
		t.Errorf("a uid other than 0 without root: %v", err)
	}
}
