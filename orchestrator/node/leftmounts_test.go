package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestAgentUnmountsWhatAnEarlierRunLeft: root filesystems an earlier run
// of the agent left mounted (it was killed before it could unmount them,
// and their Pods may be gone since) are unmounted when the agent starts.
func TestAgentUnmountsWhatAnEarlierRunLeft(t *testing.T) {
	var left string
	_, ctx := newRunnerEnvWith(t, func(r *PodRunner) {
		left = filepath.Join(r.Dir, "pods", "gone-uid", "containers", "main", "rootfs")
		if err := os.MkdirAll(left, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mount("tmpfs", left, "tmpfs", 0, "size=1m"); err != nil {
			t.Skipf("cannot mount a tmpfs here: %v", err)
		}
		t.Cleanup(func() { _ = unix.Unmount(left, unix.MNT_DETACH) })
	})
	for {
		b, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), " "+left+" ") {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("%s is still mounted after the agent started", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
