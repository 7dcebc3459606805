package node

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestOpenLogs writes two runs of a container's log as the runner does
// and reads them back as kubectl logs asks: the current run, --previous,
// --tail, --timestamps, --limit-bytes and --follow.
func TestOpenLogs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", UID: "u1"},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "c", RestartCount: 1,
			State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 3}}}}}}
	clock := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
	write := func(run int32, text string) *os.File {
		p := LogPath(dir, "u1", "c", run)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		w := &logWriter{mu: &sync.Mutex{}, f: f, stream: "stdout", now: func() time.Time { return clock }}
		if _, err := w.Write([]byte(text)); err != nil {
			t.Fatal(err)
		}
		return f
	}
	write(0, "old one\nold two\n").Close()
	cur := write(1, "new one\nnew two\nnew three\n")
	defer cur.Close()
	read := func(opts corev1.PodLogOptions) string {
		t.Helper()
		opts.Container = "c"
		rc, err := OpenLogs(context.Background(), dir, pod, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	two := int64(2)
	five := int64(5)
	cases := []struct {
		opts corev1.PodLogOptions
		want string
	}{
		{corev1.PodLogOptions{}, "new one\nnew two\nnew three\n"},
		{corev1.PodLogOptions{Previous: true}, "old one\nold two\n"},
		{corev1.PodLogOptions{TailLines: &two}, "new two\nnew three\n"},
		{corev1.PodLogOptions{Timestamps: true, TailLines: &two}, "2026-11-27T04:00:00Z new two\n2026-11-27T04:00:00Z new three\n"},
		{corev1.PodLogOptions{LimitBytes: &five}, "new o"},
	}
	for _, c := range cases {
		if got := read(c.opts); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.opts, got, c.want)
		}
	}
	// --follow sees what is written next.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc, err := OpenLogs(ctx, dir, pod, corev1.PodLogOptions{Container: "c", Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	w := &logWriter{mu: &sync.Mutex{}, f: cur, stream: "stdout", now: func() time.Time { return clock }}
	go func() {
		time.Sleep(300 * time.Millisecond)
		_, _ = w.Write([]byte("later\n"))
	}()
	var got strings.Builder
	buf := make([]byte, 64)
	for !strings.Contains(got.String(), "later\n") {
		n, err := rc.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("follow ended early: %v, got %q", err, got.String())
		}
	}
	rc.Close()

	// In a crash loop's back-off the run that just ended is the one
	// LastTerminationState describes: kubectl logs and logs --previous
	// both show it.
	st := &pod.Status.ContainerStatuses[0]
	st.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
	if got := read(corev1.PodLogOptions{Previous: true}); got != "new one\nnew two\nnew three\nlater\n" {
		t.Errorf("--previous in back-off: %q", got)
	}
	if got := read(corev1.PodLogOptions{}); got != "new one\nnew two\nnew three\nlater\n" {
		t.Errorf("logs in back-off: %q", got)
	}

	// A first run: nothing before it.
	st.RestartCount, st.LastTerminationState = 0, corev1.ContainerState{}
	st.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	if _, err := OpenLogs(context.Background(), dir, pod, corev1.PodLogOptions{Container: "c", Previous: true}); err == nil || !strings.Contains(err.Error(), "previous terminated container") {
		t.Errorf("--previous of a first run: %v", err)
	}
	// Waiting to start for the first time: why, as the kubelet says it.
	st.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}
	if _, err := OpenLogs(context.Background(), dir, pod, corev1.PodLogOptions{Container: "c"}); err == nil || !strings.Contains(err.Error(), "is waiting to start: ImagePullBackOff") {
		t.Errorf("logs of a container never started: %v", err)
	}
}
