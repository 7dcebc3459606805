package runtime

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"
)

var _ ExecStreamer = (*LauncherDriver)(nil)

// ExecStream runs a command in a running container with standard input
// and, with TTY, on a terminal of ours, whose size follows o.Resize.
func (d *LauncherDriver) ExecStream(ctx context.Context, id string, o ExecOptions) (int, error) {
	cmd, start, cg, err := d.execCmd(ctx, id, o.Args)
	if err != nil {
		return -1, err
	}
	return runStreams(id, cmd, o, cg, start)
}

// runStreams starts cmd with start, connected to o's streams (a
// terminal of ours with TTY), moves it into the container's cgroup and
// waits for it, returning its exit code.
func runStreams(id string, cmd *exec.Cmd, o ExecOptions, cg cgroup, start func() error) (int, error) {
	cmd.WaitDelay = 2 * time.Second
	join := func() error { return joinAfterStart(id, cmd, cg) }
	if !o.TTY {
		cmd.Stdout, cmd.Stderr = orDiscard(o.Stdout), orDiscard(o.Stderr)
		var in io.WriteCloser
		if o.Stdin != nil {
			var err error
			if in, err = cmd.StdinPipe(); err != nil {
				return -1, fmt.Errorf("exec in container %s: %w", id, err)
			}
		}
		if err := start(); err != nil {
			return -1, fmt.Errorf("exec in container %s: %w", id, err)
		}
		if err := join(); err != nil {
			return -1, err
		}
		if in != nil {
			go func() {
				_, _ = io.Copy(in, o.Stdin)
				_ = in.Close()
			}()
		}
		return exitCode(id, cmd.Wait())
	}
	master, slave, err := openPTY()
	if err != nil {
		return -1, fmt.Errorf("exec in container %s: %w", id, err)
	}
	defer master.Close()
	select {
	case ws, ok := <-o.Resize:
		if ok {
			_ = setWindowSize(master, ws)
		}
	default:
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, true, 0
	if err := start(); err != nil {
		slave.Close()
		return -1, fmt.Errorf("exec in container %s: %w", id, err)
	}
	slave.Close()
	if err := join(); err != nil {
		return -1, err
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(orDiscard(o.Stdout), master)
	}()
	if o.Stdin != nil {
		go func() { _, _ = io.Copy(master, o.Stdin) }()
	}
	done := make(chan struct{})
	if o.Resize != nil {
		go func() {
			for {
				select {
				case ws, ok := <-o.Resize:
					if !ok {
						return
					}
					// The kernel signals SIGWINCH to the terminal's
					// foreground process group.
					_ = setWindowSize(master, ws)
				case <-done:
					return
				}
			}
		}()
	}
	err = cmd.Wait()
	close(done)
	wg.Wait()
	return exitCode(id, err)
}
