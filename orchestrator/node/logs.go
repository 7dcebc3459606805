package node

import (
	"bytes"
	"os"
	"sync"
	"time"
)

// logWriter writes a container stream to its log file in the CRI format
// the kubelet uses: "TIMESTAMP STREAM F LINE", one line at a time, so
// that logs can be served with timestamps and by stream.
type logWriter struct {
	mu     *sync.Mutex
	f      *os.File
	stream string
	buf    []byte
	now    func() time.Time
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := w.buf[:i]
		if _, err := w.f.WriteString(w.now().UTC().Format(time.RFC3339Nano) + " " + w.stream + " F " + string(line) + "\n"); err != nil {
			return 0, err
		}
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

// flush writes what is left without a final newline, as a partial line.
func (w *logWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		_, _ = w.f.WriteString(w.now().UTC().Format(time.RFC3339Nano) + " " + w.stream + " P " + string(w.buf) + "\n")
		w.buf = nil
	}
}
