//go:build unix

package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// lockRepoFile takes Helm's advisory lock on the repositories file
// (repositories.lock beside it), waiting up to 30 seconds, so that
// concurrent `repo add`s by pkg and helm do not lose each other's entry.
// The returned function releases it.
func lockRepoFile(ctx context.Context, repoFile string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(repoFile), 0o755); err != nil {
		return nil, err
	}
	lockPath := repoFile + ".lock"
	if ext := filepath.Ext(repoFile); ext != "" && len(ext) < len(repoFile) {
		lockPath = strings.TrimSuffix(repoFile, ext) + ".lock"
	}
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", lockPath, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
