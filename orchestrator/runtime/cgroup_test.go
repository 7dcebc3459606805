package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCgroupLimitsFiles checks what the launcher writes for a container's
// limits in each cgroup version, in a directory standing for
// /sys/fs/cgroup (the host running the tests has one version only).
func TestCgroupLimitsFiles(t *testing.T) {
	t.Parallel()
	res := Resources{MemoryLimit: 128 << 20, CPURequestMilli: 250, CPULimitMilli: 1500, PidsLimit: 100}
	for _, tc := range []struct {
		name  string
		v2    bool
		setup []string // directories of the fake hierarchy
		want  map[string]string
	}{
		{
			name: "v2", v2: true,
			want: map[string]string{
				"cgroup.subtree_control":          "+pids",
				"pkg/cgroup.subtree_control":      "+memory +cpu +pids",
				"pkg/pod1/cgroup.subtree_control": "+memory +cpu +pids",
				"pkg/pod1/c1/memory.max":          "134217728",
				"pkg/pod1/c1/memory.swap.max":     "0",
				"pkg/pod1/c1/cpu.max":             "150000 100000",
				"pkg/pod1/c1/cpu.weight":          "10",
				"pkg/pod1/c1/pids.max":            "100",
			},
		},
		{
			name: "v1", setup: []string{"memory", "cpu", "cpuacct", "pids"},
			want: map[string]string{
				"memory/pkg/pod1/c1/memory.limit_in_bytes":       "134217728",
				"memory/pkg/pod1/c1/memory.memsw.limit_in_bytes": "134217728",
				"cpu/pkg/pod1/c1/cpu.shares":                     "256",
				"cpu/pkg/pod1/c1/cpu.cfs_period_us":              "100000",
				"cpu/pkg/pod1/c1/cpu.cfs_quota_us":               "150000",
				"pids/pkg/pod1/c1/pids.max":                      "100",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			for _, d := range tc.setup {
				if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if tc.v2 {
				if err := os.WriteFile(filepath.Join(root, "cgroup.controllers"), []byte("cpuset cpu io memory hugetlb pids rdma misc\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				// Some on already at the top: only the others are written.
				if err := os.WriteFile(filepath.Join(root, "cgroup.subtree_control"), []byte("cpu memory\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cg := cgroup{Root: root, Path: cgroupPath("/pkg/pod1", "c1"), V2: tc.v2}
			if err := cg.create(res); err != nil {
				t.Fatal(err)
			}
			for file, want := range tc.want {
				b, err := os.ReadFile(filepath.Join(root, file))
				if err != nil || strings.TrimSpace(string(b)) != want {
					t.Errorf("%s = %q, %v; want %q", file, b, err, want)
				}
			}
			if !tc.v2 {
				if !exists(filepath.Join(root, "cpuacct", "pkg", "pod1", "c1")) {
					t.Error("no cpuacct cgroup (the usage meter reads it)")
				}
			}
			if err := cg.add(4242); err != nil {
				t.Fatal(err)
			}
			for _, d := range cg.dirs() {
				if b, _ := os.ReadFile(filepath.Join(d, "cgroup.procs")); string(b) != "4242" {
					t.Errorf("%s/cgroup.procs = %q", d, b)
				}
			}
		})
	}
}

func TestOOMKillCounted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		body string
		want bool
	}{
		"v2-none":   {"low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n", false},
		"v2-killed": {"low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n", true},
		"v1-killed": {"oom_kill_disable 0\nunder_oom 0\noom_kill 2\n", true},
	} {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(tc.body), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := oomKillCounted(f); got != tc.want {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
	if oomKillCounted(filepath.Join(dir, "missing")) {
		t.Error("a missing file counts a kill")
	}
}
