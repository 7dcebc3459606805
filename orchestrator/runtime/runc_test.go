package runtime

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"pkg.dev/pkg/internal/testbuild"
)

// safeBuffer is a bytes.Buffer written by a container and read by a test.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// rootfs returns a root filesystem holding only the static test program
// (testdata/testapp) at /testapp, and a /data directory.
func rootfs(t testing.TB) string {
	t.Helper()
	testappPath, err := testbuild.Program("testdata/testapp")
	if err != nil {
		t.Fatalf("building testapp: %v", err)
	}
	root := filepath.Join(t.TempDir(), "rootfs")
	for _, d := range []string{"data", "tmp", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin, err := os.ReadFile(testappPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "testapp"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

// newRunc returns a runc driver, or skips saying why it cannot run here;
// with PKG_REQUIRE_RUNC=1 (CI, as root) a missing runc fails instead.
func newRunc(t *testing.T) *RuncDriver {
	t.Helper()
	if testing.Short() {
		t.Skip("runs containers with runc")
	}
	d, err := NewRuncDriver(t.TempDir(), "", nil)
	if err != nil {
		if os.Getenv("PKG_REQUIRE_RUNC") == "1" {
			t.Fatalf("runc is required here (PKG_REQUIRE_RUNC=1): %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	t.Cleanup(func() {
		infos, _ := d.List(context.Background())
		for _, i := range infos {
			_ = d.Remove(context.Background(), i.ID)
		}
	})
	return d
}

func tctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRuncRunsAndReportsExit(t *testing.T) {
	t.Parallel()
	d := newRunc(t)
	ctx := tctx(t)
	var out safeBuffer
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "greeting"), []byte("hi from a volume\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := d.Start(ctx, "report", ContainerSpec{
		Rootfs:   rootfs(t),
		Args:     []string{"/testapp", "-report"},
		Env:      []string{"GREETING=hello"},
		Cwd:      "/data",
		UID:      1000,
		GID:      1000,
		Hostname: "web-0",
		Mounts:   []Mount{{Source: data, Destination: "/data", ReadOnly: true}, {Type: "tmpfs", Destination: "/scratch"}},
		Stdout:   &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := d.Wait(ctx, "report")
	if err != nil || st.Code != 0 {
		t.Fatalf("exit %+v, %v\n%s", st, err, out.String())
	}
	for _, want := range []string{
		"pid=1\n", "hostname=web-0\n", "uid=1000\n", "gid=1000\n", "cwd=/data\n",
		"env GREETING=hello\n", "env PATH=", "mount /data ", "mount /scratch tmpfs",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("container output lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(out.String(), "mount /data ext4 ro") && !regexpMatch(`mount /data \S+ ro`, out.String()) {
		t.Errorf("/data is not read-only:\n%s", out.String())
	}

	if err := d.Start(ctx, "exit3", ContainerSpec{Rootfs: rootfs(t), Args: []string{"/testapp", "-exit", "3"}}); err != nil {
		t.Fatal(err)
	}
	if st, err := d.Wait(ctx, "exit3"); err != nil || st.Code != 3 || st.Signal != 0 {
		t.Errorf("exit status %+v, %v; want code 3", st, err)
	}
	if err := d.Start(ctx, "exit3", ContainerSpec{Rootfs: rootfs(t), Args: []string{"/testapp"}}); !errors.Is(err, ErrExists) {
		t.Errorf("starting a second container with the same id: %v, want ErrExists", err)
	}
	for _, id := range []string{"report", "exit3"} {
		if err := d.Remove(ctx, id); err != nil {
			t.Errorf("remove %s: %v", id, err)
		}
	}
	if _, err := os.Stat(d.bundle("report")); !os.IsNotExist(err) {
		t.Errorf("bundle left behind: %v", err)
	}
}

func TestRuncSignalExecAndRemoveLeaveNothing(t *testing.T) {
	t.Parallel()
	d := newRunc(t)
	ctx := tctx(t)
	var out safeBuffer
	if err := d.Start(ctx, "server", ContainerSpec{Rootfs: rootfs(t), Args: []string{"/testapp", "-sleep", "1h"}, Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	infos, err := d.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	for _, i := range infos {
		if i.ID == "server" && i.Status == StatusRunning {
			pid = i.Pid
		}
	}
	if pid == 0 {
		t.Fatalf("List does not show the running container: %+v", infos)
	}
	code, err := d.Exec(ctx, "server", []string{"/testapp", "-exit", "7"}, nil, nil)
	if err != nil || code != 7 {
		t.Errorf("exec: code %d, %v; want 7", code, err)
	}
	if err := d.Signal(ctx, "server", syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	st, err := d.Wait(ctx, "server")
	if err != nil || st.Code != 0 || !strings.Contains(out.String(), "terminated") {
		t.Errorf("after SIGTERM: %+v, %v, output %q", st, err, out.String())
	}
	if err := d.Remove(ctx, "server"); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("process %d still exists after Remove", pid)
	}
	if cg := filepath.Join("/sys/fs/cgroup/memory/pkg/server"); exists(cg) {
		t.Errorf("cgroup %s left behind", cg)
	}
	if cg := filepath.Join("/sys/fs/cgroup/pkg/server"); exists(cg) {
		t.Errorf("cgroup %s left behind", cg)
	}
}

func TestRuncMemoryLimitOOMKills(t *testing.T) {
	t.Parallel()
	d := newRunc(t)
	ctx := tctx(t)
	err := d.Start(ctx, "hog", ContainerSpec{
		Rootfs:    rootfs(t),
		Args:      []string{"/testapp", "-eat-mib", "200"},
		Resources: Resources{MemoryLimit: 32 << 20, CPULimitMilli: 500, CPURequestMilli: 100, PidsLimit: 64},
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := d.Wait(ctx, "hog")
	if err != nil {
		t.Fatal(err)
	}
	if st.Code != 137 || !st.OOMKilled {
		t.Errorf("exit %+v, want 137 and OOMKilled", st)
	}
}

func TestRuncAdoptsContainersAfterRestart(t *testing.T) {
	t.Parallel()
	d := newRunc(t)
	ctx := tctx(t)
	if err := d.Start(ctx, "long", ContainerSpec{Rootfs: rootfs(t), Args: []string{"/testapp", "-sleep", "1h"}}); err != nil {
		t.Fatal(err)
	}
	// A new driver over the same directory: the orchestrator restarted.
	again, err := NewRuncDriver(d.Dir, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	infos, err := again.List(ctx)
	if err != nil || len(infos) != 1 || infos[0].ID != "long" || infos[0].Status != StatusRunning {
		t.Fatalf("after a restart List gives %+v, %v", infos, err)
	}
	done := make(chan ExitStatus, 1)
	go func() {
		st, _ := again.Wait(ctx, "long")
		done <- st
	}()
	if err := again.Signal(ctx, "long", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case st := <-done:
		if !st.Unknown {
			t.Errorf("adopted container's exit %+v: want Unknown", st)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait on an adopted container did not return")
	}
	if err := again.Remove(ctx, "long"); err != nil {
		t.Fatal(err)
	}
}

func TestRuncRefusesBadInput(t *testing.T) {
	t.Parallel()
	d := newRunc(t)
	ctx := tctx(t)
	for _, id := range []string{"", "../x", "a/b", "has space"} {
		if err := d.Start(ctx, id, ContainerSpec{Rootfs: rootfs(t), Args: []string{"/testapp"}}); err == nil {
			t.Errorf("id %q accepted", id)
		}
	}
	if err := d.Start(ctx, "noargs", ContainerSpec{Rootfs: rootfs(t)}); err == nil {
		t.Error("a container with no command was accepted")
	}
	// A command missing from the image: the start or the exit says so.
	var errOut safeBuffer
	err := d.Start(ctx, "missing", ContainerSpec{Rootfs: rootfs(t), Args: []string{"/nope"}, Stderr: &errOut})
	if err == nil {
		st, werr := d.Wait(ctx, "missing")
		if werr == nil && st.Code == 0 {
			t.Errorf("a missing command exited 0")
		}
	}
	if !strings.Contains(errOut.String()+errString(err), "no such file") {
		t.Errorf("nothing says the command is missing: %v / %s", err, errOut.String())
	}
	if _, err := d.Wait(ctx, "nothere"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Wait on an unknown id: %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func regexpMatch(expr, s string) bool { return regexp.MustCompile(expr).MatchString(s) }
