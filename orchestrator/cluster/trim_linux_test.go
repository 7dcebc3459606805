package cluster

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestParseSmaps(t *testing.T) {
	in := `00400000-02214000 r-xp 00000000 fe:00 123 /usr/bin/pkg
Size:              30800 kB
Rss:               22000 kB
Anonymous:             0 kB
02214000-045f6000 r--p 01e14000 fe:00 123 /usr/bin/pkg
Anonymous:             8 kB
045f6000-046a5000 rw-p 041f6000 fe:00 123 /usr/bin/pkg
Anonymous:           200 kB
7ffc1000-7ffc2000 rw-p 00000000 00:00 0 [stack]
Anonymous:             4 kB
7ffd0000-7ffd1000 r--p 00000000 00:00 0 /path with spaces/x
Anonymous:           bad kB
`
	got := parseSmaps([]byte(in))
	if len(got) != 5 {
		t.Fatalf("parsed %d mappings, want 5: %+v", len(got), got)
	}
	if got[0].start != 0x400000 || got[0].end != 0x2214000 || got[0].perms != "r-xp" || got[0].path != "/usr/bin/pkg" || got[0].anonymousKiB != 0 {
		t.Errorf("first mapping: %+v", got[0])
	}
	if got[1].anonymousKiB != 8 || got[2].anonymousKiB != 200 {
		t.Errorf("Anonymous sizes: %d, %d", got[1].anonymousKiB, got[2].anonymousKiB)
	}
	if got[3].path != "[stack]" || got[4].path != "/path with spaces/x" {
		t.Errorf("paths: %q, %q", got[3].path, got[4].path)
	}
	if got[4].anonymousKiB == 0 {
		t.Error("an unreadable Anonymous size must count as written, so the mapping is never trimmed")
	}
}

// TestTrimStartupMemory trims this test binary's own code and constant
// pages, then goes on running code from them: the pages it still needs
// come back from the page cache, and what it did not need stays out.
func TestTrimStartupMemory(t *testing.T) {
	before := fileResidentKiB(t)
	n, err := trimStartupMemory()
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no mapping of the executable was trimmed")
	}
	after := fileResidentKiB(t)
	// Code, strings and tables still work after the trim.
	if got := strings.Repeat(strconv.Itoa(42), 3); got != "424242" {
		t.Fatalf("after the trim: %q", got)
	}
	if u := URL("127.0.0.1", 6443); u != "https://127.0.0.1:6443" {
		t.Fatalf("after the trim: %q", u)
	}
	if after >= before {
		t.Errorf("file-backed resident memory did not fall: %d KiB before, %d KiB after", before, after)
	}
	t.Logf("RssFile %d KiB before the trim, %d KiB after; %d bytes of mappings trimmed", before, after, n)
}

func fileResidentKiB(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status:", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}
