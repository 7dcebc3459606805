// Package testbuild builds the project's programs for the tests that run
// them (the test program that stands in for a container image, the pkg
// command), once per test process, and removes them when the tests end.
package testbuild

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
)

var (
	mu    sync.Mutex
	dir   string
	built = map[string]result{}
)

type result struct {
	path string
	err  error
}

// Program builds the main package pkg (a path from the module's root,
// such as "testdata/testapp" or "cmd/pkg") as a static binary and returns
// its path; later calls in the same process return the same one.
func Program(pkg string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if r, ok := built[pkg]; ok {
		return r.path, r.err
	}
	p, err := build(pkg)
	built[pkg] = result{p, err}
	return p, err
}

func build(pkg string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "pkg-testbuild-"); err != nil {
			return "", err
		}
	}
	out := filepath.Join(dir, path.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, "./"+pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %v\n%s", pkg, err, msg)
	}
	return out, nil
}

// Cleanup removes what Program built. A package's TestMain calls it
// after m.Run, so that test runs leave nothing in the temporary directory.
func Cleanup() {
	mu.Lock()
	defer mu.Unlock()
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
	dir = ""
	built = map[string]result{}
}

func moduleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("go.mod not found above the test's directory")
		}
		d = parent
	}
}
