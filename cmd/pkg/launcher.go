package main

import (
	"os"

	"pkg.dev/pkg/orchestrator/runtime"
)

// The built-in container runtime re-executes this binary as a
// container's init; that process is told by one environment variable and
// never reaches the CLI. For every other command this costs one getenv.
func init() {
	if code, isInit := runtime.RunLauncherInit(); isInit {
		os.Exit(code)
	}
}
