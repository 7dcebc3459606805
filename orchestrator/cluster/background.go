package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// DefaultStartTimeout is how long Start waits for the server to answer.
const DefaultStartTimeout = 30 * time.Second

// StartOptions configure Start.
type StartOptions struct {
	// DataDir is the data directory the server will use. Required.
	DataDir string
	// Command is the command line that runs the server in the foreground,
	// for example the pkg executable with "cluster serve --data-dir ...".
	Command []string
	// Timeout bounds the wait for the server; DefaultStartTimeout when 0.
	Timeout time.Duration
	// Progress receives one line per step and dots while waiting; may be
	// nil.
	Progress io.Writer
}

// StartError is returned by Start when the server did not come up: it
// carries the end of its log.
type StartError struct {
	// Log is the path of the server's log.
	Log string
	// Tail is the end of the log.
	Tail string
	// Err is the cause.
	Err error
}

// Error says why, where the log is, and quotes its end.
func (e *StartError) Error() string {
	return fmt.Sprintf("%v; the end of %s:\n%s", e.Err, e.Log, e.Tail)
}

// Unwrap returns the cause.
func (e *StartError) Unwrap() error { return e.Err }

// Start runs opts.Command in the background, in a session of its own with
// its output appended to the data directory's LogFile, and waits until the
// server it starts answers /version with the token. It refuses with a
// *RunningError when a server already holds the data directory.
func Start(ctx context.Context, opts StartOptions) (State, error) {
	if len(opts.Command) == 0 {
		return State{}, errors.New("cluster: no command to start")
	}
	if st, running, err := Check(opts.DataDir); err != nil {
		return State{}, err
	} else if running {
		return State{}, &RunningError{Dir: opts.DataDir, PID: st.PID, URL: st.URL}
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return State{}, fmt.Errorf("creating data dir: %w", err)
	}
	logPath := Paths{opts.DataDir}.Log()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return State{}, fmt.Errorf("opening log: %w", err)
	}
	defer logf.Close()
	offset, _ := logf.Seek(0, io.SeekEnd)

	cmd := exec.Command(opts.Command[0], opts.Command[1:]...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return State{}, fmt.Errorf("starting %s: %w", opts.Command[0], err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	fmt.Fprintf(progress, "Starting pkg cluster (pid %d, log %s) ", cmd.Process.Pid, logPath)

	fail := func(err error) (State, error) {
		fmt.Fprintln(progress)
		return State{}, &StartError{Log: logPath, Tail: tail(logPath, offset, 20), Err: err}
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case err := <-exited:
			if err == nil {
				err = errors.New("exited")
			}
			return fail(fmt.Errorf("the server stopped before serving: %w", err))
		case <-wctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
			return fail(fmt.Errorf("the server did not answer within %s: %w", timeout, wctx.Err()))
		case <-tick.C:
		}
		if n%5 == 4 {
			fmt.Fprint(progress, ".")
		}
		st, err := ReadState(opts.DataDir)
		if err != nil || st.PID != cmd.Process.Pid {
			continue
		}
		creds, err := LoadCredentials(opts.DataDir)
		if err != nil {
			continue
		}
		if err := Probe(wctx, st.URL, creds); err == nil {
			fmt.Fprintln(progress, " ready")
			return st, nil
		}
	}
}

// Stop sends SIGTERM to the server holding the data directory and waits up
// to timeout for it to let go. It fails with ErrNotRunning when no server
// holds it.
func Stop(ctx context.Context, dir string, timeout time.Duration, progress io.Writer) (State, error) {
	if progress == nil {
		progress = io.Discard
	}
	st, running, err := Check(dir)
	if err != nil {
		return st, err
	}
	if !running {
		return st, ErrNotRunning
	}
	if st.PID <= 0 {
		return st, fmt.Errorf("data dir %s is in use, but its server's pid is unknown", dir)
	}
	proc, err := os.FindProcess(st.PID)
	if err != nil {
		return st, err
	}
	if err := proc.Signal(syscall.SIGTERM); err != nil {
		return st, fmt.Errorf("stopping pid %d: %w", st.PID, err)
	}
	fmt.Fprintf(progress, "Stopping pkg cluster (pid %d) ", st.PID)
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-wctx.Done():
			fmt.Fprintln(progress)
			return st, fmt.Errorf("pid %d still holds %s after %s: %w", st.PID, dir, timeout, wctx.Err())
		case <-tick.C:
		}
		_, running, err := Check(dir)
		if err != nil {
			return st, err
		}
		if !running {
			fmt.Fprintln(progress, " stopped")
			return st, nil
		}
		if n%10 == 9 {
			fmt.Fprint(progress, ".")
		}
	}
}

// tail returns the last n lines written to the file at path after offset.
func tail(path string, offset int64, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	if offset > 0 && offset <= int64(len(b)) {
		b = b[offset:]
	}
	lines := strings.Split(strings.TrimRight(string(bytes.TrimSpace(b)), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
