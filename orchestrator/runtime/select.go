package runtime

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// The runtimes a node can be configured with.
const (
	// RuntimeAuto picks runc when it can run here, else the built-in
	// launcher.
	RuntimeAuto = "auto"
	// RuntimeRunc is the runc binary (RuncDriver).
	RuntimeRunc = "runc"
	// RuntimeBuiltin is the built-in launcher (LauncherDriver).
	RuntimeBuiltin = "builtin"
)

// RuntimeNames lists the accepted runtime names, for flags' help.
const RuntimeNames = "auto, runc or builtin"

// CheckName tells whether name names a runtime NewDriver knows.
func CheckName(name string) error {
	switch name {
	case "", RuntimeAuto, RuntimeRunc, RuntimeBuiltin:
		return nil
	}
	return fmt.Errorf("unknown container runtime %q: want %s", name, RuntimeNames)
}

// NewDriver opens the runtime a node is configured with (name is one of
// RuntimeNames; "" means auto), keeping its files under nodeDir ("runc" or
// "builtin" below it). It returns the driver and why it was chosen, for
// the node agent to log at start. Auto takes runc when the binary exists
// and we are root, and the built-in launcher otherwise.
func NewDriver(name, nodeDir string, log *slog.Logger) (Driver, string, error) {
	switch name {
	case RuntimeRunc:
		d, err := NewRuncDriver(filepath.Join(nodeDir, "runc"), "", log)
		if err != nil {
			return nil, "", err
		}
		return d, "configured (runtime: runc)", nil
	case RuntimeBuiltin:
		d, err := NewLauncherDriver(filepath.Join(nodeDir, "builtin"), log)
		if err != nil {
			return nil, "", err
		}
		return d, "configured (runtime: builtin)" + rootlessNote(d), nil
	case "", RuntimeAuto:
		rd, rerr := NewRuncDriver(filepath.Join(nodeDir, "runc"), "", log)
		if rerr == nil {
			return rd, "runc found at " + rd.Binary, nil
		}
		ld, lerr := NewLauncherDriver(filepath.Join(nodeDir, "builtin"), log)
		if lerr != nil {
			return nil, "", errors.Join(rerr, lerr)
		}
		return ld, "runc cannot run here (" + rerr.Error() + ")" + rootlessNote(ld), nil
	}
	return nil, "", CheckName(name)
}

func rootlessNote(d *LauncherDriver) string {
	if !d.Rootless() {
		return ""
	}
	note := "; rootless: containers run in user namespaces as uid 0 mapped to uid " + fmt.Sprint(os.Geteuid())
	if !d.cgroups {
		note += ", without cgroup limits (no cgroup delegated)"
	}
	return note
}
