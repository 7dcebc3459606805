package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// LauncherDriver is the built-in runtime, for machines without runc and
// for running without root. Start executes this program again
// (/proc/self/exe, see RunLauncherInit) in new PID, mount, UTS and IPC
// namespaces (and a user namespace when not root), joining the Pod's
// network namespace; that process mounts the rootfs, the volumes, /proc,
// a minimal /dev and a read-only /sys, pivot_root's into the rootfs and
// executes the command, which is PID 1 in the container. Cgroup limits
// are written as runc writes them, in cgroup v2 or v1.
//
// Each container's files are under Dir/containers/ID: config.json (what
// the init reads) and state.json (its pid and the pid's start time, so
// that a restarted driver adopts a running container and never a
// recycled pid).
type LauncherDriver struct {
	// Dir holds the containers' state; required.
	Dir string
	// Log receives what the driver does; nil discards it.
	Log *slog.Logger

	rootless bool
	v2       bool
	// cgroups is false when running rootless without a writable cgroup
	// hierarchy: containers then run without limits.
	cgroups bool

	mu      sync.Mutex
	running map[string]*launched
}

// launched is a container this process started: its init, which became
// the container's command, and, once it ended, how.
type launched struct {
	cmd  *exec.Cmd
	cg   cgroup
	done chan struct{}
	exit ExitStatus
	err  error
}

// launcherState is a container's state.json.
type launcherState struct {
	ID  string `json:"id"`
	Pid int    `json:"pid"`
	// StartTime is the pid's start time in clock ticks since boot
	// (/proc/PID/stat): a pid with another start time is another process.
	StartTime uint64    `json:"startTime"`
	Created   time.Time `json:"created"`
	// Cgroup is the container's cgroup path, "" when it has none.
	Cgroup   string `json:"cgroup,omitempty"`
	CgroupV2 bool   `json:"cgroupV2,omitempty"`
}

var _ Driver = (*LauncherDriver)(nil)

// NewLauncherDriver checks that the built-in launcher can run here and
// returns a driver keeping its files under dir. As root it uses cgroups;
// otherwise it runs containers in user namespaces, which the kernel must
// allow to unprivileged users.
func NewLauncherDriver(dir string, log *slog.Logger) (*LauncherDriver, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if !launcherHooked.Load() {
		return nil, fmt.Errorf("%w: the built-in launcher re-executes this program, which does not call runtime.RunLauncherInit first", ErrUnavailable)
	}
	if _, err := os.Stat("/proc/self/exe"); err != nil {
		return nil, fmt.Errorf("%w: the built-in launcher re-executes /proc/self/exe: %v", ErrUnavailable, err)
	}
	d := &LauncherDriver{Dir: dir, Log: log, rootless: os.Geteuid() != 0, v2: hostCgroupV2(), running: map[string]*launched{}}
	if d.rootless {
		for file, bad := range map[string]string{"/proc/sys/kernel/unprivileged_userns_clone": "0", "/proc/sys/user/max_user_namespaces": "0"} {
			if b, err := os.ReadFile(file); err == nil && strings.TrimSpace(string(b)) == bad {
				return nil, fmt.Errorf("%w: running without root needs user namespaces, which %s disables", ErrUnavailable, file)
			}
		}
		// Limits need a cgroup delegated to us.
		d.cgroups = d.v2 && unix.Access(filepath.Join(cgroupRoot, "pkg"), unix.W_OK) == nil
	} else {
		_, err := os.Stat(cgroupRoot)
		d.cgroups = err == nil
	}
	if err := os.MkdirAll(filepath.Join(dir, "containers"), 0o700); err != nil {
		return nil, fmt.Errorf("built-in launcher: %w", err)
	}
	return d, nil
}

// Name returns "builtin".
func (d *LauncherDriver) Name() string { return "builtin" }

// Rootless tells whether containers run in user namespaces, this process
// not being root.
func (d *LauncherDriver) Rootless() bool { return d.rootless }

