package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"pkg.dev/pkg/internal/testbuild"
)

// TestMain lets the test binary be a container's init: the launcher
// re-executes /proc/self/exe, which here is this binary.
func TestMain(m *testing.M) {
	if code, isInit := RunLauncherInit(); isInit {
		os.Exit(code)
	}
	code := m.Run()
	testbuild.Cleanup()
	os.Exit(code)
}

// newLauncher returns a built-in launcher running as root, or skips
// saying why it cannot; as root in CI (PKG_REQUIRE_RUNC=1) it must run.
func newLauncher(t *testing.T) *LauncherDriver {
	t.Helper()
	if testing.Short() {
		t.Skip("runs containers with the built-in launcher")
	}
	if os.Geteuid() != 0 {
		if os.Getenv("PKG_REQUIRE_RUNC") == "1" {
			t.Fatal("the launcher's tests need root here (PKG_REQUIRE_RUNC=1)")
		}
		t.Skipf("skipping: the launcher's tests mount and make cgroups, which needs root (running as uid %d)", os.Geteuid())
	}
	d, err := NewLauncherDriver(t.TempDir(), nil)
	if err != nil {
		t.Fatalf("built-in launcher: %v", err)
	}
	t.Cleanup(func() {
		infos, _ := d.List(context.Background())
		for _, i := range infos {
			_ = d.Remove(context.Background(), i.ID)
		}
	})
	return d
}

// mountsUnder lists the host's mount points at or below dir.
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			out = append(out, f[4])
		}
	}
	return out
}

