package node

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listerscorev1 "k8s.io/client-go/listers/core/v1"
)

// Defaults of UsageMeter.
const (
	// DefaultUsageInterval is how often the containers' cgroups are read.
	DefaultUsageInterval = 10 * time.Second
	// DefaultUsageWindow is the span cpu usage is averaged over, as
	// metrics-server's default resolution.
	DefaultUsageWindow = 15 * time.Second
	// UsageFile is the file, in the node's directory, the meter keeps its
	// latest figures in.
	UsageFile = "usage.json"
)

// ErrNoUsage says a node has no current usage figures: its meter has not
// run (no runtime, not root) or has stopped.
var ErrNoUsage = errors.New("no usage measured")

// Usage is what a node's meter measured last: each running container's
// cpu rate and memory working set, and the node's total.
type Usage struct {
	// Node is the node's name.
	Node string `json:"node"`
	// Timestamp is when the cgroups were read last.
	Timestamp time.Time `json:"timestamp"`
	// Interval is how often the meter reads; figures older than a few
	// intervals are stale.
	Interval time.Duration `json:"interval"`
	// CPUNanoCores and MemoryBytes are the sums over the node's Pods.
	CPUNanoCores int64 `json:"cpuNanoCores"`
	MemoryBytes  int64 `json:"memoryBytes"`
	// Window is the widest span a cpu rate was averaged over.
	Window time.Duration `json:"window"`
	Pods   []PodUsage    `json:"pods"`
}

// PodUsage is one Pod's measured containers.
type PodUsage struct {
	Namespace  string           `json:"namespace"`
	Name       string           `json:"name"`
	UID        types.UID        `json:"uid"`
	Window     time.Duration    `json:"window"`
	Containers []ContainerUsage `json:"containers"`
}

// ContainerUsage is one container's cpu rate, in billionths of a core
// averaged over Window, and memory working set (usage less inactive file
// pages, as the kubelet reports it), in bytes.
type ContainerUsage struct {
	Name         string `json:"name"`
	CPUNanoCores int64  `json:"cpuNanoCores"`
	MemoryBytes  int64  `json:"memoryBytes"`
}

// UsageMeter measures the cpu and memory of the containers of the Pods
// bound to its node from their cgroups, as the kubelet's resource metrics
// do, and keeps the latest figures in Dir/usage.json, where the API
// server's metrics.k8s.io reads them (ReadUsage). CPU is a rate: the
// growth of the cgroup's cumulative usage over up to Window.
type UsageMeter struct {
	// Node is the node's name.
	Node   string
	Client kubernetes.Interface
	// Dir is the node's directory (PodRunner.Dir).
	Dir string
	// Interval is how often the cgroups are read; DefaultUsageInterval
	// when 0.
	Interval time.Duration
	// Window is the span cpu usage is averaged over; DefaultUsageWindow
	// when 0. Tests shorten both.
	Window time.Duration
	// CgroupRoot is where the cgroup hierarchies are mounted;
	// /sys/fs/cgroup when "".
	CgroupRoot string
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// Log receives what the meter does; nil discards it.
	Log *slog.Logger

	// samples keeps each container's recent readings, by Pod uid and
	// container name.
	samples map[string][]cpuSample
}

type cpuSample struct {
	at    time.Time
	nanos uint64 // cumulative cpu time
}

func (m *UsageMeter) interval() time.Duration {
	if m.Interval > 0 {
		return m.Interval
	}
	return DefaultUsageInterval
}

func (m *UsageMeter) window() time.Duration {
	if m.Window > 0 {
		return m.Window
	}
	return DefaultUsageWindow
}

func (m *UsageMeter) now() time.Time {
	if m.Clock != nil {
		return m.Clock()
	}
	return time.Now()
}

