package store

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// openLocked opens the bbolt file of dir, holding its exclusive flock. When
// another store holds it for longer than timeout the error is a
// *LockedError naming the pid recorded by the holder. The lock belongs to
// the open file, so the kernel drops it when the holder exits or is killed:
// there is no stale lock to clean up after a crash.
func openLocked(dir string, timeout time.Duration) (*bolt.DB, error) {
	db, err := bolt.Open(filepath.Join(dir, DBFile), 0o600, &bolt.Options{
		Timeout:        timeout,
		FreelistType:   bolt.FreelistMapType,
		NoFreelistSync: true,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, &LockedError{Dir: dir, PID: readPID(dir)}
	}
	return db, err
}

// writePID records this process as the holder of dir. It is called with the
// lock held, so a pid file left by a crashed holder is simply replaced.
func writePID(dir string) error {
	path := filepath.Join(dir, PIDFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// removePID deletes the pid file if it still names this process. It runs
// before the lock is released, so it never removes the next holder's file.
func removePID(dir string) error {
	if readPID(dir) != os.Getpid() {
		return nil
	}
	err := os.Remove(filepath.Join(dir, PIDFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// readPID returns the pid recorded in dir, or 0 when there is none.
func readPID(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, PIDFile))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