func TestLauncherRunsAndReportsExit(t *testing.T) {
	t.Parallel()
	d := newLauncher(t)
	ctx := tctx(t)
	var out safeBuffer
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "greeting"), []byte("hi from a volume\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "app.conf")
	if err := os.WriteFile(conf, []byte("setting=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := rootfs(t)
	err := d.Start(ctx, "l-report", ContainerSpec{
		Rootfs:   root,
		Args:     []string{"/testapp", "-report"},
		Env:      []string{"GREETING=hello"},
		Cwd:      "/data",
		UID:      1000,
		GID:      1000,
		Hostname: "web-0",
		Mounts: []Mount{
			{Source: data, Destination: "/data", ReadOnly: true},
			{Type: "tmpfs", Destination: "/scratch", Options: []string{"size=1m"}},
			{Source: conf, Destination: "/etc/app/app.conf"},
		},
		Stdout: &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := d.Wait(ctx, "l-report")
	if err != nil || st.Code != 0 {
		t.Fatalf("exit %+v, %v\n%s", st, err, out.String())
	}
	for _, want := range []string{
		"pid=1\n", "hostname=web-0\n", "uid=1000\n", "gid=1000\n", "cwd=/data\n",
		"env GREETING=hello\n", "env PATH=", "mount /data ", "mount /scratch tmpfs",
		"mount /proc proc", "mount /dev tmpfs", "mount /dev/pts devpts", "mount /dev/shm tmpfs",
		"mount /etc/app/app.conf ", "mount / ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("container output lacks %q:\n%s", want, out.String())
		}
	}
	// Its own cgroup, read-only, where programs look for their limits.
	cgMount := `mount /sys/fs/cgroup/memory cgroup ro`
	if d.v2 {
		cgMount = `mount /sys/fs/cgroup cgroup2 ro`
	}
	for _, expr := range []string{`mount /data \S+ ro`, `mount /sys sysfs ro`, `mount /proc/sys proc ro`, cgMount} {
		if !regexpMatch(expr, out.String()) {
			t.Errorf("container output lacks %s:\n%s", expr, out.String())
		}
	}
	// The old root is gone: nothing of the host is mounted inside.
	if strings.Contains(out.String(), root) || strings.Contains(out.String(), "mount /sys/fs/cgroup/unified") || strings.Contains(out.String(), "mount /sys/fs/cgroup/systemd") {
		t.Errorf("the host's mounts show in the container:\n%s", out.String())
	}
	if got := mountsUnder(t, root); len(got) != 0 {
		t.Errorf("mounts leaked to the host: %v", got)
	}

	if err := d.Start(ctx, "l-exit3", ContainerSpec{Rootfs: rootfs(t), Args: []string{"/testapp", "-exit", "3"}}); err != nil {
		t.Fatal(err)
	}
	if st, err := d.Wait(ctx, "l-exit3"); err != nil || st.Code != 3 || st.Signal != 0 {
		t.Errorf("exit status %+v, %v; want code 3", st, err)
	}
	if err := d.Start(ctx, "l-exit3", ContainerSpec{Rootfs: rootfs(t), Args: []string{"/testapp"}}); !errors.Is(err, ErrExists) {
		t.Errorf("starting a second container with the same id: %v, want ErrExists", err)
	}
	for _, id := range []string{"l-report", "l-exit3"} {
		if err := d.Remove(ctx, id); err != nil {
			t.Errorf("remove %s: %v", id, err)
		}
		if exists(d.containerDir(id)) {
			t.Errorf("state of %s left behind", id)
		}
	}
}

func TestLauncherIsolatesAndDevices(t *testing.T) {
	t.Parallel()
	d := newLauncher(t)
	ctx := tctx(t)
	root := rootfs(t)
	// A file the host has, that the container must not see.
	secret := filepath.Join(t.TempDir(), "host-secret")
	if err := os.WriteFile(secret, []byte("host\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, "l-iso", ContainerSpec{Rootfs: root, Args: []string{"/testapp", "-sleep", "1h"}, Hostname: "l-iso"}); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		t.Helper()
		var out safeBuffer
		code, err := d.Exec(ctx, "l-iso", args, &out, &out)
		if err != nil {
			t.Fatalf("exec %v: %v", args, err)
		}
		return code, out.String()
	}
	// Only the container's processes: its PID 1 and this exec.
	code, out := run("/testapp", "-report")
	if code != 0 || !strings.Contains(out, "hostname=l-iso\n") {
		t.Errorf("exec -report: %d\n%s", code, out)
	}
	// The host's processes are not there: this test's own pid (far above
	// the container's few) has no /proc entry inside.
	if code, out := run("/testapp", "-cat", "/proc/"+strconv.Itoa(os.Getpid())+"/cmdline"); code == 0 {
		t.Errorf("the container sees the host's process %d: %q", os.Getpid(), out)
	}
	if code, out := run("/testapp", "-cat", secret); code == 0 {
		t.Errorf("the container reads the host's %s: %q", secret, out)
	}
	if code, out := run("/testapp", "-cat", "/dev/null"); code != 0 || out != "" {
		t.Errorf("/dev/null: %d %q", code, out)
	}
	if code, out := run("/testapp", "-cat", "/proc/1/cmdline"); code != 0 || !strings.HasPrefix(out, "/testapp\x00-sleep") {
		t.Errorf("PID 1 of the container is not its command: %d %q", code, out)
	}
	// Its own network namespace, loopback up.
	if code, out := run("/testapp", "-get", "http://127.0.0.1:1/"); code == 0 || !strings.Contains(out, "connection refused") {
		t.Errorf("loopback in the container's network namespace: %d %q", code, out)
	}
	// The host's hostname did not change.
	if h, _ := os.Hostname(); h == "l-iso" {
		t.Error("the host's hostname was changed")
	}
	info, err := d.List(ctx)
	if err != nil || len(info) != 1 {
		t.Fatalf("List: %+v, %v", info, err)
	}
	pidNS, _ := os.Readlink("/proc/" + strconv.Itoa(info[0].Pid) + "/ns/pid")
	selfNS, _ := os.Readlink("/proc/self/ns/pid")
	if pidNS == "" || pidNS == selfNS {
		t.Errorf("the container shares the host's PID namespace (%q)", pidNS)
	}
}

func TestLauncherHostNetwork(t *testing.T) {
	t.Parallel()
	d := newLauncher(t)
	ctx := tctx(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if err := d.Start(ctx, "l-hostnet", ContainerSpec{Rootfs: rootfs(t), Args: []string{"/testapp", "-listen", addr}, Hostname: "hostnet", HostNetwork: true}); err != nil {
		t.Fatal(err)
	}
	var body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		break
	}
	if body != "hello from hostnet\n" {
		t.Errorf("a host-network container's server answers %q on the host's %s", body, addr)
	}
}

func TestLauncherSignalExecAndRemoveLeaveNothing(t *testing.T) {
	t.Parallel()
	d := newLauncher(t)
	ctx := tctx(t)
	var out safeBuffer
	root := rootfs(t)
	vol := t.TempDir()
	if err := d.Start(ctx, "l-server", ContainerSpec{
		Rootfs: root, Args: []string{"/testapp", "-sleep", "1h"}, Stdout: &out,
		Mounts:    []Mount{{Source: vol, Destination: "/data"}},
		Resources: Resources{MemoryLimit: 64 << 20, CPULimitMilli: 250, CPURequestMilli: 500, PidsLimit: 32},
	}); err != nil {
		t.Fatal(err)
	}
	infos, err := d.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	for _, i := range infos {
		if i.ID == "l-server" && i.Status == StatusRunning {
			pid = i.Pid
		}
	}
	if pid == 0 {
		t.Fatalf("List does not show the running container: %+v", infos)
	}
	code, err := d.Exec(ctx, "l-server", []string{"/testapp", "-exit", "7"}, nil, nil)
	if err != nil || code != 7 {
		t.Errorf("exec: code %d, %v; want 7", code, err)
	}
	// Exec runs in the container's filesystem, volumes included.
	if err := os.WriteFile(filepath.Join(vol, "note"), []byte("seen\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var cat safeBuffer
	if code, err := d.Exec(ctx, "l-server", []string{"/testapp", "-cat", "/data/note"}, &cat, &cat); err != nil || code != 0 || cat.String() != "seen\n" {
		t.Errorf("exec -cat /data/note: %d, %v, %q", code, err, cat.String())
	}
	limitFile, limit := "/sys/fs/cgroup/memory/memory.limit_in_bytes", "67108864\n"
	if d.v2 {
		limitFile = "/sys/fs/cgroup/memory.max"
	}
	var limOut safeBuffer
	if code, err := d.Exec(ctx, "l-server", []string{"/testapp", "-cat", limitFile}, &limOut, &limOut); err != nil || code != 0 || limOut.String() != limit {
		t.Errorf("the container's memory limit in its %s: %d, %v, %q", limitFile, code, err, limOut.String())
	}
	var cgOut safeBuffer
	if code, err := d.Exec(ctx, "l-server", []string{"/testapp", "-cat", "/proc/self/cgroup"}, &cgOut, &cgOut); err != nil || code != 0 || !strings.Contains(cgOut.String(), ":/pkg/l-server\n") {
		t.Errorf("an exec is not in the container's cgroup: %d, %v\n%s", code, err, cgOut.String())
	}
	if _, err := d.Exec(ctx, "l-server", []string{"/nope"}, nil, nil); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("exec of a missing command: %v", err)
	}
	cgDirs := cgroup{Path: "/pkg/l-server", V2: d.v2}.dirs()
	if len(cgDirs) == 0 || !exists(cgDirs[0]) {
		t.Errorf("no cgroup for the container: %v", cgDirs)
	}
	limits := map[string]string{ // cgroup v1
		"memory/pkg/l-server/memory.limit_in_bytes": "67108864", "cpu/pkg/l-server/cpu.cfs_quota_us": "25000",
		"cpu/pkg/l-server/cpu.cfs_period_us": "100000", "cpu/pkg/l-server/cpu.shares": "512", "pids/pkg/l-server/pids.max": "32",
	}
	if d.v2 {
		limits = map[string]string{"pkg/l-server/memory.max": "67108864", "pkg/l-server/cpu.max": "25000 100000", "pkg/l-server/pids.max": "32"}
	}
	for file, want := range limits {
		if b, err := os.ReadFile(filepath.Join(cgroupRoot, file)); err != nil || strings.TrimSpace(string(b)) != want {
			t.Errorf("%s: %q, %v; want %s", file, b, err, want)
		}
	}
	// The container's process is in its cgroup, and so is an exec.
	procs, _ := os.ReadFile(filepath.Join(cgDirs[0], "cgroup.procs"))
	if !strings.Contains("\n"+string(procs), "\n"+strconv.Itoa(pid)+"\n") {
		t.Errorf("process %d not in its cgroup %s: %q", pid, cgDirs[0], procs)
	}
	if err := d.Signal(ctx, "l-server", syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	st, err := d.Wait(ctx, "l-server")
	if err != nil || st.Code != 0 || !strings.Contains(out.String(), "terminated") {
		t.Errorf("after SIGTERM: %+v, %v, output %q", st, err, out.String())
	}
	if err := d.Signal(ctx, "l-server", syscall.SIGTERM); err == nil {
		t.Error("signalling a stopped container succeeded")
	}
	infos, _ = d.List(ctx)
	if len(infos) != 1 || infos[0].Status != StatusStopped || infos[0].Pid != 0 {
		t.Errorf("List after exit: %+v", infos)
	}
	if err := d.Remove(ctx, "l-server"); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		if st, _ := procStartTime(pid); st != 0 {
			t.Errorf("process %d still exists after Remove", pid)
		}
	}
	for _, cg := range cgDirs {
		if exists(cg) {
			t.Errorf("cgroup %s left behind", cg)
		}
	}
	if got := mountsUnder(t, root); len(got) != 0 {
		t.Errorf("mounts left behind: %v", got)
	}
	if exists(d.containerDir("l-server")) {
		t.Error("state left behind")
	}
	// Removing a running container kills it.
	if err := d.Start(ctx, "l-killed", ContainerSpec{Rootfs: rootfs(t), Args: []string{"/testapp", "-sleep", "1h", "-ignore-term"}}); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(ctx, "l-killed"); err != nil {
		t.Fatal(err)
	}
	if infos, _ := d.List(ctx); len(infos) != 0 {
		t.Errorf("List after Remove: %+v", infos)
	}
}

func TestLauncherMemoryLimitOOMKills(t *testing.T) {
	t.Parallel()
	d := newLauncher(t)
	ctx := tctx(t)
	err := d.Start(ctx, "l-hog", ContainerSpec{
		Rootfs:    rootfs(t),
		Args:      []string{"/testapp", "-eat-mib", "200"},
		Resources: Resources{MemoryLimit: 32 << 20, CPULimitMilli: 500, CPURequestMilli: 100, PidsLimit: 64},
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := d.Wait(ctx, "l-hog")
	if err != nil {
		t.Fatal(err)
	}
	if st.Code != 137 || !st.OOMKilled {
		t.Errorf("exit %+v, want 137 and OOMKilled", st)
	}
	// A container under its limit is not OOMKilled when killed.
	if err := d.Start(ctx, "l-small", ContainerSpec{Rootfs: rootfs(t), Args: []string{"/testapp", "-sleep", "1h"}, Resources: Resources{MemoryLimit: 64 << 20}}); err != nil {
		t.Fatal(err)
	}
	if err := d.Signal(ctx, "l-small", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st, err := d.Wait(ctx, "l-small"); err != nil || st.Code != 137 || st.Signal != syscall.SIGKILL || st.OOMKilled {
		t.Errorf("killed container's exit %+v, %v", st, err)
	}
}

func TestLauncherAdoptsContainersAfterRestart(t *testing.T) {
	t.Parallel()
	d := newLauncher(t)
	ctx := tctx(t)
	if err := d.Start(ctx, "l-long", ContainerSpec{Rootfs: rootfs(t), Args: []string{"/testapp", "-sleep", "1h"}}); err != nil {
		t.Fatal(err)
	}
	// A container whose recorded pid now belongs to another process (the
	// pid was recycled): not adopted as running.
	if err := os.Mkdir(d.containerDir("l-recycled"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(filepath.Join(d.containerDir("l-recycled"), "state.json"), launcherState{ID: "l-recycled", Pid: os.Getpid(), StartTime: 1}); err != nil {
		t.Fatal(err)
	}
	// A new driver over the same directory: the orchestrator restarted.
	again, err := NewLauncherDriver(d.Dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	infos, err := again.List(ctx)
	if err != nil || len(infos) != 2 {
		t.Fatalf("after a restart List gives %+v, %v", infos, err)
	}
	for _, i := range infos {
		switch {
		case i.ID == "l-long" && i.Status != StatusRunning:
			t.Errorf("the running container is not adopted: %+v", i)
		case i.ID == "l-recycled" && (i.Status != StatusStopped || i.Pid != 0):
			t.Errorf("a recycled pid is adopted: %+v", i)
		}
	}
	if err := again.Signal(ctx, "l-recycled", syscall.SIGTERM); err == nil {
		t.Error("Signal reached a recycled pid")
	}
	code, err := again.Exec(ctx, "l-long", []string{"/testapp", "-exit", "4"}, nil, nil)
	if err != nil || code != 4 {
		t.Errorf("exec in an adopted container: %d, %v", code, err)
	}
	done := make(chan ExitStatus, 1)
	go func() {
		st, _ := again.Wait(ctx, "l-long")
		done <- st
	}()
	if err := again.Signal(ctx, "l-long", syscall.SIGKILL); err != nil {
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
	for _, id := range []string{"l-long", "l-recycled"} {
		if err := again.Remove(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if cg := (cgroup{Path: "/pkg/l-long", V2: d.v2}).dirs(); len(cg) > 0 && exists(cg[0]) {
		t.Errorf("cgroup %s left behind", cg[0])
	}
}

func TestLauncherRefusesBadInput(t *testing.T) {
	t.Parallel()
	d := newLauncher(t)
	ctx := tctx(t)
	for _, id := range []string{"", "../x", "a/b", "has space"} {
		if err := d.Start(ctx, id, ContainerSpec{Rootfs: rootfs(t), Args: []string{"/testapp"}}); err == nil {
			t.Errorf("id %q accepted", id)
		}
	}
	if err := d.Start(ctx, "l-noargs", ContainerSpec{Rootfs: rootfs(t)}); err == nil {
		t.Error("a container with no command was accepted")
	}
	// A command missing from the image: Start says so, and leaves nothing.
	err := d.Start(ctx, "l-missing", ContainerSpec{Rootfs: rootfs(t), Args: []string{"/nope"}, Resources: Resources{MemoryLimit: 64 << 20}})
	if err == nil || !strings.Contains(err.Error(), `"/nope"`) || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("starting a command not in the image: %v", err)
	}
	err = d.Start(ctx, "l-missing-path", ContainerSpec{Rootfs: rootfs(t), Args: []string{"sh"}})
	if err == nil || !strings.Contains(err.Error(), "not found in $PATH") {
		t.Errorf("starting a command not on the image's PATH: %v", err)
	}
	if exists(d.containerDir("l-missing")) || exists(filepath.Join(cgroupRoot, "memory", "pkg", "l-missing")) || exists(filepath.Join(cgroupRoot, "pkg", "l-missing")) {
		t.Error("a failed start left its state or cgroup behind")
	}
	// A volume whose source is missing names it.
	err = d.Start(ctx, "l-novol", ContainerSpec{Rootfs: rootfs(t), Args: []string{"/testapp"}, Mounts: []Mount{{Source: "/does/not/exist", Destination: "/data"}}})
	if err == nil || !strings.Contains(err.Error(), "/data") {
		t.Errorf("a missing volume source: %v", err)
	}
	// A symbolic link in the image cannot aim a mount outside the rootfs.
	root := rootfs(t)
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "l-escape")); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, "l-escape", ContainerSpec{Rootfs: root, Args: []string{"/testapp", "-exit", "0"}, Mounts: []Mount{{Type: "tmpfs", Destination: "/escape/x"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Wait(ctx, "l-escape"); err != nil {
		t.Fatal(err)
	}
	if exists(filepath.Join(outside, "x")) {
		t.Error("a mount point was made outside the rootfs through a symbolic link")
	}
	if _, err := d.Wait(ctx, "nothere"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Wait on an unknown id: %v", err)
	}
	if err := d.Signal(ctx, "nothere", syscall.SIGTERM); !errors.Is(err, ErrNotFound) {
		t.Errorf("Signal on an unknown id: %v", err)
	}
	if err := d.Remove(ctx, "nothere"); err != nil {
		t.Errorf("Remove of an unknown id: %v", err)
	}
}

func TestResolveInRoot(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, d := range []string{"a/b", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"abs": "/etc", "up": "../../..", "rel": "a/b", "loop": "loop"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"/a/b", "/a/b"},
		{"/abs/passwd", "/etc/passwd"},
		{"/up/etc", "/etc"},
		{"/../../x", "/x"},
		{"/rel/c", "/a/b/c"},
		{"/missing/../etc", "/etc"},
	} {
		got, err := resolveInRoot(root, tc.in)
		if err != nil || got != filepath.Join(root, tc.want) {
			t.Errorf("resolveInRoot(%q) = %q, %v; want %q", tc.in, got, err, filepath.Join(root, tc.want))
		}
	}
	if _, err := resolveInRoot(root, "/loop/x"); err == nil {
		t.Error("a symbolic link loop resolved")
	}
}

// TestLauncherProcessDefaults: a signal this process ignores (nohup's
// SIGHUP) is not ignored by the container's command, whose open files
// limit is runc's.
func TestLauncherProcessDefaults(t *testing.T) {
	t.Parallel()
	d := newLauncher(t)
	ctx := tctx(t)
	signal.Ignore(syscall.SIGHUP)
	defer signal.Reset(syscall.SIGHUP)
	var out safeBuffer
	if err := d.Start(ctx, "l-signals", ContainerSpec{Rootfs: rootfs(t), Args: []string{"/testapp", "-cat", "/proc/self/status"}, Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	if st, err := d.Wait(ctx, "l-signals"); err != nil || st.Code != 0 {
		t.Fatalf("exit %+v, %v", st, err)
	}
	if !strings.Contains(out.String(), "SigIgn:\t0000000000000000\n") {
		t.Errorf("the command starts with signals ignored:\n%s", out.String())
	}
	// Open files: as many as the runtime may have, soft and hard (runc's).
	var limits safeBuffer
	if err := d.Start(ctx, "l-limits", ContainerSpec{Rootfs: rootfs(t), Args: []string{"/testapp", "-cat", "/proc/self/limits"}, Stdout: &limits}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Wait(ctx, "l-limits"); err != nil {
		t.Fatal(err)
	}
	nofile := nofileLimit()
	if !regexpMatch(fmt.Sprintf(`Max open files +%d +%d `, nofile.Hard, nofile.Hard), limits.String()) {
		t.Errorf("open files limit is not %d:\n%s", nofile.Hard, limits.String())
	}
}

func TestLauncherReadOnlyRootfs(t *testing.T) {
	t.Parallel()
	d := newLauncher(t)
	ctx := tctx(t)
	for _, tc := range []struct {
		id, file string
		ro       bool
		code     int
	}{
		{"l-ro", "/written", true, 1},
		{"l-ro-volume", "/scratch/written", true, 0},
		{"l-rw", "/written", false, 0},
	} {
		var out safeBuffer
		err := d.Start(ctx, tc.id, ContainerSpec{
			Rootfs: rootfs(t), ReadOnlyRootfs: tc.ro, Args: []string{"/testapp", "-append", tc.file, "-exit", "0"},
			Mounts: []Mount{{Type: "tmpfs", Destination: "/scratch"}}, Stdout: &out, Stderr: &out,
		})
		if err != nil {
			t.Fatal(err)
		}
		if st, err := d.Wait(ctx, tc.id); err != nil || st.Code != tc.code {
			t.Errorf("%s: writing %s: exit %+v, %v, want %d\n%s", tc.id, tc.file, st, err, tc.code, out.String())
		}
	}
}
