package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// cgroupRoot is where the cgroup hierarchies are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// v1Controllers are the cgroup v1 hierarchies a container's cgroup is
// made in: its limits (memory, cpu, pids) and its cpu usage (cpuacct,
// which the node agent's usage meter reads).
var v1Controllers = []string{"memory", "cpu", "cpuacct", "pids"}

// cgroup is one container's cgroup, in the unified (v2) hierarchy or in
// each v1 hierarchy, made and limited as runc does it for a bundle.
type cgroup struct {
	// Root is where the hierarchies are mounted; "" means cgroupRoot
	// (tests use a directory of their own).
	Root string
	// Path is the cgroup's path below each hierarchy ("/pkg/ID").
	Path string
	// V2 tells the host has the unified hierarchy only.
	V2 bool
}

// hostCgroupV2 tells whether /sys/fs/cgroup is the unified hierarchy.
func hostCgroupV2() bool {
	var st unix.Statfs_t
	return unix.Statfs(cgroupRoot, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

func (c cgroup) base() string {
	if c.Root != "" {
		return c.Root
	}
	return cgroupRoot
}

// dirs are the cgroup's directories, one per hierarchy that exists here.
func (c cgroup) dirs() []string {
	if c.V2 {
		return []string{filepath.Join(c.base(), c.Path)}
	}
	var out []string
	for _, ctl := range v1Controllers {
		if _, err := os.Stat(filepath.Join(c.base(), ctl)); err == nil {
			out = append(out, filepath.Join(c.base(), ctl, c.Path))
		}
	}
	return out
}

// create makes the cgroup and writes its limits.
func (c cgroup) create(r Resources) error {
	if c.V2 {
		if err := c.enableV2Controllers(); err != nil {
			return err
		}
	}
	for _, d := range c.dirs() {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("making cgroup %s: %w", d, err)
		}
	}
	return c.limit(r)
}

// enableV2Controllers turns on the memory, cpu and pids controllers in
// every ancestor of the cgroup, so that it has their files. It writes
// only where one is missing: a user given a delegated subtree cannot
// write above it, where they are on already.
func (c cgroup) enableV2Controllers() error {
	avail, err := os.ReadFile(filepath.Join(c.base(), "cgroup.controllers"))
	if err != nil {
		return fmt.Errorf("reading the cgroup controllers: %w", err)
	}
	var want []string
	for _, ctl := range []string{"memory", "cpu", "pids"} {
		if hasWord(string(avail), ctl) {
			want = append(want, ctl)
		}
	}
	enable := func(dir string) error {
		on, _ := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
		var missing []string
		for _, ctl := range want {
			if !hasWord(string(on), ctl) {
				missing = append(missing, "+"+ctl)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte(strings.Join(missing, " ")), 0o644); err != nil {
			return fmt.Errorf("enabling cgroup controllers in %s: %w", dir, err)
		}
		return nil
	}
	dir := c.base()
	if err := enable(dir); err != nil {
		return err
	}
	for _, part := range strings.Split(strings.Trim(filepath.Dir(c.Path), "/"), "/") {
		if part == "" {
			continue
		}
		dir = filepath.Join(dir, part)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("making cgroup %s: %w", dir, err)
		}
		if err := enable(dir); err != nil {
			return err
		}
	}
	return nil
}

// hasWord tells whether the space-separated list holds word.
func hasWord(list, word string) bool {
	for _, w := range strings.Fields(list) {
		if w == word {
			return true
		}
	}
	return false
}

// limit writes the resources as runc maps the OCI spec's: memory limit
// without swap, cpu shares (weight in v2) from the request, a CFS quota
// from the limit, and a pids limit.
func (c cgroup) limit(r Resources) error {
	lr := linuxResources(r)
	type setting struct{ file, value string }
	var set []setting
	if c.V2 {
		if lr.Memory != nil {
			set = append(set, setting{"memory.max", strconv.FormatInt(*lr.Memory.Limit, 10)}, setting{"memory.swap.max", "0"})
		}
		if lr.CPU != nil && lr.CPU.Shares != nil {
			// runc's conversion of shares [2, 262144] to weight [1, 10000].
			set = append(set, setting{"cpu.weight", strconv.FormatUint(1+((*lr.CPU.Shares-2)*9999)/262142, 10)})
		}
		if lr.CPU != nil && lr.CPU.Quota != nil {
			set = append(set, setting{"cpu.max", fmt.Sprintf("%d %d", *lr.CPU.Quota, *lr.CPU.Period)})
		}
		if lr.Pids != nil {
			set = append(set, setting{"pids.max", strconv.FormatInt(lr.Pids.Limit, 10)})
		}
	} else {
		if lr.Memory != nil {
			lim := strconv.FormatInt(*lr.Memory.Limit, 10)
			set = append(set, setting{"memory/memory.limit_in_bytes", lim}, setting{"memory/memory.memsw.limit_in_bytes", lim})
		}
		if lr.CPU != nil && lr.CPU.Shares != nil {
			set = append(set, setting{"cpu/cpu.shares", strconv.FormatUint(*lr.CPU.Shares, 10)})
		}
		if lr.CPU != nil && lr.CPU.Quota != nil {
			set = append(set, setting{"cpu/cpu.cfs_period_us", strconv.FormatUint(*lr.CPU.Period, 10)}, setting{"cpu/cpu.cfs_quota_us", strconv.FormatInt(*lr.CPU.Quota, 10)})
		}
		if lr.Pids != nil {
			set = append(set, setting{"pids/pids.max", strconv.FormatInt(lr.Pids.Limit, 10)})
		}
	}
	for _, s := range set {
		var file string
		if c.V2 {
			file = filepath.Join(c.base(), c.Path, s.file)
		} else {
			ctl, name, _ := strings.Cut(s.file, "/")
			file = filepath.Join(c.base(), ctl, c.Path, name)
		}
		if err := os.WriteFile(file, []byte(s.value), 0o644); err != nil {
			if errors.Is(err, os.ErrNotExist) && (strings.Contains(s.file, "swap") || strings.Contains(s.file, "memsw")) {
				continue // no swap accounting: nothing to limit
			}
			return fmt.Errorf("setting %s to %s: %w", file, s.value, err)
		}
	}
	return nil
}

// add moves a process into the cgroup.
func (c cgroup) add(pid int) error {
	for _, d := range c.dirs() {
		if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			return fmt.Errorf("moving process %d into cgroup %s: %w", pid, d, err)
		}
	}
	return nil
}

// oomKilled tells whether the kernel OOM-killed a process of the cgroup.
func (c cgroup) oomKilled() bool {
	file := filepath.Join(c.base(), "memory", c.Path, "memory.oom_control")
	if c.V2 {
		file = filepath.Join(c.base(), c.Path, "memory.events")
	}
	return oomKillCounted(file)
}

// oomKillCounted reads a memory.events (v2) or memory.oom_control (v1)
// file and tells whether its oom_kill count is not zero.
func oomKillCounted(file string) bool {
	data, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 2 && fields[0] == "oom_kill" && fields[1] != "0" {
			return true
		}
	}
	return false
}

// remove deletes the cgroup's directories, waiting up to timeout for
// the processes killed in it to be gone.
func (c cgroup) remove(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, d := range c.dirs() {
		for {
			err := unix.Rmdir(d)
			if err == nil || errors.Is(err, unix.ENOENT) {
				break
			}
			if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
				return fmt.Errorf("removing cgroup %s: %w", d, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}
