package cli_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pkg.dev/pkg/cmd/pkg/internal/cli"
	"pkg.dev/pkg/repo"
)

// openPTY opens a pseudo-terminal and returns its two ends; it skips
// when the system has none.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal to draw progress on: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Fatalf("unlocking the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Fatalf("naming the pseudo-terminal: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("opening /dev/pts/%d: %v", n, err)
	}
	return m, s
}

// runPkgOnTerminal runs pkg with standard error on a pseudo-terminal and
// returns what was drawn there.
func runPkgOnTerminal(t *testing.T, sb sandbox, args ...string) (outcome, string) {
	t.Helper()
	master, slave := openPTY(t)
	drawn := make(chan string)
	go func() {
		var b bytes.Buffer
		io.Copy(&b, master) // ends with EIO once the slave is closed
		drawn <- b.String()
	}()
	var stdout bytes.Buffer
	code := cli.Run(context.Background(), cli.Env{
		Streams: cli.Streams{In: strings.NewReader(""), Out: &stdout, Err: slave},
		Getenv:  func(k string) string { return sb[k] },
	}, args)
	slave.Close()
	var out string
	select {
	case out = <-drawn:
	case <-time.After(10 * time.Second):
		t.Fatal("the terminal was not drained")
	}
	master.Close()
	return outcome{stdout: stdout.String(), code: code}, out
}

// bigChart packages a chart of about 600 KB (incompressible) into dir.
func bigChart(t *testing.T, sb sandbox, dir string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "big")
	if err := os.MkdirAll(filepath.Join(src, "files"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(src, "Chart.yaml"), []byte("apiVersion: v2\nname: big\nversion: 1.0.0\n"), 0o644)
	blob := make([]byte, 600<<10)
	rand.Read(blob)
	os.WriteFile(filepath.Join(src, "files", "blob.bin"), blob, 0o644)
	if o := runPkg(t, sb, "", "package", src, "-d", dir); o.code != 0 {
		t.Fatal(o.stderr)
	}
	return filepath.Join(dir, "big-1.0.0.tgz")
}

// TestRegistryProgress pushes and pulls a large chart through a real
// registry, and pulls it from an HTTP repository: on a terminal a
// progress bar is drawn and cleared, piped nothing but the usual lines
// is printed.
func TestRegistryProgress(t *testing.T) {
	host := startRegistry(t, "", "")
	sb := newSandbox(t)
	work := t.TempDir()
	archive := bigChart(t, sb, work)
	remote := "oci://" + host + "/charts"

	o, drawn := runPkgOnTerminal(t, sb, "push", archive, remote, "--plain-http")
	if o.code != 0 {
		t.Fatalf("push: %s", drawn)
	}
	if !strings.Contains(drawn, "Pushing big:1.0.0 ") || !strings.Contains(drawn, "\r\033[K") {
		t.Errorf("push drew no progress bar on the terminal: %q", drawn)
	}
	if !strings.Contains(drawn, "Pushed: "+host+"/charts/big:1.0.0") {
		t.Errorf("push did not report the push: %q", drawn)
	}

	o, drawn = runPkgOnTerminal(t, sb, "pull", remote+"/big", "--plain-http", "-d", t.TempDir())
	if o.code != 0 {
		t.Fatalf("pull: %s", drawn)
	}
	if !strings.Contains(drawn, "Downloading big:1.0.0 ") || !strings.Contains(drawn, " / 600.") || !strings.Contains(drawn, "\r\033[KPulled: ") {
		t.Errorf("pull drew no progress bar on the terminal: %q", drawn)
	}

	// Piped: quiet (the bar is drawn at once on a terminal, and then at
	// most every 100ms, so the fast loopback pulls above draw it once).
	dest := t.TempDir()
	p := runPkg(t, sb, "", "push", archive, remote+"/again", "--plain-http")
	q := runPkg(t, sb, "", "pull", remote+"/big", "--plain-http", "-d", dest)
	if p.code != 0 || q.code != 0 {
		t.Fatalf("push %s / pull %s", p.stderr, q.stderr)
	}
	for _, s := range []string{p.stderr, q.stderr, p.stdout, q.stdout} {
		if strings.Contains(s, "\r") || strings.Contains(s, "%") {
			t.Errorf("progress drawn on a pipe: %q", s)
		}
	}
	if want := "Pulled: " + host + "/charts/big:1.0.0\nDigest: sha256:"; !strings.HasPrefix(q.stderr, want) {
		t.Errorf("pull printed %q", q.stderr)
	}
	got, _ := os.ReadFile(filepath.Join(dest, "big-1.0.0.tgz"))
	want, _ := os.ReadFile(archive)
	if !bytes.Equal(got, want) {
		t.Error("pulled other bytes than were pushed")
	}

	// An HTTP repository, through the same bar.
	dir := filepath.Dir(archive)
	if err := repo.WriteDirectoryIndex(dir, repo.IndexOptions{Now: time.Unix(1700000000, 0).UTC()}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	o, drawn = runPkgOnTerminal(t, sb, "pull", "big", "--repo", srv.URL, "-d", t.TempDir())
	if o.code != 0 {
		t.Fatalf("pull --repo: %s", drawn)
	}
	if !strings.Contains(drawn, "Downloading big-1.0.0.tgz ") {
		t.Errorf("pull --repo drew no progress bar: %q", drawn)
	}
}
