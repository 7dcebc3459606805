package runtime

import (
	"bytes"
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
)

// RuncDriver runs containers with the runc binary. Each container has a
// bundle (config.json) under Dir/bundles/ID and runc's state under
// Dir/state; each runs under its own `runc run --keep`, whose exit status
// is the container's, and which leaves the stopped container (and its
// cgroup, read for OOM kills) for Remove to delete.
type RuncDriver struct {
	// Binary is the runc executable; "" means "runc" on $PATH.
	Binary string
	// Dir holds bundles and runc's state; required.
	Dir string
	// Log receives what the driver does; nil discards it.
	Log *slog.Logger

	mu      sync.Mutex
	running map[string]*runcContainer
}

// runcContainer is a container this process started: its `runc run`
// process and, once it ended, how.
type runcContainer struct {
	cmd  *exec.Cmd
	done chan struct{}
	exit ExitStatus
	err  error
}

var _ Driver = (*RuncDriver)(nil)

// NewRuncDriver checks that runc can run here (the binary exists, we are
// root) and returns a driver keeping its files under dir.
func NewRuncDriver(dir, binary string, log *slog.Logger) (*RuncDriver, error) {
	if binary == "" {
		binary = "runc"
	}
	path, err := exec.LookPath(binary)
	if err != nil {
		return nil, fmt.Errorf("%w: %s not found (install Debian's runc package): %v", ErrUnavailable, binary, err)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%w: runc needs root (running as uid %d)", ErrUnavailable, os.Geteuid())
	}
	for _, d := range []string{filepath.Join(dir, "bundles"), filepath.Join(dir, "state")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("runc driver: %w", err)
		}
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &RuncDriver{Binary: path, Dir: dir, Log: log, running: map[string]*runcContainer{}}, nil
}

// Name returns "runc".
func (d *RuncDriver) Name() string { return "runc" }

func (d *RuncDriver) bundle(id string) string { return filepath.Join(d.Dir, "bundles", id) }

// runc runs one runc subcommand and returns its standard output.
func (d *RuncDriver) runc(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, d.Binary, append([]string{"--root", filepath.Join(d.Dir, "state")}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "does not exist") || strings.Contains(msg, "not exist") {
			return out, fmt.Errorf("runc %s: %w: %s", args[0], ErrNotFound, msg)
		}
		return out, fmt.Errorf("runc %s: %v: %s", args[0], err, msg)
	}
	return out, nil
}

// validID refuses ids that could escape the driver's directories or
// confuse runc.
func validID(id string) error {
	if id == "" || len(id) > 128 || strings.ContainsAny(id, "/\\ \t\n") || id == "." || id == ".." {
		return fmt.Errorf("invalid container id %q", id)
	}
	return nil
}

