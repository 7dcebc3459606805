package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ExecOptions are the streams of an interactive exec (kubectl exec -i,
// -t): what the command reads, where its output goes, and its terminal.
type ExecOptions struct {
	// Args is the command line; required.
	Args []string
	// Stdin feeds the command's standard input; nil gives it none.
	Stdin io.Reader
	// Stdout and Stderr receive its output; nil discards it. With TTY,
	// the terminal's output goes to Stdout.
	Stdout, Stderr io.Writer
	// TTY runs the command on a terminal.
	TTY bool
	// Resize carries the terminal's sizes, the first one before the
	// command starts when it is already there; ignored without TTY.
	Resize <-chan WindowSize
}

// WindowSize is a terminal's size in characters.
type WindowSize struct {
	Width, Height uint16
}

// ExecStreamer is a driver that runs exec with standard input and
// terminals; RuncDriver is one.
type ExecStreamer interface {
	// ExecStream runs o.Args in the running container id and returns
	// its exit code once it ended and its output was delivered.
	ExecStream(ctx context.Context, id string, o ExecOptions) (int, error)
}

var _ ExecStreamer = (*RuncDriver)(nil)

// ExecStream runs a command in a running container with `runc exec`.
// With TTY, the command gets a terminal of ours as its standard streams
// (runc's pass-through mode: the terminal is runc's controlling one, and
// the command stays in runc's session and process group), so the
// terminal's line discipline is the only one between the command and the
// client, and a resize is one ioctl, which signals the command SIGWINCH.
// runc's own terminal mode is not used: it clears the CR-before-LF of the
// container's terminal only after the command started, so early output
// would come with a CR too many.
func (d *RuncDriver) ExecStream(ctx context.Context, id string, o ExecOptions) (int, error) {
	if err := validID(id); err != nil {
		return -1, err
	}
	if len(o.Args) == 0 {
		return -1, errors.New("exec: no command")
	}
	args := append([]string{"--root", filepath.Join(d.Dir, "state"), "exec", id}, o.Args...)
	cmd := exec.CommandContext(ctx, d.Binary, args...)
	// Children left holding the output get this long once the command
	// ended.
	cmd.WaitDelay = 2 * time.Second
	if !o.TTY {
		cmd.Stdout, cmd.Stderr = orDiscard(o.Stdout), orDiscard(o.Stderr)
		if o.Stdin == nil {
			return exitCode(id, cmd.Run())
		}
		// Stdin is copied apart from Wait, which would otherwise wait for
		// a client that keeps its input open after the command ended.
		in, err := cmd.StdinPipe()
		if err != nil {
			return -1, fmt.Errorf("exec in container %s: %w", id, err)
		}
		if err := cmd.Start(); err != nil {
			return -1, fmt.Errorf("exec in container %s: %w", id, err)
		}
		go func() {
			_, _ = io.Copy(in, o.Stdin)
			_ = in.Close()
		}()
		return exitCode(id, cmd.Wait())
	}
	master, slave, err := openPTY()
	if err != nil {
		return -1, fmt.Errorf("exec in container %s: %w", id, err)
	}
	defer master.Close()
	// The first size, which clients send as they connect, is the
	// terminal's size from the start.
	if o.Resize != nil {
		select {
		case ws, ok := <-o.Resize:
			if ok {
				_ = setWindowSize(master, ws)
			}
		case <-time.After(250 * time.Millisecond):
		case <-ctx.Done():
		}
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	// A session of runc's own, with our terminal as its controlling one.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		slave.Close()
		return -1, fmt.Errorf("exec in container %s: %w", id, err)
	}
	slave.Close()
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		// The terminal's output until its last holder closes it (EIO).
		_, _ = io.Copy(orDiscard(o.Stdout), master)
	}()
	if o.Stdin != nil {
		go func() { _, _ = io.Copy(master, o.Stdin) }()
	}
	done, resized := make(chan struct{}), make(chan struct{})
	if o.Resize == nil {
		close(resized)
	} else {
		go func() {
			defer close(resized)
			for {
				select {
				case ws, ok := <-o.Resize:
					if !ok {
						return
					}
					// The kernel signals the terminal's foreground
					// process group, the command's, SIGWINCH.
					_ = setWindowSize(master, ws)
				case <-done:
					return
				}
			}
		}()
	}
	err = cmd.Wait()
	close(done)
	<-resized
	// The output the command left in the terminal; a child it left
	// holding the terminal gets as long as cmd.WaitDelay.
	select {
	case <-copied:
	case <-time.After(cmd.WaitDelay):
	}
	return exitCode(id, err)
}

// exitCode turns the end of `runc exec` into the command's exit code.
func exitCode(id string, err error) (int, error) {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return -1, fmt.Errorf("exec in container %s: %w", id, err)
	}
	return 0, nil
}

// openPTY opens a new pseudo-terminal pair.
func openPTY() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("opening a terminal: %w", err)
	}
	// Through SyscallConn, not Fd, which would make reads block: the
	// master stays in the poller, so closing it ends a read in progress.
	var n uint32
	rc, err := master.SyscallConn()
	if err == nil {
		cerr := rc.Control(func(fd uintptr) {
			if err = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); err != nil {
				err = fmt.Errorf("unlocking the terminal: %w", err)
				return
			}
			if n, err = unix.IoctlGetUint32(int(fd), unix.TIOCGPTN); err != nil {
				err = fmt.Errorf("naming the terminal: %w", err)
			}
		})
		if err == nil {
			err = cerr
		}
	}
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("opening the terminal: %w", err)
	}
	return master, slave, nil
}

// setWindowSize sets the terminal's size; safe while another goroutine
// reads, writes or closes master.
func setWindowSize(master *os.File, ws WindowSize) error {
	rc, err := master.SyscallConn()
	if err != nil {
		return err
	}
	var ioErr error
	err = rc.Control(func(fd uintptr) {
		ioErr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: ws.Height, Col: ws.Width})
	})
	if err != nil {
		return err
	}
	return ioErr
}
