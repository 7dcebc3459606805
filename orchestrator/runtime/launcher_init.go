package runtime

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The launcher's re-execution: LauncherDriver starts /proc/self/exe with
// launcherEnv set to the path of the container's config; the process,
// already in its new namespaces, sets the container up and executes its
// command (see RunLauncherInit).
const (
	launcherEnv = "_PKG_LAUNCHER_CONFIG"
	// The init's two pipes: the gate (the parent writes one byte once the
	// process is in its cgroup) and the status pipe (the init writes
	// "ready" then, if anything fails, the error; the pipe closes on a
	// successful exec).
	gateFD   = 3
	statusFD = 4
)

// defaultPath is the PATH a container gets when its environment has none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// launchConfig is what the init reads: the container's spec less its
// streams and cgroup, which the parent handles.
type launchConfig struct {
	ID             string   `json:"id"`
	Rootfs         string   `json:"rootfs"`
	ReadOnlyRootfs bool     `json:"readOnlyRootfs,omitempty"`
	Args           []string `json:"args"`
	Env            []string `json:"env"`
	Cwd            string   `json:"cwd"`
	UID            uint32   `json:"uid"`
	GID            uint32   `json:"gid"`
	Hostname       string   `json:"hostname,omitempty"`
	Mounts         []Mount  `json:"mounts,omitempty"`
	NetNS          string   `json:"netns,omitempty"`
	HostNetwork    bool     `json:"hostNetwork,omitempty"`
	// Cgroup is the container's cgroup path, shown read-only at
	// /sys/fs/cgroup; "" when it has none.
	Cgroup   string `json:"cgroup,omitempty"`
	CgroupV2 bool   `json:"cgroupV2,omitempty"`
	// Rootless: the init runs in a user namespace mapping only our ids.
	Rootless bool `json:"rootless,omitempty"`
}

// launcherHooked records that this program calls RunLauncherInit, so
// that NewLauncherDriver never re-executes a program that would not turn
// into a container's init but run again as itself (a test binary would
// run its tests inside the container). The one piece of package state:
// it describes the program, not a configuration.
var launcherHooked atomic.Bool

// RunLauncherInit turns this process into a container's init when
// LauncherDriver started it. The init executes the container's command,
// so on success the call never returns; if the container cannot be set
// up, it reports why to the driver and returns isInit with the exit code
// the caller must exit with at once. In any other process it returns
// isInit false at once, having only read one environment variable.
// Every program that may run a LauncherDriver (pkg's main, the tests of
// packages that use one) calls it first thing:
//
//	if code, isInit := runtime.RunLauncherInit(); isInit {
//		os.Exit(code)
//	}
func RunLauncherInit() (code int, isInit bool) {
	launcherHooked.Store(true)
	cfgPath := os.Getenv(launcherEnv)
	if cfgPath == "" {
		return 0, false
	}
	// Everything from here runs on this thread: it alone joins the Pod's
	// network namespace and drops capabilities, and it executes the
	// command.
	goruntime.LockOSThread()
	status := os.NewFile(statusFD, "status")
	err := containerInit(cfgPath, status)
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	_, _ = io.WriteString(status, "E"+msg+"\n")
	return 127, true
}