// Start writes the bundle and starts `runc run` for it, returning once
// runc reports the container running.
func (d *RuncDriver) Start(ctx context.Context, id string, cs ContainerSpec) error {
	if err := validID(id); err != nil {
		return err
	}
	if len(cs.Args) == 0 {
		return fmt.Errorf("container %s: no command to run", id)
	}
	d.mu.Lock()
	if _, ok := d.running[id]; ok {
		d.mu.Unlock()
		return fmt.Errorf("container %s: %w", id, ErrExists)
	}
	d.mu.Unlock()
	dir := d.bundle(id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	spec, err := json.MarshalIndent(ociSpec(id, cs), "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), spec, 0o600); err != nil {
		return fmt.Errorf("container %s: writing its bundle: %w", id, err)
	}
	// Not tied to ctx: the container outlives the request that started it.
	// runc's own errors go to a log of the bundle's as well as to the
	// container's stderr: a container whose process never ran is told
	// from one that ran and failed by what runc logged.
	logPath := filepath.Join(dir, "runc.log")
	_ = os.Remove(logPath)
	cmd := exec.Command(d.Binary, "--root", filepath.Join(d.Dir, "state"), "--log", logPath, "--log-format", "json", "run", "--keep", "--bundle", dir, id)
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = orDiscard(cs.Stdout), orDiscard(cs.Stderr)
	// Its own process group: a signal to the orchestrator's group does not
	// reach the containers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("container %s: starting runc: %w", id, err)
	}
	c := &runcContainer{cmd: cmd, done: make(chan struct{})}
	d.mu.Lock()
	d.running[id] = c
	d.mu.Unlock()
	go d.reap(id, c)
	// Wait until runc has the container running (or it ended already).
	for {
		info, err := d.state(ctx, id)
		if err == nil && info.Status == StatusRunning {
			return nil
		}
		select {
		case <-c.done:
			if c.err != nil {
				return fmt.Errorf("container %s: %w", id, c.err)
			}
			if msg := runcError(logPath); msg != "" {
				return &StartError{Msg: msg}
			}
			return nil // it ran and exited already; Wait reports how
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// runcError returns the last error runc logged (in its JSON log
// format), "" when it logged none.
func runcError(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	msg := ""
	for _, line := range bytes.Split(data, []byte("\n")) {
		var e struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal(line, &e) == nil && e.Level == "error" && e.Msg != "" {
			msg = e.Msg
		}
	}
	return msg
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// reap waits for `runc run` and records the container's exit.
func (d *RuncDriver) reap(id string, c *runcContainer) {
	err := c.cmd.Wait()
	st := ExitStatus{FinishedAt: time.Now()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		switch {
		case ws.Signaled():
			// runc itself was killed: the container is not known to be gone.
			st.Code, st.Signal = 128+int(ws.Signal()), ws.Signal()
		default:
			st.Code = ws.ExitStatus()
			if st.Code > 128 {
				st.Signal = syscall.Signal(st.Code - 128)
			}
		}
	default:
		c.err = err
	}
	st.OOMKilled = st.Signal == syscall.SIGKILL && d.oomKilled(id)
	c.exit = st
	d.Log.Debug("container exited", "id", id, "code", st.Code, "signal", st.Signal, "oom", st.OOMKilled)
	close(c.done)
}

// oomKilled tells whether the kernel OOM-killed in the container's memory
// cgroup, which `runc run --keep` leaves in place until Remove.
func (d *RuncDriver) oomKilled(id string) bool {
	b, err := os.ReadFile(filepath.Join(d.bundle(id), "config.json"))
	if err != nil {
		return false
	}
	var s struct {
		Linux struct {
			CgroupsPath string `json:"cgroupsPath"`
		} `json:"linux"`
	}
	if json.Unmarshal(b, &s) != nil || s.Linux.CgroupsPath == "" {
		return false
	}
	for _, f := range []string{
		filepath.Join("/sys/fs/cgroup", s.Linux.CgroupsPath, "memory.events"),             // v2
		filepath.Join("/sys/fs/cgroup/memory", s.Linux.CgroupsPath, "memory.oom_control"), // v1
	} {
		if oomKillCounted(f) {
			return true
		}
	}
	return false
}

// Wait blocks until the container exits. A container adopted from an
// earlier process is polled, and its exit status is Unknown.
func (d *RuncDriver) Wait(ctx context.Context, id string) (ExitStatus, error) {
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
	for seen := false; ; seen = true {
		info, err := d.state(ctx, id)
		if seen && errors.Is(err, ErrNotFound) {
			// Its `runc run` removed it on exit.
			return ExitStatus{Unknown: true, FinishedAt: time.Now()}, nil
		}
		if err != nil {
			return ExitStatus{}, err
		}
		if info.Status == StatusStopped {
			return ExitStatus{Unknown: true, FinishedAt: time.Now()}, nil
		}
		select {
		case <-ctx.Done():
			return ExitStatus{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Signal sends sig to the container's init process.
func (d *RuncDriver) Signal(ctx context.Context, id string, sig syscall.Signal) error {
	_, err := d.runc(ctx, "kill", id, strconv.Itoa(int(sig)))
	return err
}

// Exec runs args in the running container.
func (d *RuncDriver) Exec(ctx context.Context, id string, args []string, stdout, stderr io.Writer) (int, error) {
	if len(args) == 0 {
		return -1, errors.New("exec: no command")
	}
	cmd := exec.CommandContext(ctx, d.Binary, append([]string{"--root", filepath.Join(d.Dir, "state"), "exec", id}, args...)...)
	cmd.Stdout, cmd.Stderr = orDiscard(stdout), orDiscard(stderr)
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return -1, fmt.Errorf("exec in container %s: %w", id, err)
	}
	return 0, nil
}

// runcState is `runc state`'s output.
type runcState struct {
	ID      string    `json:"id"`
	Pid     int       `json:"pid"`
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
}

func (s runcState) info() Info {
	st := Status(s.Status)
	if st == "paused" {
		st = StatusRunning
	}
	pid := s.Pid
	if st != StatusRunning {
		pid = 0
	}
	return Info{ID: s.ID, Status: st, Pid: pid, Created: s.Created}
}

func (d *RuncDriver) state(ctx context.Context, id string) (Info, error) {
	out, err := d.runc(ctx, "state", id)
	if err != nil {
		return Info{}, err
	}
	var s runcState
	if err := json.Unmarshal(out, &s); err != nil {
		return Info{}, fmt.Errorf("runc state %s: %w", id, err)
	}
	return s.info(), nil
}

// List reports every container runc knows in this driver's state
// directory.
func (d *RuncDriver) List(ctx context.Context) ([]Info, error) {
	out, err := d.runc(ctx, "list", "--format", "json")
	if err != nil {
		return nil, err
	}
	var states []runcState
	if len(bytes.TrimSpace(out)) > 0 && string(bytes.TrimSpace(out)) != "null" {
		if err := json.Unmarshal(out, &states); err != nil {
			return nil, fmt.Errorf("runc list: %w", err)
		}
	}
	infos := make([]Info, 0, len(states))
	for _, s := range states {
		infos = append(infos, s.info())
	}
	return infos, nil
}

// Remove kills the container if it runs, deletes it from runc (which
// removes its cgroup) and removes its bundle.
func (d *RuncDriver) Remove(ctx context.Context, id string) error {
	if err := validID(id); err != nil {
		return err
	}
	_, err := d.runc(ctx, "delete", "--force", id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	d.mu.Lock()
	c := d.running[id]
	delete(d.running, id)
	d.mu.Unlock()
	if c != nil {
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Second):
			return fmt.Errorf("container %s: runc did not exit after delete", id)
		}
	}
	if err := os.RemoveAll(d.bundle(id)); err != nil {
		return fmt.Errorf("container %s: removing its bundle: %w", id, err)
	}
	return nil
}
