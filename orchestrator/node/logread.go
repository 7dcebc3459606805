package node

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// OpenLogs reads a container's log as `kubectl logs` shows it, from the
// files a PodRunner keeping its Pods under dir wrote: the current run, or
// the one before with Previous; with timestamps, since a time, the last
// lines, at most some bytes; and, with Follow, what the container writes
// next, until ctx ends or the container is restarted.
func OpenLogs(ctx context.Context, dir string, pod *corev1.Pod, opts corev1.PodLogOptions) (io.ReadCloser, error) {
	var st *corev1.ContainerStatus
	for _, s := range append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
		if s.Name == opts.Container {
			st = &s
		}
	}
	if st == nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("container %q in pod %q is waiting to start: ContainerCreating", opts.Container, pod.Name))
	}
	// Run N of a container logs to file N, and RestartCount is the number
	// of the run started last: while the container waits (a crash loop's
	// back-off) that run has ended and is the one LastTerminationState
	// describes; while it runs or has ended for good, the one before it is.
	restarts := st.RestartCount
	current := st.State.Running != nil || st.State.Terminated != nil
	ended := st.LastTerminationState.Terminated != nil
	switch {
	case opts.Previous:
		if !ended {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("previous terminated container %q in pod %q not found", opts.Container, pod.Name))
		}
		if current {
			restarts--
		}
		opts.Follow = false
	case !current && !ended:
		reason := "ContainerCreating"
		if st.State.Waiting != nil && st.State.Waiting.Reason != "" {
			reason = st.State.Waiting.Reason
		}
		return nil, apierrors.NewBadRequest(fmt.Sprintf("container %q in pod %q is waiting to start: %s", opts.Container, pod.Name, reason))
	}
	path := LogPath(dir, pod.UID, opts.Container, restarts)
	f, err := os.Open(path)
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("container %q in pod %q has no log yet", opts.Container, pod.Name))
	}
	pr, pw := io.Pipe()
	go func() {
		defer f.Close()
		pw.CloseWithError(copyLog(ctx, f, pw, opts, LogPath(dir, pod.UID, opts.Container, restarts+1)))
	}()
	return pr, nil
}

// copyLog writes the log's lines to w as the options ask.
func copyLog(ctx context.Context, f *os.File, w io.Writer, opts corev1.PodLogOptions, next string) error {
	var since time.Time
	if opts.SinceSeconds != nil {
		since = time.Now().Add(-time.Duration(*opts.SinceSeconds) * time.Second)
	}
	if opts.SinceTime != nil && opts.SinceTime.After(since) {
		since = opts.SinceTime.Time
	}
	limit := int64(-1)
	if opts.LimitBytes != nil {
		limit = *opts.LimitBytes
	}
	format := func(line string) (string, bool) {
		ts, rest, ok := strings.Cut(line, " ")
		if !ok {
			return "", false
		}
		_, rest, _ = strings.Cut(rest, " ") // stream
		tag, content, _ := strings.Cut(rest, " ")
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err == nil && !since.IsZero() && t.Before(since) {
			return "", false
		}
		out := content
		if tag == "F" {
			out += "\n"
		}
		if opts.Timestamps {
			out = ts + " " + out
		}
		return out, true
	}
	emit := func(s string) bool {
		if limit >= 0 {
			if limit == 0 {
				return false
			}
			if int64(len(s)) > limit {
				s = s[:limit]
			}
			limit -= int64(len(s))
		}
		_, err := io.WriteString(w, s)
		return err == nil
	}
	rd := bufio.NewReader(f)
	var lines []string
	for {
		line, err := rd.ReadString('\n')
		if line != "" && strings.HasSuffix(line, "\n") {
			if s, ok := format(strings.TrimSuffix(line, "\n")); ok {
				lines = append(lines, s)
			}
		}
		if err != nil {
			break
		}
	}
	if opts.TailLines != nil && int64(len(lines)) > *opts.TailLines {
		lines = lines[int64(len(lines))-*opts.TailLines:]
	}
	for _, l := range lines {
		if !emit(l) {
			return nil
		}
	}
	if !opts.Follow {
		return nil
	}
	var partial bytes.Buffer
	for {
		line, err := rd.ReadString('\n')
		partial.WriteString(line)
		if err == nil {
			if s, ok := format(strings.TrimSuffix(partial.String(), "\n")); ok && !emit(s) {
				return nil
			}
			partial.Reset()
			continue
		}
		if _, statErr := os.Stat(next); statErr == nil {
			return nil // the container restarted: this run's log is over
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}