// containerInit sets the container up in the namespaces it was cloned
// into, waits at the gate, and executes the command; it returns only on
// failure.
func containerInit(cfgPath string, status *os.File) error {
	syscall.CloseOnExec(gateFD)
	syscall.CloseOnExec(statusFD)
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		return fmt.Errorf("reading the container's config: %w", err)
	}
	var cfg launchConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("reading the container's config %s: %w", cfgPath, err)
	}
	switch {
	case cfg.HostNetwork:
	case cfg.NetNS != "":
		if err := joinNetNS(cfg.NetNS); err != nil {
			return err
		}
	default:
		// A network namespace of its own, cloned: loopback up, as runc
		// leaves it.
		if err := loopbackUp(); err != nil {
			return err
		}
	}
	// Nothing mounted from here on propagates to the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making the mounts private: %w", err)
	}
	root := cfg.Rootfs
	if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind-mounting the rootfs %s: %w", root, err)
	}
	// nodev everywhere but on the device files bound into /dev: a device
	// node made in the container opens nothing (runc's device cgroup).
	if err := remount(root, unix.MS_NODEV); err != nil {
		return fmt.Errorf("remounting the rootfs nodev: %w", err)
	}
	if err := mountSpecial(root, cfg.Rootless); err != nil {
		return err
	}
	if cfg.Cgroup != "" {
		if err := mountCgroup(root, cgroup{Path: cfg.Cgroup, V2: cfg.CgroupV2}); err != nil {
			return err
		}
	}
	for _, m := range cfg.Mounts {
		if err := mountVolume(root, m); err != nil {
			return err
		}
	}
	if err := maskPaths(root); err != nil {
		return err
	}
	cwd := cfg.Cwd
	if cwd == "" {
		cwd = "/"
	}
	if dir, err := resolveInRoot(root, cwd); err == nil {
		_ = os.MkdirAll(dir, 0o755)
	}
	if cfg.ReadOnlyRootfs {
		if err := remount(root, unix.MS_NODEV|unix.MS_RDONLY); err != nil {
			return fmt.Errorf("remounting the rootfs read-only: %w", err)
		}
	}
	if cfg.Hostname != "" {
		if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
			return fmt.Errorf("setting the hostname %q: %w", cfg.Hostname, err)
		}
	}
	if err := pivotRoot(root); err != nil {
		return err
	}
	env := cfg.Env
	if !hasEnv(env, "PATH") {
		env = append([]string{"PATH=" + defaultPath}, env...)
	}
	path, err := lookCommand(cfg.Args[0], env)
	if err != nil {
		return err
	}
	if err := os.Chdir(cwd); err != nil {
		return fmt.Errorf("changing to the working directory %s: %w", cwd, err)
	}
	if err := dropBoundingCaps(); err != nil {
		return err
	}
	// Ready: the parent moves us into the cgroup (only now, so that what
	// this init allocated is not charged to the container) and opens the
	// gate.
	if _, err := io.WriteString(status, "R\n"); err != nil {
		return fmt.Errorf("reporting ready: %w", err)
	}
	var b [1]byte
	if n, _ := os.NewFile(gateFD, "gate").Read(b[:]); n != 1 {
		return errors.New("the runtime went away before starting the container")
	}
	if !cfg.Rootless {
		if err := unix.Setgroups(nil); err != nil {
			return fmt.Errorf("clearing the supplementary groups: %w", err)
		}
	}
	if err := syscall.Setresgid(int(cfg.GID), int(cfg.GID), int(cfg.GID)); err != nil {
		return fmt.Errorf("setting gid %d: %w", cfg.GID, err)
	}
	if err := syscall.Setresuid(int(cfg.UID), int(cfg.UID), int(cfg.UID)); err != nil {
		return fmt.Errorf("setting uid %d: %w", cfg.UID, err)
	}
	// As many open files as this process may have, as runc's bundles
	// ask (nofileLimit); set through syscall so that exec keeps it.
	nofile := nofileLimit()
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: nofile.Soft, Max: nofile.Hard}); err != nil {
		return fmt.Errorf("setting the open files limit: %w", err)
	}
	resetSignals()
	err = unix.Exec(path, cfg.Args, env)
	return fmt.Errorf("exec %q: %w", cfg.Args[0], err)
}

// kernelSigaction is the kernel's struct sigaction (with sa_restorer,
// which amd64 and arm64 both have).
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// resetSignals gives every signal its default action, so that the
// command does not inherit a signal the orchestrator was started with
// ignored (nohup's SIGHUP): execve keeps ignored signals ignored. Only
// for the instant before exec: the Go runtime's handlers go too.
func resetSignals() {
	var dfl kernelSigaction // handler 0: SIG_DFL
	for sig := 1; sig <= 64; sig++ {
		if sig == int(unix.SIGKILL) || sig == int(unix.SIGSTOP) {
			continue
		}
		_, _, _ = unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
	}
}

// joinNetNS moves this thread into the network namespace at path.
func joinNetNS(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening the Pod's network namespace: %w", err)
	}
	defer f.Close()
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("joining the Pod's network namespace %s: %w", path, err)
	}
	return nil
}

// loopbackUp brings up the loopback interface of this thread's network
// namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bringing up loopback: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("bringing up loopback: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("reading loopback's flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bringing up loopback: %w", err)
	}
	return nil
}

// remount changes a bind mount's flags, keeping those the kernel locks
// (in a user namespace a remount may not clear nosuid, nodev, noexec or
// ro where the original mount has them).
func remount(target string, flags uintptr) error {
	var st unix.Statfs_t
	if err := unix.Statfs(target, &st); err == nil {
		for _, f := range []struct{ st, ms uintptr }{
			{unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NODEV, unix.MS_NODEV},
			{unix.ST_NOEXEC, unix.MS_NOEXEC}, {unix.ST_RDONLY, unix.MS_RDONLY},
			{unix.ST_NOATIME, unix.MS_NOATIME}, {unix.ST_NODIRATIME, unix.MS_NODIRATIME},
			{unix.ST_RELATIME, unix.MS_RELATIME},
		} {
			if uintptr(st.Flags)&f.st != 0 {
				flags |= f.ms
			}
		}
	}
	return unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|flags, "")
}

