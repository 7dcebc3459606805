// Package helmtest locates the reference Helm that differential tests
// compare pkg with: the source of helm.sh/helm/v3 in the module cache
// (whose own test charts the tests render and lint in place, rather than
// copying them) and the reference binary built as released
// (bench/helm-ref.sh). It is test support: only _test.go files import it.
package helmtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// moduleDir runs `go list` once per test binary.
var moduleDir = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "helm.sh/helm/v3").Output()
	if err != nil {
		return "", fmt.Errorf("locating helm.sh/helm/v3 with go list: %w", err)
	}
	dir := strings.TrimSpace(string(out))
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("helm.sh/helm/v3 is not in the module cache: %w", err)
	}
	return dir, nil
})

// ModuleDir returns the directory of helm.sh/helm/v3 in the module cache.
func ModuleDir() (string, error) { return moduleDir() }

// ModuleRoot returns this repository's root: the nearest directory above
// the test's working directory that holds go.mod.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// Binary returns the reference helm binary: $PKG_HELM_REF, else
// .cache/helm-ref/helm under the repository root (`make helm-ref` builds
// it), else /tmp/helm-ref/helm. Without one the test is skipped, unless
// PKG_REQUIRE_HELM_REF=1 (as in CI) makes that a failure. Under -short the
// test is skipped: these comparisons run real processes.
func Binary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the reference helm binary; skipped under -short")
	}
	candidates := []string{filepath.Join(ModuleRoot(t), ".cache", "helm-ref", "helm"), "/tmp/helm-ref/helm"}
	if env := os.Getenv("PKG_HELM_REF"); env != "" {
		candidates = []string{env}
	}
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
			return c
		}
	}
	msg := fmt.Sprintf("reference helm binary not found (looked at %s); run `make helm-ref` or set PKG_HELM_REF", strings.Join(candidates, ", "))
	if os.Getenv("PKG_REQUIRE_HELM_REF") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
