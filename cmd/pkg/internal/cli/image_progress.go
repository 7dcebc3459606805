package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/term"

	"pkg.dev/pkg/orchestrator/image"
)

// imagePullProgress draws one line per layer of a pull on a terminal,
// redrawn in place at most every interval.
type imagePullProgress struct {
	mu       sync.Mutex
	w        io.Writer
	interval time.Duration
	last     time.Time
	layers   map[string]image.Progress
	drawn    int // lines drawn so far
}

// newImagePullProgress returns a progress display on standard error when
// it is a terminal, else nil.
func newImagePullProgress(env Env) *imagePullProgress {
	f, ok := env.Streams.Err.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &imagePullProgress{w: f, interval: 100 * time.Millisecond, layers: map[string]image.Progress{}}
}

func (p *imagePullProgress) report(pr image.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.layers[pr.Layer] = pr
	if now := time.Now(); now.Sub(p.last) >= p.interval || pr.Done == pr.Total {
		p.last = now
		p.draw()
	}
}

func (p *imagePullProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw()
}

func (p *imagePullProgress) draw() {
	keys := make([]string, 0, len(p.layers))
	for k := range p.layers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\033[%dA", p.drawn)
	}
	for _, k := range keys {
		b.WriteString("\r\033[K")
		b.WriteString(layerProgressLine(p.layers[k]))
		b.WriteByte('\n')
	}
	p.drawn = len(keys)
	fmt.Fprint(p.w, b.String())
}

// layerProgressLine renders one layer: short digest, bar, bytes.
func layerProgressLine(pr image.Progress) string {
	id := pr.Layer
	if h, err := v1.NewHash(pr.Layer); err == nil && len(h.Hex) >= 12 {
		id = h.Hex[:12]
	}
	if pr.Cached {
		return fmt.Sprintf("%s: already exists", id)
	}
	if pr.Total <= 0 {
		return fmt.Sprintf("%s: %s", id, decimalSize(pr.Done))
	}
	const width = 30
	filled := int(pr.Done * width / pr.Total)
	if filled > width {
		filled = width
	}
	state := "Downloading"
	if pr.Done >= pr.Total {
		state = "Pull complete"
	}
	return fmt.Sprintf("%s: %-13s [%s%s] %s/%s", id, state, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), decimalSize(pr.Done), decimalSize(pr.Total))
}

// parsePlatform reads os/arch[/variant].
func parsePlatform(s string) (v1.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return v1.Platform{}, fmt.Errorf("invalid platform %q: use os/arch[/variant], e.g. linux/amd64", s)
	}
	p := v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}
