package store

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestLockInProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	first, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, dir, Options{LockTimeout: 100 * time.Millisecond})
	var locked *LockedError
	if !errors.As(err, &locked) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: err = %v, want a *LockedError", err)
	}
	if locked.Dir != dir || locked.PID != os.Getpid() {
		t.Errorf("LockedError = %+v, want dir %s pid %d", locked, dir, os.Getpid())
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, PIDFile)); !os.IsNotExist(err) {
		t.Errorf("pid file left after Close: %v", err)
	}
	openDir(t, dir, Options{LockTimeout: 100 * time.Millisecond})
}

func TestLockWaitsForContext(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	openDir(t, dir, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Open(ctx, dir, Options{LockTimeout: time.Hour})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("Open waited %v past its context's deadline", waited)
	}
}

func TestStalePIDFile(t *testing.T) {
	t.Parallel()
	// A process that has exited leaves a pid nobody holds.
	exited := exec.Command(os.Args[0], "-test.run=^$")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"dead process": strconv.Itoa(exited.Process.Pid) + "\n",
		"garbage":      "not a pid",
		"empty":        "",
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, PIDFile), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			openDir(t, dir, Options{LockTimeout: 100 * time.Millisecond})
			if got := readPID(dir); got != os.Getpid() {
				t.Errorf("pid file holds %d, want %d", got, os.Getpid())
			}
		})
	}
}

func TestFileModes(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	s := openDir(t, dir, Options{SealedPrefixes: []string{"/registry/secrets/"}})
	mustCreate(t, s, "/registry/secrets/ns/a", "x")
	want := map[string]os.FileMode{
		dir:                         0o700 | os.ModeDir,
		filepath.Join(dir, DBFile):  0o600,
		filepath.Join(dir, PIDFile): 0o600,
		filepath.Join(dir, KeyFile): 0o600,
	}
	for path, mode := range want {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != mode {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode(), mode)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	file := filepath.Join(parent, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(parent, "corrupt")
	if err := os.MkdirAll(corrupt, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(corrupt, DBFile), []byte("this is not a bbolt file, not at all, no"), 0o600); err != nil {
		t.Fatal(err)
	}
	badKey := filepath.Join(parent, "badkey")
	if err := os.MkdirAll(badKey, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(badKey, KeyFile), []byte("c2hvcnQ=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{"dir is a file": file, "corrupt db": corrupt, "short key": badKey} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := Open(context.Background(), dir, Options{SealedPrefixes: []string{"/s/"}})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			var se *Error
			if !errors.As(err, &se) || se.Op != OpOpen || se.Key != dir {
				t.Errorf("err = %v, want an *Error naming the dir", err)
			}
			t.Log(err)
			if _, err := os.Stat(filepath.Join(dir, PIDFile)); err == nil {
				t.Errorf("failed Open left a pid file")
			}
		})
	}
}
