package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressBar(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	clock := time.Unix(0, 0)
	p := &progressBar{w: &out, interval: 100 * time.Millisecond, now: func() time.Time { return clock }}
	const total = 1 << 20
	p.report("https://x/charts/big-1.0.0.tgz", 1000, 1000, false) // small: nothing
	p.report("https://x/charts/big-1.0.0.tgz", 1000, 1000, true)
	if out.Len() != 0 {
		t.Fatalf("drew a bar for a small download: %q", out.String())
	}
	p.report("https://x/charts/big-1.0.0.tgz", total/4, total, false)
	p.report("https://x/charts/big-1.0.0.tgz", total/2, total, false) // too soon: skipped
	clock = clock.Add(time.Second)
	p.report("https://x/charts/big-1.0.0.tgz", total/2, total, false)
	p.report("https://x/charts/big-1.0.0.tgz", total, total, true)
	got := out.String()
	for _, want := range []string{"Downloading big-1.0.0.tgz  25% [=====               ] 256.0 KB / 1.0 MB", " 50% [==========          ] 512.0 KB / 1.0 MB", "\r\033[K"} {
		if !strings.Contains(got, want) {
			t.Errorf("output %q lacks %q", got, want)
		}
	}
	if strings.Count(got, "Downloading") != 2 || !strings.HasSuffix(got, "\r\033[K") {
		t.Errorf("output %q: want two draws and a cleared line", got)
	}
}

func TestProgressBarVerb(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	p := &progressBar{w: &out, interval: time.Second, now: time.Now, verb: "Pushing"}
	p.report("127.0.0.1:5000/charts/big:1.0.0", 400<<10, 800<<10, false)
	p.report("127.0.0.1:5000/charts/big:1.0.0", 800<<10, 800<<10, true)
	if want := "\r\033[KPushing big:1.0.0  50% [==========          ] 400.0 KB / 800.0 KB\r\033[K"; out.String() != want {
		t.Errorf("drew %q, want %q", out.String(), want)
	}
}
