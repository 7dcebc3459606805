package cluster

import (
	"pkg.dev/pkg/orchestrator/apiserver"
	"pkg.dev/pkg/orchestrator/runtime"
)

// execOptions carries an exec's streams from the API server to the
// container runtime, terminal sizes included.
func execOptions(command []string, s apiserver.ExecIO) runtime.ExecOptions {
	o := runtime.ExecOptions{Args: command, Stdin: s.Stdin, Stdout: s.Stdout, Stderr: s.Stderr, TTY: s.TTY}
	if s.Resize != nil {
		sizes := make(chan runtime.WindowSize, 1)
		go func() {
			defer close(sizes)
			for ts := range s.Resize {
				ws := runtime.WindowSize{Width: ts.Width, Height: ts.Height}
				// The latest size wins: never block on a runtime that
				// stopped reading (the command ended).
				select {
				case sizes <- ws:
				default:
					select {
					case <-sizes:
					default:
					}
					sizes <- ws
				}
			}
		}()
		o.Resize = sizes
	}
	return o
}
