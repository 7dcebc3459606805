package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startDockerRegistry runs Debian's docker-registry (the distribution
// project's registry) on a free loopback port and returns host:port. It
// skips the test when the program is missing, unless PKG_REQUIRE_REGISTRY=1.
func startDockerRegistry(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		if os.Getenv("PKG_REQUIRE_REGISTRY") == "1" {
			t.Fatalf("docker-registry is required here (PKG_REQUIRE_REGISTRY=1): %v", err)
		}
		t.Skipf("docker-registry not installed (apt-get install docker-registry): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yml")
	err = os.WriteFile(config, []byte(fmt.Sprintf(`version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
`, filepath.Join(dir, "data"), addr)), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve", config)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry did not start on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDockerRegistryStaticBinary pushes an image holding a static Go
// program to a real registry, pulls and unpacks it, and runs the program
// from the root filesystem.
func TestDockerRegistryStaticBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program and runs a registry; skipped under -short")
	}
	t.Parallel()
	host := startDockerRegistry(t)

	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "go.mod"), []byte("module hello\n\ngo 1.22\n"), 0o644)
	os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello from the image\") }\n"), 0o644)
	bin := filepath.Join(src, "hello")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = src
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	prog, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	img := testImage(t,
		layer(t, entry{name: "bin/", typ: tar.TypeDir}, entry{name: "bin/app", body: string(prog), mode: 0o755}),
		layer(t, entry{name: "etc/app.conf", body: "greeting=hello"}),
	)
	ref := host + "/static/hello:1"
	push(t, ref, img)

	s := openStore(t)
	got, err := s.Pull(bg, ref, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	if got.Digest != want.String() {
		t.Errorf("digest = %s, want %s", got.Digest, want)
	}
	root := filepath.Join(t.TempDir(), "rootfs")
	if _, err := s.Unpack(bg, ref, root, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(root, "bin", "app")).CombinedOutput()
	if err != nil || string(out) != "hello from the image\n" {
		t.Errorf("running the unpacked program: %v, output %q", err, out)
	}
	if _, err := s.Pull(bg, host+"/static/missing:1", PullOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("pulling a missing image from docker-registry: err = %v, want ErrNotFound", err)
	}
}
