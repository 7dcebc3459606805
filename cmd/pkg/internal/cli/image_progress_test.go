package cli

import (
	"bytes"
	"strings"
	"testing"

	"pkg.dev/pkg/orchestrator/image"
)

func TestImageDecimalSize(t *testing.T) {
	t.Parallel()
	// The sizes crictl prints (docker/go-units HumanSizeWithPrecision, 3).
	for n, want := range map[int64]string{
		0: "0B", 999: "999B", 1000: "1kB", 1234: "1.23kB", 56_700_000: "56.7MB", 740_000: "740kB", 3_000_000_000: "3GB",
	} {
		if got := decimalSize(n); got != want {
			t.Errorf("decimalSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestImagePullProgress(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := &imagePullProgress{w: &buf, layers: map[string]image.Progress{}}
	a := "sha256:" + strings.Repeat("a", 64)
	b := "sha256:" + strings.Repeat("b", 64)
	p.report(image.Progress{Layer: a, Done: 500, Total: 1000})
	p.report(image.Progress{Layer: b, Done: 10, Total: 10, Cached: true})
	p.report(image.Progress{Layer: a, Done: 1000, Total: 1000})
	p.finish()
	out := buf.String()
	for _, want := range []string{
		"aaaaaaaaaaaa: Downloading   [===============               ] 500B/1kB",
		"bbbbbbbbbbbb: already exists",
		"aaaaaaaaaaaa: Pull complete [==============================] 1kB/1kB",
		"\033[2A", // redrawn in place
	} {
		if !strings.Contains(out, want) {
			t.Errorf("progress output lacks %q:\n%q", want, out)
		}
	}
}
