package cluster

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// trimStartupMemory gives back what only start-up needed, once the
// server and its components run:
//
//   - the heap freed since start (parsing, the scheme, the first syncs)
//     goes back to the OS instead of waiting for the scavenger;
//   - the pages of the executable's read-only mappings (code and
//     constant data) are unmapped from this process with MADV_DONTNEED.
//     Start-up runs the init functions of every package linked into the
//     one pkg binary, and with the kernel's fault-around each of them
//     maps 64 KiB of pages; few are touched again by a serving cluster.
//     The pages stay in the page cache, so the ones still used fault
//     back in at the cost of a minor fault, and other pkg processes
//     keep theirs.
//
// A mapping is only trimmed when it is read-only and holds no private
// copy of any page (smaps' Anonymous is 0): trimming a page written
// since mapping (as in a relocated PIE segment) would lose the write.
// It returns the number of bytes of mappings trimmed.
func trimStartupMemory() (int64, error) {
	debug.FreeOSMemory()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, err
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	var trimmed int64
	for _, m := range parseSmaps(smaps) {
		if m.path != exe || m.perms[1] == 'w' || m.anonymousKiB != 0 || m.end <= m.start {
			continue
		}
		// The raw call: the range is this process's own mapping, known
		// only as numbers from smaps.
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, syscall.MADV_DONTNEED); errno != 0 {
			return trimmed, fmt.Errorf("madvise %x-%x: %w", m.start, m.end, errno)
		}
		trimmed += int64(m.end - m.start)
	}
	return trimmed, nil
}

// mapping is one entry of /proc/self/smaps, as far as trimming needs.
type mapping struct {
	start, end   uintptr
	perms        string
	path         string
	anonymousKiB int64
}

// parseSmaps reads the address range, permissions, path and Anonymous
// size of each mapping. Lines it does not know are skipped.
func parseSmaps(b []byte) []mapping {
	var out []mapping
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(f[0], "-"); ok && len(f) >= 5 && !strings.HasSuffix(f[0], ":") {
			s, err1 := strconv.ParseUint(lo, 16, 64)
			e, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 != nil || err2 != nil || len(f[1]) < 4 {
				continue
			}
			m := mapping{start: uintptr(s), end: uintptr(e), perms: f[1]}
			if len(f) >= 6 {
				m.path = strings.Join(f[5:], " ")
			}
			out = append(out, m)
			continue
		}
		if f[0] == "Anonymous:" && len(f) >= 2 && len(out) > 0 {
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				n = 1 // unknown: treat as written, never trim it
			}
			out[len(out)-1].anonymousKiB = n
		}
	}
	return out
}

// residentKiB is this process's VmRSS, or -1 when it cannot be read.
func residentKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}