func (d *LauncherDriver) containerDir(id string) string {
	return filepath.Join(d.Dir, "containers", id)
}

// Start sets the container up and starts its command; it returns once
// the command runs, or with the reason it could not (a command not in
// the image, a volume that cannot be mounted).
func (d *LauncherDriver) Start(ctx context.Context, id string, cs ContainerSpec) (err error) {
	if err := validID(id); err != nil {
		return err
	}
	if len(cs.Args) == 0 {
		return fmt.Errorf("container %s: no command to run", id)
	}
	if d.rootless && (cs.UID != 0 || cs.GID != 0) {
		return fmt.Errorf("container %s: the built-in runtime without root maps only uid and gid 0 (runAsUser %d, group %d asked)", id, cs.UID, cs.GID)
	}
	rootfs, err := filepath.Abs(cs.Rootfs)
	if err != nil {
		return fmt.Errorf("container %s: rootfs: %w", id, err)
	}
	if fi, err := os.Stat(rootfs); err != nil || !fi.IsDir() {
		return fmt.Errorf("container %s: rootfs %s is not a directory", id, rootfs)
	}
	d.mu.Lock()
	_, ours := d.running[id]
	d.mu.Unlock()
	dir := d.containerDir(id)
	if ours {
		return fmt.Errorf("container %s: %w", id, ErrExists)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("container %s: %w", id, ErrExists)
		}
		return fmt.Errorf("container %s: %w", id, err)
	}
	var cg cgroup
	defer func() {
		if err != nil {
			if cg.Path != "" {
				_ = cg.remove(5 * time.Second)
			}
			_ = os.RemoveAll(dir)
		}
	}()
	cfg := launchConfig{
		ID: id, Rootfs: rootfs, ReadOnlyRootfs: cs.ReadOnlyRootfs, Args: cs.Args, Env: cs.Env,
		Cwd: cs.Cwd, UID: cs.UID, GID: cs.GID, Hostname: cs.Hostname, Mounts: cs.Mounts,
		NetNS: cs.NetNS, HostNetwork: cs.HostNetwork, Rootless: d.rootless,
	}
	if d.cgroups {
		cfg.Cgroup, cfg.CgroupV2 = cgroupPath(cs.CgroupParent, id), d.v2
	}
	data, err := json.MarshalIndent(cfg, "", " ")
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfgPath, data, 0o600); err != nil {
		return fmt.Errorf("container %s: writing its config: %w", id, err)
	}
	if d.cgroups {
		cg = cgroup{Path: cgroupPath(cs.CgroupParent, id), V2: d.v2}
		if err := cg.create(cs.Resources); err != nil {
			return fmt.Errorf("container %s: %w", id, err)
		}
	} else if cs.Resources != (Resources{}) {
		d.Log.Warn("no cgroup to enforce the container's limits", "id", id)
	}

	gateR, gateW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer gateW.Close()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		gateR.Close()
		return err
	}
	defer statusR.Close()
	flags := uintptr(unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC)
	if cs.NetNS == "" && !cs.HostNetwork {
		flags |= unix.CLONE_NEWNET
	}
	attr := &syscall.SysProcAttr{Cloneflags: flags, Setsid: true}
	if d.rootless {
		attr.Cloneflags |= unix.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	// Not tied to ctx: the container outlives the request that started it.
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        []string{"pkg-container-init", id},
		Env:         []string{launcherEnv + "=" + cfgPath},
		Stdout:      orDiscard(cs.Stdout),
		Stderr:      orDiscard(cs.Stderr),
		ExtraFiles:  []*os.File{gateR, statusW},
		SysProcAttr: attr,
	}
	startErr := cmd.Start()
	gateR.Close()
	statusW.Close()
	if startErr != nil {
		return fmt.Errorf("container %s: starting the launcher: %w", id, startErr)
	}
	c := &launched{cmd: cmd, cg: cg, done: make(chan struct{})}
	go d.reap(id, c)
	fail := func(why error) error {
		_ = cmd.Process.Kill()
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
		}
		return fmt.Errorf("container %s: %w", id, why)
	}
	st := launcherState{ID: id, Pid: cmd.Process.Pid, Created: time.Now().UTC(), Cgroup: cg.Path, CgroupV2: cg.V2}
	if st.StartTime, err = procStartTime(st.Pid); err != nil {
		// Its init may have failed and ended already, having said why on
		// the status pipe: that is the error to report.
		_ = statusR.SetReadDeadline(time.Now().Add(time.Second))
		if msg, _ := readStatus(bufio.NewReader(statusR)); strings.HasPrefix(msg, "E") {
			return fail(&StartError{Msg: msg[1:]})
		}
		return fail(err)
	}
	if err := writeJSON(filepath.Join(dir, "state.json"), st); err != nil {
		return fail(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = statusR.SetReadDeadline(deadline)
	// A ctx cancelled before the command runs ends the wait at once.
	stopWait := context.AfterFunc(ctx, func() { _ = statusR.SetReadDeadline(time.Now()) })
	defer stopWait()
	status := bufio.NewReader(statusR)
	msg, rerr := readStatus(status)
	if rerr == nil && msg == "R" {
		if cg.Path != "" {
			if err := cg.add(st.Pid); err != nil {
				return fail(err)
			}
		}
		if _, err := gateW.Write([]byte{1}); err != nil {
			return fail(fmt.Errorf("opening the gate: %w", err))
		}
		gateW.Close()
		msg, rerr = readStatus(status)
		if errors.Is(rerr, io.EOF) && msg == "" {
			// The status pipe closed on exec: the command runs.
			d.mu.Lock()
			d.running[id] = c
			d.mu.Unlock()
			d.Log.Debug("container started", "id", id, "pid", st.Pid)
			return nil
		}
	}
	switch {
	case strings.HasPrefix(msg, "E"):
		// Its init could not set up or exec the command: it never ran.
		return fail(&StartError{Msg: msg[1:]})
	case rerr != nil && !errors.Is(rerr, io.EOF):
		return fail(fmt.Errorf("waiting for its init: %w", rerr))
	}
	_ = cmd.Process.Kill()
	<-c.done
	return fmt.Errorf("container %s: its init ended before starting the command (%s)", id, describeExit(c.exit))
}

func describeExit(st ExitStatus) string {
	if st.Signal != 0 {
		return "killed by " + st.Signal.String()
	}
	return "exit code " + strconv.Itoa(st.Code)
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// procStartTime reads when a process started, in clock ticks since boot.
func procStartTime(pid int) (uint64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: fields are
	// counted after its closing parenthesis (field 3 is the state).
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, fmt.Errorf("reading /proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 {
		return 0, fmt.Errorf("reading /proc/%d/stat: too few fields", pid)
	}
	if f[0] == "Z" || f[0] == "X" {
		return 0, fmt.Errorf("process %d has exited", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// alive tells whether the container's process is still the one
// state.json names.
func (s launcherState) alive() bool {
	if s.Pid <= 0 {
		return false
	}
	t, err := procStartTime(s.Pid)
	return err == nil && t == s.StartTime
}

// reap waits for the container's process and records how it ended.
func (d *LauncherDriver) reap(id string, c *launched) {
	err := c.cmd.Wait()
	st := ExitStatus{FinishedAt: time.Now()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			st.Code, st.Signal = 128+int(ws.Signal()), ws.Signal()
		} else {
			st.Code = ws.ExitStatus()
		}
	default:
		c.err = err
	}
	st.OOMKilled = st.Signal == syscall.SIGKILL && c.cg.Path != "" && c.cg.oomKilled()
	c.exit = st
	d.Log.Debug("container exited", "id", id, "code", st.Code, "signal", st.Signal, "oom", st.OOMKilled)
	close(c.done)
}

// load reads a container's state.
func (d *LauncherDriver) load(id string) (launcherState, error) {
	var st launcherState
	data, err := os.ReadFile(filepath.Join(d.containerDir(id), "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return st, fmt.Errorf("container %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return st, fmt.Errorf("container %s: %w", id, err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("container %s: reading its state: %w", id, err)
	}
	return st, nil
}

// Wait blocks until the container exits. A container adopted from an
// earlier process is polled, and its exit status is Unknown.
func (d *LauncherDriver) Wait(ctx context.Context, id string) (ExitStatus, error) {
	if err := validID(id); err != nil {
		return ExitStatus{}, err
	}
	d.mu.Lock()
	c, ok := d.running[id]
	d.mu.Unlock()
	if ok {
		select {
		case <-c.done:
			return c.exit, c.err
		case <-ctx.Done():
			return ExitStatus{}, ctx.Err()
		}
	}
	st, err := d.load(id)
	if err != nil {
		return ExitStatus{}, err
	}
	for st.alive() {
		select {
		case <-ctx.Done():
			return ExitStatus{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return ExitStatus{Unknown: true, FinishedAt: time.Now()}, nil
}

// signal sends sig to the container's process through a pidfd, checked
// to be the container's, so that a recycled pid is never signalled.
func (st launcherState) signal(sig syscall.Signal) error {
	fd, err := unix.PidfdOpen(st.Pid, 0)
	if err != nil {
		return fmt.Errorf("container %s is not running", st.ID)
	}
	defer unix.Close(fd)
	if !st.alive() {
		return fmt.Errorf("container %s is not running", st.ID)
	}
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("container %s is not running", st.ID)
		}
		return fmt.Errorf("signalling container %s: %w", st.ID, err)
	}
	return nil
}

// Signal sends sig to the container's main process.
func (d *LauncherDriver) Signal(ctx context.Context, id string, sig syscall.Signal) error {
	if err := validID(id); err != nil {
		return err
	}
	st, err := d.load(id)
	if err != nil {
		return err
	}
	return st.signal(sig)
}

// List reports every container in the driver's directory, running or
// stopped, including those an earlier process started.
func (d *LauncherDriver) List(ctx context.Context) ([]Info, error) {
	entries, err := os.ReadDir(filepath.Join(d.Dir, "containers"))
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	var infos []Info
	for _, e := range entries {
		st, err := d.load(e.Name())
		if err != nil {
			continue // being created or removed
		}
		info := Info{ID: st.ID, Status: StatusStopped, Created: st.Created}
		if st.alive() {
			info.Status, info.Pid = StatusRunning, st.Pid
		}
		infos = append(infos, info)
	}
	return infos, nil
}

// Remove kills the container if it runs, waits for its processes to be
// gone (its mounts go with its mount namespace) and removes its cgroup
// and state.
func (d *LauncherDriver) Remove(ctx context.Context, id string) error {
	if err := validID(id); err != nil {
		return err
	}
	d.mu.Lock()
	c := d.running[id]
	d.mu.Unlock()
	st, err := d.load(id)
	if errors.Is(err, ErrNotFound) && c == nil {
		_ = os.RemoveAll(d.containerDir(id))
		return nil
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if st.alive() {
		_ = st.signal(syscall.SIGKILL)
	}
	deadline := time.After(10 * time.Second)
	if c != nil {
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("container %s: still running 10s after SIGKILL", id)
		}
	}
	for st.alive() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("container %s: still running 10s after SIGKILL", id)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if st.Cgroup != "" {
		if err := (cgroup{Path: st.Cgroup, V2: st.CgroupV2}).remove(10 * time.Second); err != nil {
			return fmt.Errorf("container %s: %w", id, err)
		}
	}
	d.mu.Lock()
	delete(d.running, id)
	d.mu.Unlock()
	if err := os.RemoveAll(d.containerDir(id)); err != nil {
		return fmt.Errorf("container %s: removing its state: %w", id, err)
	}
	return nil
}