// hostDevices are the device files a container's /dev has, bound from
// the host's.
var hostDevices = []string{"null", "zero", "full", "random", "urandom", "tty"}

// mountSpecial mounts /proc, a minimal /dev, /dev/pts, /dev/shm,
// /dev/mqueue and a read-only /sys into the rootfs.
func mountSpecial(root string, rootless bool) error {
	type special struct {
		dest, fstype, source string
		flags                uintptr
		data                 string
		optional             bool
	}
	for _, s := range []special{
		{"/proc", "proc", "proc", unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV, "", false},
		{"/dev", "tmpfs", "tmpfs", unix.MS_NOSUID | unix.MS_STRICTATIME, "mode=755,size=65536k", false},
		{"/dev/pts", "devpts", "devpts", unix.MS_NOSUID | unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5", false},
		{"/dev/shm", "tmpfs", "shm", unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV, "mode=1777,size=65536k", false},
		{"/dev/mqueue", "mqueue", "mqueue", unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV, "", true},
		{"/sys", "sysfs", "sysfs", unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV | unix.MS_RDONLY, "", false},
	} {
		dest, err := mkdirInRoot(root, s.dest)
		if err != nil {
			return err
		}
		err = unix.Mount(s.source, dest, s.fstype, s.flags, s.data)
		if err != nil && s.fstype == "devpts" {
			// In a user namespace gid 5 may not be mapped.
			err = unix.Mount(s.source, dest, s.fstype, s.flags, "newinstance,ptmxmode=0666,mode=0620")
		}
		if err != nil && s.fstype == "sysfs" && rootless {
			// sysfs needs the network namespace to be ours: bind the
			// host's read-only instead.
			if err = unix.Mount("/sys", dest, "", unix.MS_BIND|unix.MS_REC, ""); err == nil {
				err = remount(dest, unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_NODEV)
			}
		}
		if err != nil {
			if s.optional {
				continue
			}
			return fmt.Errorf("mounting %s on %s: %w", s.fstype, s.dest, err)
		}
		if s.dest != "/dev" {
			continue
		}
		for _, name := range hostDevices {
			dev := filepath.Join(dest, name)
			if err := os.WriteFile(dev, nil, 0o666); err != nil {
				return fmt.Errorf("making /dev/%s: %w", name, err)
			}
			if err := unix.Mount("/dev/"+name, dev, "", unix.MS_BIND, ""); err != nil {
				return fmt.Errorf("binding /dev/%s: %w", name, err)
			}
		}
		for link, target := range map[string]string{
			"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
			"stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx", "core": "/proc/kcore",
		} {
			if err := os.Symlink(target, filepath.Join(dest, link)); err != nil {
				return fmt.Errorf("linking /dev/%s: %w", link, err)
			}
		}
	}
	return nil
}

// mountCgroup shows the container its own cgroup, read-only, at
// /sys/fs/cgroup as runc does without a cgroup namespace: the cgroup's
// directory there (v2), or a tmpfs holding each hierarchy's (v1), so
// that programs find their limits.
func mountCgroup(root string, cg cgroup) error {
	dest := filepath.Join(root, "sys", "fs", "cgroup")
	ro := uintptr(unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	bind := func(src, dst string) error {
		if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("binding cgroup %s: %w", src, err)
		}
		return remount(dst, ro)
	}
	if cg.V2 {
		return bind(filepath.Join(cgroupRoot, cg.Path), dest)
	}
	if err := unix.Mount("tmpfs", dest, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755,size=64k"); err != nil {
		return fmt.Errorf("mounting a tmpfs on /sys/fs/cgroup: %w", err)
	}
	for _, ctl := range v1Controllers {
		src := filepath.Join(cgroupRoot, ctl, cg.Path)
		if _, err := os.Stat(src); err != nil {
			continue
		}
		dst := filepath.Join(dest, ctl)
		if err := os.Mkdir(dst, 0o755); err != nil {
			return fmt.Errorf("making /sys/fs/cgroup/%s: %w", ctl, err)
		}
		if err := bind(src, dst); err != nil {
			return err
		}
	}
	if err := unix.Mount("", dest, "", unix.MS_REMOUNT|ro, "mode=755,size=64k"); err != nil {
		return fmt.Errorf("remounting /sys/fs/cgroup read-only: %w", err)
	}
	return nil
}

// mountVolume mounts one of the container's volumes.
func mountVolume(root string, m Mount) error {
	if !filepath.IsAbs(m.Destination) {
		return fmt.Errorf("mount destination %q is not an absolute path", m.Destination)
	}
	typ := m.Type
	if typ == "" {
		typ = "bind"
	}
	flags := uintptr(unix.MS_NODEV | unix.MS_NOSUID)
	var data []string
	for _, o := range m.Options {
		switch o {
		case "ro":
			flags |= unix.MS_RDONLY
		case "rw", "nosuid", "nodev", "rbind", "bind", "rprivate", "private":
		case "noexec":
			flags |= unix.MS_NOEXEC
		default:
			data = append(data, o)
		}
	}
	if m.ReadOnly {
		flags |= unix.MS_RDONLY
	}
	switch typ {
	case "bind":
		fi, err := os.Stat(m.Source)
		if err != nil {
			return fmt.Errorf("volume for %s: %w", m.Destination, err)
		}
		var dest string
		if fi.IsDir() {
			dest, err = mkdirInRoot(root, m.Destination)
		} else {
			dest, err = mkfileInRoot(root, m.Destination)
		}
		if err != nil {
			return err
		}
		if err := unix.Mount(m.Source, dest, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("binding %s on %s: %w", m.Source, m.Destination, err)
		}
		if err := remount(dest, flags); err != nil {
			return fmt.Errorf("remounting %s: %w", m.Destination, err)
		}
	case "tmpfs":
		dest, err := mkdirInRoot(root, m.Destination)
		if err != nil {
			return err
		}
		if err := unix.Mount("tmpfs", dest, "tmpfs", flags, strings.Join(data, ",")); err != nil {
			return fmt.Errorf("mounting a tmpfs on %s: %w", m.Destination, err)
		}
	default:
		return fmt.Errorf("mount on %s: unknown type %q (want bind or tmpfs)", m.Destination, typ)
	}
	return nil
}

// maskedPaths are hidden from containers and readonlyPaths made
// read-only, as runc does with the OCI spec's defaults (see ociSpec).
var (
	maskedPaths = []string{
		"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
		"/sys/firmware", "/sys/devices/virtual/powercap",
	}
	readonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

func maskPaths(root string) error {
	for _, p := range maskedPaths {
		dest := filepath.Join(root, p)
		fi, err := os.Stat(dest)
		if err != nil {
			continue
		}
		if fi.IsDir() {
			err = unix.Mount("tmpfs", dest, "tmpfs", unix.MS_RDONLY, "size=0")
		} else {
			err = unix.Mount("/dev/null", dest, "", unix.MS_BIND, "")
		}
		if err != nil {
			return fmt.Errorf("masking %s: %w", p, err)
		}
	}
	for _, p := range readonlyPaths {
		dest := filepath.Join(root, p)
		if _, err := os.Stat(dest); err != nil {
			continue
		}
		if err := unix.Mount(dest, dest, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("binding %s: %w", p, err)
		}
		if err := remount(dest, unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC); err != nil {
			return fmt.Errorf("making %s read-only: %w", p, err)
		}
	}
	return nil
}

// pivotRoot makes root the root of this mount namespace and detaches the
// old one, which stays out of the container's reach.
func pivotRoot(root string) error {
	if err := os.Chdir(root); err != nil {
		return fmt.Errorf("entering the rootfs: %w", err)
	}
	// pivot_root(".", "."): the old root is stacked over the new one,
	// then detached (no directory in the image is needed for it).
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root into %s: %w", root, err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching the old root: %w", err)
	}
	return os.Chdir("/")
}

// lookCommand finds the command in the container, as execvp would with
// its PATH, and says clearly when it is not in the image.
func lookCommand(name string, env []string) (string, error) {
	check := func(p string) error {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return fmt.Errorf("%s is a directory", p)
		}
		if fi.Mode()&0o111 == 0 {
			return fmt.Errorf("%s: permission denied (not executable)", p)
		}
		return nil
	}
	if strings.Contains(name, "/") {
		if err := check(name); err != nil {
			return "", fmt.Errorf("exec: %q: %w (is the command in the image?)", name, err)
		}
		return name, nil
	}
	path := defaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if check(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH (%s): no such file or directory in the image", name, path)
}

// readStatus reads one line of the init's status pipe.
func readStatus(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	return strings.TrimSuffix(line, "\n"), err
}
