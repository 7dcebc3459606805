package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// execNamespaces are the namespaces an exec joins, the mount namespace
// last: once in it, /proc is the container's.
var execNamespaces = []string{"ipc", "uts", "net", "pid", "mnt"}

// Exec runs args in the running container and returns its exit code.
func (d *LauncherDriver) Exec(ctx context.Context, id string, args []string, stdout, stderr io.Writer) (int, error) {
	cmd, start, cg, err := d.execCmd(ctx, id, args)
	if err != nil {
		return -1, err
	}
	cmd.Stdout, cmd.Stderr = orDiscard(stdout), orDiscard(stderr)
	cmd.WaitDelay = 2 * time.Second
	if err := start(); err != nil {
		return -1, fmt.Errorf("exec in container %s: %w", id, err)
	}
	if err := joinAfterStart(id, cmd, cg); err != nil {
		return -1, err
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return -1, fmt.Errorf("exec in container %s: %w", id, err)
	}
	return 0, nil
}

// joinAfterStart moves a command started outside the container's cgroup
// into it (nsenter's; the others are born there).
func joinAfterStart(id string, cmd *exec.Cmd, cg cgroup) error {
	if cg.Path == "" {
		return nil
	}
	if err := cg.add(cmd.Process.Pid); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("exec in container %s: %w", id, err)
	}
	return nil
}

// execCmd prepares a command to run in a running container, as nsenter
// would: in the container's IPC, UTS, network, PID and mount namespaces,
// in its cgroup, as its user, with its environment and working
// directory. The caller sets its streams and calls start, then moves it
// into cg when that is not empty. As root it joins them from a thread
// of this process that is thrown away afterwards (it unshares its
// filesystem attributes first, which a multi-threaded process must for
// a mount namespace); without root, a user namespace cannot be joined by
// a multi-threaded process, so the util-linux nsenter does it.
func (d *LauncherDriver) execCmd(ctx context.Context, id string, args []string) (cmd *exec.Cmd, start func() error, cg cgroup, err error) {
	fail := func(err error) (*exec.Cmd, func() error, cgroup, error) { return nil, nil, cgroup{}, err }
	if err := validID(id); err != nil {
		return fail(err)
	}
	if len(args) == 0 {
		return fail(errors.New("exec: no command"))
	}
	st, err := d.load(id)
	if err != nil {
		return fail(err)
	}
	if !st.alive() {
		return fail(fmt.Errorf("exec in container %s: container is not running", id))
	}
	var cfg launchConfig
	data, err := os.ReadFile(filepath.Join(d.containerDir(id), "config.json"))
	if err == nil {
		err = json.Unmarshal(data, &cfg)
	}
	if err != nil {
		return fail(fmt.Errorf("exec in container %s: reading its config: %w", id, err))
	}
	env := cfg.Env
	if !hasEnv(env, "PATH") {
		env = append([]string{"PATH=" + defaultPath}, env...)
	}
	cwd := cfg.Cwd
	if cwd == "" {
		cwd = "/"
	}
	cg = cgroup{Path: st.Cgroup, V2: st.CgroupV2}
	if d.rootless {
		nsenter, err := exec.LookPath("nsenter")
		if err != nil {
			return fail(fmt.Errorf("%w: exec in a container without root needs nsenter (util-linux): %v", ErrUnavailable, err))
		}
		nsArgs := []string{"--target", strconv.Itoa(st.Pid), "--user", "--mount", "--uts", "--ipc", "--pid", "--root", "--wd", "--preserve-credentials"}
		if cfg.NetNS == "" && !cfg.HostNetwork {
			// Its own; another (the host's) is not ours to join.
			nsArgs = append(nsArgs, "--net")
		}
		cmd := exec.CommandContext(ctx, nsenter, append(append(nsArgs, "--"), args...)...)
		cmd.Env = env
		cmd.SysProcAttr = &syscall.SysProcAttr{}
		return cmd, cmd.Start, cg, nil
	}
	// Killed when ctx ends. Its path is looked up in the container, once
	// in it: what the host has is beside the point.
	cmd = exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Path, cmd.Err = "", nil
	cmd.Env, cmd.Dir = env, cwd
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: cfg.UID, Gid: cfg.GID, Groups: []uint32{}},
	}
	pid, ccg := st.Pid, cg // not the result cg, which is emptied below
	// The thread that joins the container is thrown away, which the Go
	// runtime does with any thread but the main one: a goroutine that
	// finds itself on the main thread holds it while another one,
	// necessarily elsewhere, does the work.
	var inThread func(fds []int) error
	inThread = func(fds []int) error {
		started := make(chan error, 1)
		go func() {
			goruntime.LockOSThread()
			if unix.Gettid() == unix.Getpid() {
				err := inThread(fds)
				goruntime.UnlockOSThread()
				started <- err
				return
			}
			// Never unlocked: the thread, in the container's namespaces
			// and cgroup, ends with this goroutine.
			started <- startInNamespaces(cmd, fds, env, ccg)
		}()
		return <-started
	}
	start = func() error {
		fds := make([]int, 0, len(execNamespaces))
		defer func() {
			for _, fd := range fds {
				unix.Close(fd)
			}
		}()
		for _, ns := range execNamespaces {
			fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/%s", pid, ns), unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("opening the container's %s namespace: %w", ns, err)
			}
			fds = append(fds, fd)
		}
		// The namespaces opened are the container's, not a recycled pid's.
		if !st.alive() {
			return errors.New("container is not running")
		}
		if ccg.Path != "" && ccg.V2 {
			// Born in the container's cgroup (clone3's CLONE_INTO_CGROUP).
			fd, err := unix.Open(filepath.Join(cgroupRoot, ccg.Path), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("opening the container's cgroup: %w", err)
			}
			defer unix.Close(fd)
			cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, fd
		}
		return inThread(fds)
	}
	// Born in the container's cgroup: nothing to join after the start.
	return cmd, start, cgroup{}, nil
}

// startInNamespaces moves the calling thread, locked to its goroutine,
// into the namespaces fds name (and, with cgroup v1, into the
// container's cgroups, so that what it forks is born there), and starts
// cmd from it.
func startInNamespaces(cmd *exec.Cmd, fds []int, env []string, cg cgroup) error {
	if cg.Path != "" && !cg.V2 {
		tid := strconv.Itoa(unix.Gettid())
		for _, d := range cg.dirs() {
			if err := os.WriteFile(filepath.Join(d, "tasks"), []byte(tid), 0o644); err != nil {
				return fmt.Errorf("joining cgroup %s: %w", d, err)
			}
		}
	}
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unsharing the filesystem attributes: %w", err)
	}
	for i, fd := range fds {
		if err := unix.Setns(fd, 0); err != nil {
			return fmt.Errorf("joining the %s namespace: %w", execNamespaces[i], err)
		}
	}
	if err := dropBoundingCaps(); err != nil {
		return err
	}
	// Looked up in the container's filesystem, which this thread sees.
	path, err := lookCommand(cmd.Args[0], env)
	if err != nil {
		return err
	}
	cmd.Path = path
	return cmd.Start()
}