func (m *UsageMeter) log() *slog.Logger {
	if m.Log != nil {
		return m.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Run measures every Interval until ctx ends, then removes its file: a
// stopped meter serves no stale figures.
func (m *UsageMeter) Run(ctx context.Context) error {
	if m.Client == nil || m.Dir == "" {
		return errors.New("usage meter: no client or directory")
	}
	if err := os.MkdirAll(m.Dir, 0o755); err != nil {
		return fmt.Errorf("usage meter: %w", err)
	}
	factory := informers.NewSharedInformerFactoryWithOptions(m.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", m.Node).String()
		}))
	pods := factory.Core().V1().Pods()
	inf := pods.Informer()
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	defer os.Remove(filepath.Join(m.Dir, UsageFile))
	t := time.NewTicker(m.interval())
	defer t.Stop()
	for {
		if inf.HasSynced() {
			if err := m.measure(pods.Lister()); err != nil {
				m.log().Warn("measuring usage", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// measure reads the cgroups of the node's running containers once and
// writes the figures.
func (m *UsageMeter) measure(lister listerscorev1.PodLister) error {
	all, err := lister.List(labels.Everything())
	if err != nil {
		return err
	}
	if m.samples == nil {
		m.samples = map[string][]cpuSample{}
	}
	now := m.now()
	u := Usage{Node: m.Node, Timestamp: now.UTC(), Interval: m.interval(), Pods: []PodUsage{}}
	seen := map[string]bool{}
	v2 := unifiedCgroups(m.cgroupRoot())
	for _, p := range all {
		if p.Spec.NodeName != m.Node || p.Status.Phase != corev1.PodRunning {
			continue
		}
		pu := PodUsage{Namespace: p.Namespace, Name: p.Name, UID: p.UID}
		complete := true
		for _, c := range p.Spec.Containers {
			if !containerRunning(p, c.Name) {
				complete = false
				continue
			}
			key := string(p.UID) + "/" + c.Name
			seen[key] = true
			st, err := readCgroupStatsIn(m.cgroupRoot(), "/pkg/"+ContainerID(p.UID, c.Name), v2)
			if err != nil {
				m.log().Debug("reading a container's cgroup", "pod", p.Namespace+"/"+p.Name, "container", c.Name, "err", err)
				complete = false
				continue
			}
			cpu, window, ok := m.rate(key, cpuSample{at: now, nanos: st.cpuNanos})
			if !ok {
				complete = false
				continue
			}
			pu.Window = max(pu.Window, window)
			pu.Containers = append(pu.Containers, ContainerUsage{Name: c.Name, CPUNanoCores: cpu, MemoryBytes: st.workingSet})
		}
		// A Pod is reported whole or not at all, as metrics-server does:
		// a partial sum would understate it.
		if !complete || len(pu.Containers) == 0 {
			continue
		}
		for _, c := range pu.Containers {
			u.CPUNanoCores += c.CPUNanoCores
			u.MemoryBytes += c.MemoryBytes
		}
		u.Window = max(u.Window, pu.Window)
		u.Pods = append(u.Pods, pu)
	}
	for key := range m.samples {
		if !seen[key] {
			delete(m.samples, key)
		}
	}
	if u.Window == 0 {
		u.Window = m.window()
	}
	return writeUsage(m.Dir, u)
}

// rate records a cumulative cpu reading and returns the rate since the
// oldest reading within the window, in nanocores, and the span it covers.
// The first reading of a container (or the first after its cgroup was
// made anew, when the counter goes back) gives no rate.
func (m *UsageMeter) rate(key string, s cpuSample) (int64, time.Duration, bool) {
	hist := m.samples[key]
	if n := len(hist); n > 0 && s.nanos < hist[n-1].nanos {
		hist = nil
	}
	hist = append(hist, s)
	// Keep the newest reading at least a window old as the base, and
	// everything after it.
	cut := 0
	for i := range hist {
		if s.at.Sub(hist[i].at) >= m.window() {
			cut = i
		}
	}
	hist = hist[cut:]
	m.samples[key] = hist
	if len(hist) < 2 {
		return 0, 0, false
	}
	base := hist[0]
	dt := s.at.Sub(base.at)
	if dt <= 0 {
		return 0, 0, false
	}
	return int64(float64(s.nanos-base.nanos) / dt.Seconds()), dt, true
}

func (m *UsageMeter) cgroupRoot() string {
	if m.CgroupRoot != "" {
		return m.CgroupRoot
	}
	return "/sys/fs/cgroup"
}

// ContainerID is the runtime id the node agent gives a Pod's container:
// the Pod uid's first twelve hex digits and the container's name. Its
// cgroup is /pkg/ID.
func ContainerID(uid types.UID, container string) string {
	short := strings.ReplaceAll(string(uid), "-", "")
	if len(short) > 12 {
		short = short[:12]
	}
	return short + "-" + container
}

func containerRunning(p *corev1.Pod, name string) bool {
	for _, s := range p.Status.ContainerStatuses {
		if s.Name == name {
			return s.State.Running != nil
		}
	}
	return false
}

// cgroupStats are one cgroup's cumulative cpu time and memory working set.
type cgroupStats struct {
	cpuNanos   uint64
	workingSet int64
}

// unifiedCgroups tells whether root is the unified hierarchy (v2).
func unifiedCgroups(root string) bool {
	_, err := os.Stat(filepath.Join(root, "cgroup.controllers"))
	return err == nil
}

// readCgroupStats reads the cgroup at path (as runc names it) under root,
// from the unified hierarchy (v2) when root is one, else from the cpuacct
// and memory controllers (v1).
func readCgroupStats(root, path string) (cgroupStats, error) {
	return readCgroupStatsIn(root, path, unifiedCgroups(root))
}

// readCgroupStatsIn is readCgroupStats with the hierarchy known.
func readCgroupStatsIn(root, path string, v2 bool) (cgroupStats, error) {
	var st cgroupStats
	if v2 {
		dir := filepath.Join(root, path)
		stat, err := readKeyed(filepath.Join(dir, "cpu.stat"))
		if err != nil {
			return st, err
		}
		usec, ok := stat["usage_usec"]
		if !ok {
			return st, fmt.Errorf("%s has no usage_usec", filepath.Join(dir, "cpu.stat"))
		}
		st.cpuNanos = usec * 1000
		cur, err := readUint(filepath.Join(dir, "memory.current"))
		if err != nil {
			return st, err
		}
		mstat, err := readKeyed(filepath.Join(dir, "memory.stat"))
		if err != nil {
			return st, err
		}
		st.workingSet = workingSet(cur, mstat["inactive_file"])
		return st, nil
	}
	ns, err := readUint(filepath.Join(root, "cpuacct", path, "cpuacct.usage"))
	if err != nil {
		return st, err
	}
	st.cpuNanos = ns
	mem := filepath.Join(root, "memory", path)
	cur, err := readUint(filepath.Join(mem, "memory.usage_in_bytes"))
	if err != nil {
		return st, err
	}
	mstat, err := readKeyed(filepath.Join(mem, "memory.stat"))
	if err != nil {
		return st, err
	}
	st.workingSet = workingSet(cur, mstat["total_inactive_file"])
	return st, nil
}

// workingSet is usage less inactive file pages, never below zero: the
// memory the kernel could not easily reclaim, what the kubelet reports
// and evicts on.
func workingSet(usage, inactiveFile uint64) int64 {
	if inactiveFile >= usage {
		return 0
	}
	return int64(usage - inactiveFile)
}

func readUint(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	return v, nil
}

// readKeyed reads a "key value" per line file (cpu.stat, memory.stat).
func readKeyed(path string) (map[string]uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out, sc.Err()
}

// writeUsage replaces dir/usage.json atomically.
func writeUsage(dir string, u Usage) error {
	data, err := json.Marshal(u)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".usage-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, UsageFile)); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// ReadUsage returns the figures a node's meter keeps in its directory dir,
// or ErrNoUsage when there are none or they are older than three of its
// intervals at now.
func ReadUsage(dir string, now time.Time) (*Usage, error) {
	data, err := os.ReadFile(filepath.Join(dir, UsageFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoUsage
	}
	if err != nil {
		return nil, err
	}
	var u Usage
	if err := json.Unmarshal(data, &u); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, UsageFile), err)
	}
	if now.Sub(u.Timestamp) > 3*u.Interval+time.Second {
		return nil, ErrNoUsage
	}
	return &u, nil
}
