package store

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests in this file run the test binary again as a helper process
// holding a store, selected by these environment variables.
const (
	helperModeEnv = "PKG_STORE_HELPER_MODE"
	helperDirEnv  = "PKG_STORE_HELPER_DIR"
)

// TestHelperProcess is the helper's body; it does nothing in a normal run.
// Mode "hold" opens the store, prints "ready" and waits to be killed. Mode
// "write" creates objects from several goroutines and prints "KEY REV" for
// each acknowledged write, until killed (or a minute has passed).
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperModeEnv)
	if mode == "" {
		return
	}
	ctx := context.Background()
	s, err := Open(ctx, os.Getenv(helperDirEnv), Options{SealedPrefixes: []string{"/registry/secrets/"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	deadline := time.Now().Add(time.Minute)
	switch mode {
	case "hold":
		fmt.Println("ready")
		time.Sleep(time.Until(deadline))
	case "write":
		var mu sync.Mutex
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := 0; time.Now().Before(deadline); i++ {
					prefix := "/registry/configmaps/"
					if i%2 == 1 {
						prefix = "/registry/secrets/"
					}
					key := fmt.Sprintf("%sg%d/%06d", prefix, g, i)
					kv, err := s.Create(ctx, key, []byte("value of "+key))
					if err != nil {
						fmt.Fprintln(os.Stderr, err)
						os.Exit(3)
					}
					mu.Lock()
					fmt.Printf("%s %d\n", key, kv.ModRev)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	os.Exit(0)
}

// startHelper runs the helper in mode on dir and returns it with its
// standard output.
func startHelper(t *testing.T, mode, dir string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperModeEnv+"="+mode, helperDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, bufio.NewReader(out)
}

// kill9 sends SIGKILL to the helper and checks that it died of it.
func kill9(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}

func waitKilled(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	err := cmd.Wait()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper ended with %v, want SIGKILL", err)
	}
}

// TestKill9 kills a process in the middle of a stream of writes and checks
// that every write it acknowledged is there after a restart, including the
// encrypted ones, and that the lock and pid file it left are recovered
// from.
func TestKill9(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd, out := startHelper(t, "write", dir)
	acked := map[string]int64{}
	var maxRev int64
	killed := false
	for {
		line, err := out.ReadString('\n')
		if err == io.EOF {
			break // a last line without newline was not fully acknowledged
		}
		if err != nil {
			t.Fatal(err)
		}
		key, revText, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		rev, err := strconv.ParseInt(revText, 10, 64)
		if !ok || err != nil {
			t.Fatalf("helper printed %q", line)
		}
		acked[key] = rev
		maxRev = max(maxRev, rev)
		if len(acked) == 2000 && !killed {
			kill9(t, cmd)
			killed = true
		}
	}
	if !killed {
		t.Fatalf("helper stopped after %d writes before being killed", len(acked))
	}
	waitKilled(t, cmd)
	if got := readPID(dir); got != cmd.Process.Pid {
		t.Fatalf("pid file holds %d, want the killed helper's %d", got, cmd.Process.Pid)
	}

	s := openDir(t, dir, Options{SealedPrefixes: []string{"/registry/secrets/"}})
	if got := readPID(dir); got != os.Getpid() {
		t.Errorf("pid file holds %d after reopening, want %d", got, os.Getpid())
	}
	ctx := context.Background()
	for key, rev := range acked {
		kv, err := s.Get(ctx, key)
		if err != nil {
			t.Fatalf("acknowledged write lost: %v", err)
		}
		if kv.ModRev != rev || string(kv.Value) != "value of "+key {
			t.Fatalf("Get(%s) = %q at revision %d, acknowledged at %d", key, kv.Value, kv.ModRev, rev)
		}
	}
	if got := s.Revision(); got < maxRev {
		t.Errorf("Revision() = %d after restart, below the acknowledged %d", got, maxRev)
	}
	t.Logf("%d acknowledged writes survived SIGKILL; %d writes on disk", len(acked), s.Revision())
}

func TestLockAcrossProcesses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd, out := startHelper(t, "hold", dir)
	if line, err := out.ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	start := time.Now()
	_, err := Open(context.Background(), dir, Options{LockTimeout: 300 * time.Millisecond})
	want := fmt.Sprintf("data dir %s is in use by another pkg cluster (pid %d)", dir, cmd.Process.Pid)
	if err == nil || err.Error() != want {
		t.Fatalf("Open of a held dir: err = %v, want %q", err, want)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("Open waited %v with a 300ms lock timeout", waited)
	}
	kill9(t, cmd)
	waitKilled(t, cmd)
	// The kernel released the flock; the pid file is stale.
	openDir(t, dir, Options{LockTimeout: 300 * time.Millisecond})
	if got := readPID(dir); got != os.Getpid() {
		t.Errorf("pid file holds %d, want %d", got, os.Getpid())
	}
}
