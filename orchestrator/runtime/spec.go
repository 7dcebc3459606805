package runtime

import (
	"path"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ociVersion is the runtime spec version written in bundles: the one
// Debian's runc 1.1 implements, so that it does not refuse newer ones.
const ociVersion = "1.0.2-dev"

// defaultCapabilities are the capabilities a container process gets, the
// default set of Docker and containerd.
var defaultCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// cpuPeriod is the CFS period quotas are computed against, 100 ms, as the
// kubelet uses.
const cpuPeriod = 100000

// ociSpec builds the OCI runtime spec of a container, as containerd's
// defaults for a Kubernetes container: its own PID, IPC, UTS and mount
// namespaces (and network namespace unless the Pod's is given), /proc,
// /dev, /sys and friends mounted, the usual paths masked, and the cgroup
// limits from its resources.
func ociSpec(id string, cs ContainerSpec) *specs.Spec {
	cwd := cs.Cwd
	if cwd == "" {
		cwd = "/"
	}
	caps := append([]string(nil), defaultCapabilities...)
	env := cs.Env
	if !hasEnv(env, "PATH") {
		env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, env...)
	}
	s := &specs.Spec{
		Version: ociVersion,
		Process: &specs.Process{
			Args: cs.Args,
			Env:  env,
			Cwd:  cwd,
			User: specs.User{UID: cs.UID, GID: cs.GID},
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps,
			},
			Rlimits:         []specs.POSIXRlimit{nofileLimit()},
			NoNewPrivileges: false,
		},
		Root:     &specs.Root{Path: cs.Rootfs, Readonly: cs.ReadOnlyRootfs},
		Hostname: cs.Hostname,
		Mounts:   defaultMounts(),
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace},
				{Type: specs.NetworkNamespace, Path: cs.NetNS},
			},
			CgroupsPath: cgroupPath(cs.CgroupParent, id),
			Resources:   linuxResources(cs.Resources),
			MaskedPaths: []string{
				"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
				"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
				"/sys/firmware", "/sys/devices/virtual/powercap",
			},
			ReadonlyPaths: []string{
				"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
			},
		},
	}
	if cs.HostNetwork {
		s.Linux.Namespaces = s.Linux.Namespaces[:len(s.Linux.Namespaces)-1]
	}
	for _, m := range cs.Mounts {
		s.Mounts = append(s.Mounts, ociMount(m))
	}
	return s
}

// nofileLimit gives containers as many open files as this process may
// have (a container cannot be given more than its runtime holds).
func nofileLimit() specs.POSIXRlimit {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Max == 0 {
		return specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}
	}
	return specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Hard: rl.Max, Soft: rl.Max}
}

func hasEnv(env []string, key string) bool {
	for _, kv := range env {
		if len(kv) > len(key) && kv[:len(key)] == key && kv[len(key)] == '=' {
			return true
		}
	}
	return false
}

func cgroupPath(parent, id string) string {
	if parent == "" {
		parent = "/pkg"
	}
	return path.Join(parent, id)
}

func defaultMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
}

func ociMount(m Mount) specs.Mount {
	typ := m.Type
	if typ == "" {
		typ = "bind"
	}
	om := specs.Mount{Destination: m.Destination, Type: typ, Source: m.Source}
	switch typ {
	case "bind":
		om.Options = []string{"rbind", "rprivate"}
	case "tmpfs":
		om.Source = "tmpfs"
		om.Options = []string{"nosuid", "nodev"}
	}
	if m.ReadOnly {
		om.Options = append(om.Options, "ro")
	} else {
		om.Options = append(om.Options, "rw")
	}
	om.Options = append(om.Options, m.Options...)
	return om
}

// linuxResources maps a container's requests and limits to cgroup
// settings as the kubelet does: shares from the cpu request, a CFS quota
// from the cpu limit, the memory limit, and a pids limit.
func linuxResources(r Resources) *specs.LinuxResources {
	lr := &specs.LinuxResources{
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
	}
	if r.MemoryLimit > 0 {
		lim := r.MemoryLimit
		lr.Memory = &specs.LinuxMemory{Limit: &lim}
	}
	if r.CPURequestMilli > 0 || r.CPULimitMilli > 0 {
		lr.CPU = &specs.LinuxCPU{}
		if r.CPURequestMilli > 0 {
			shares := uint64(max(2, r.CPURequestMilli*1024/1000))
			lr.CPU.Shares = &shares
		}
		if r.CPULimitMilli > 0 {
			quota := max(1000, r.CPULimitMilli*cpuPeriod/1000)
			period := uint64(cpuPeriod)
			lr.CPU.Quota, lr.CPU.Period = &quota, &period
		}
	}
	if r.PidsLimit > 0 {
		lr.Pids = &specs.LinuxPids{Limit: r.PidsLimit}
	}
	return lr
}
