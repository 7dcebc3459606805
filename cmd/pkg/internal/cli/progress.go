package cli

import (
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// progressMinBytes is the download size from which a progress bar is
// drawn.
const progressMinBytes = 300 << 10

// progressBar draws the progress of downloads on one terminal line, at
// most every interval, and clears it when a download ends.
type progressBar struct {
	mu       sync.Mutex
	w        io.Writer
	interval time.Duration
	now      func() time.Time
	last     time.Time
	shown    bool
	// verb starts the line ("Downloading" when empty).
	verb string
}

// terminalProgress returns a progress callback drawing downloads on
// standard error when it is a terminal, else nil: piped output stays
// quiet.
func terminalProgress(env Env) func(string, int64, int64, bool) {
	return terminalProgressVerb(env, "Downloading")
}

// terminalProgressVerb is terminalProgress with another verb ("Pushing")
// starting the line.
func terminalProgressVerb(env Env, verb string) func(string, int64, int64, bool) {
	f, ok := env.Streams.Err.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	p := &progressBar{w: f, interval: 100 * time.Millisecond, now: time.Now, verb: verb}
	return p.report
}

func (p *progressBar) report(rawURL string, read, total int64, done bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if done {
		if p.shown {
			fmt.Fprint(p.w, "\r\033[K")
			p.shown = false
		}
		return
	}
	size := total
	if size < 0 {
		size = read
	}
	if size < progressMinBytes {
		return
	}
	if now := p.now(); p.shown && now.Sub(p.last) < p.interval {
		return
	} else {
		p.last = now
	}
	name := path.Base(rawURL)
	verb := p.verb
	if verb == "" {
		verb = "Downloading"
	}
	if total > 0 {
		const width = 20
		filled := int(read * width / total)
		bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
		fmt.Fprintf(p.w, "\r\033[K%s %s %3d%% [%s] %s / %s", verb, name, read*100/total, bar, humanBytes(read), humanBytes(total))
	} else {
		fmt.Fprintf(p.w, "\r\033[K%s %s %s", verb, name, humanBytes(read))
	}
	p.shown = true
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
