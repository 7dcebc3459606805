package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"pkg.dev/pkg/orchestrator/store"
)

// State is what a server records in the data directory's StateFile when it
// starts, for the commands that find it from another process. The file
// stays after the server stops, naming the last address served; Check
// tells whether a server runs.
type State struct {
	// PID is the server's process id.
	PID int `json:"pid"`
	// URL is the HTTPS address clients use.
	URL string `json:"url"`
	// Address and Port are where the server listens.
	Address string `json:"address"`
	Port    int    `json:"port"`
	// Nodes is the number of virtual nodes asked for; reserved until node
	// agents exist.
	Nodes int `json:"nodes"`
	// StartedAt is when the server started serving.
	StartedAt time.Time `json:"startedAt"`
}

// ReadState reads the state file of dir. The file may be left over by a
// server that crashed: use Check to know whether one runs.
func ReadState(dir string) (State, error) {
	var st State
	b, err := os.ReadFile(Paths{dir}.State())
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("reading %s: %w", Paths{dir}.State(), err)
	}
	return st, nil
}

// writeState records st in dir.
func writeState(dir string, st State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(Paths{dir}.State(), append(b, '\n'))
}

// Check reports whether a server holds the data directory dir, and its
// recorded state when it does. It asks the kernel whether the store's lock
// is held, so a pid file left by a killed server is not taken for a
// running one.
func Check(dir string) (State, bool, error) {
	held, err := lockHeld(Paths{dir}.File(store.DBFile))
	if err != nil || !held {
		return State{}, false, err
	}
	st, err := ReadState(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return State{}, true, err
	}
	return st, true, nil
}

// lockHeld reports whether some process holds the flock of the file at
// path, by trying to take a shared lock without waiting.
func lockHeld(path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking the lock of %s: %w", path, err)
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false, nil
}
