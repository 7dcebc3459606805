package runtime

import (
	"context"
	"errors"
	"io"
	"syscall"
	"time"
)

// Driver runs containers. Every method takes a context first; ids are
// chosen by the caller and unique on the node.
type Driver interface {
	// Name names the driver in logs and node status ("runc").
	Name() string
	// Start creates and starts a container; it returns once the
	// container's process runs.
	Start(ctx context.Context, id string, spec ContainerSpec) error
	// Wait blocks until the container exits and reports how.
	Wait(ctx context.Context, id string) (ExitStatus, error)
	// Signal sends sig to the container's main process.
	Signal(ctx context.Context, id string, sig syscall.Signal) error
	// Exec runs a command in a running container (exec probes, kubectl
	// exec) and returns its exit code.
	Exec(ctx context.Context, id string, args []string, stdout, stderr io.Writer) (int, error)
	// List reports the containers the driver knows, running or not,
	// including those started before this process (adoption).
	List(ctx context.Context) ([]Info, error)
	// Remove deletes a container, killing it first if it still runs, and
	// frees its bundle, cgroup and state.
	Remove(ctx context.Context, id string) error
}

// ContainerSpec is what a container runs with.
type ContainerSpec struct {
	// Rootfs is the unpacked image, owned by the caller.
	Rootfs string
	// ReadOnlyRootfs mounts the rootfs read-only.
	ReadOnlyRootfs bool
	// Args is the command line (entrypoint and arguments, resolved).
	Args []string
	// Env is the environment, KEY=VALUE.
	Env []string
	// Cwd is the working directory; "" means "/".
	Cwd string
	// UID and GID the process runs as.
	UID, GID uint32
	// Hostname is the UTS namespace's hostname (the Pod's name).
	Hostname string
	// Mounts are bind mounts and tmpfs mounts (volumes).
	Mounts []Mount
	// NetNS is the path of a network namespace to join (the Pod's); ""
	// gives the container a new one with only loopback.
	NetNS string
	// HostNetwork keeps the container in the host's network namespace
	// (hostNetwork Pods, and every Pod when the node has no cluster
	// network); NetNS is then ignored.
	HostNetwork bool
	// Resources are the cgroup limits.
	Resources Resources
	// CgroupParent is the cgroup under which the container's own cgroup
	// is made ("/pkg/PODUID"); "" means "/pkg".
	CgroupParent string
	// Stdout and Stderr receive the container's output; nil discards it.
	Stdout, Stderr io.Writer
}

// Mount is one filesystem mounted into a container.
type Mount struct {
	// Source is the host path (bind) or "tmpfs".
	Source string
	// Destination is the path inside the container.
	Destination string
	// Type is "bind" (default) or "tmpfs".
	Type string
	// ReadOnly mounts it read-only.
	ReadOnly bool
	// Options are extra mount options ("size=64m" for a tmpfs).
	Options []string
}

// Resources are a container's cgroup limits; zero means unlimited.
type Resources struct {
	// MemoryLimit in bytes (limits.memory).
	MemoryLimit int64
	// CPURequestMilli sets the CPU shares (requests.cpu).
	CPURequestMilli int64
	// CPULimitMilli sets the CFS quota (limits.cpu).
	CPULimitMilli int64
	// PidsLimit bounds the number of processes.
	PidsLimit int64
}

// Status is where a container is in its life.
type Status string

// The container statuses.
const (
	StatusCreated Status = "created"
	StatusRunning Status = "running"
	StatusStopped Status = "stopped"
)

// Info describes one container.
type Info struct {
	ID     string
	Status Status
	// Pid is the main process's pid on the host, 0 when not running.
	Pid int
	// Created is when the container was created.
	Created time.Time
}

// ExitStatus is how a container ended.
type ExitStatus struct {
	// Code is the exit code; 128+N when killed by signal N.
	Code int
	// Signal is the signal that killed it, 0 if it exited.
	Signal syscall.Signal
	// OOMKilled tells that the kernel killed it for its memory limit.
	OOMKilled bool
	// FinishedAt is when it was seen to end.
	FinishedAt time.Time
	// Unknown is set when the exit was not observed (a container adopted
	// after a restart that then ended): Code is then 0 and meaningless.
	Unknown bool
}

// Errors drivers return.
var (
	// ErrNotFound: no container has this id.
	ErrNotFound = errors.New("container not found")
	// ErrExists: a container with this id exists already.
	ErrExists = errors.New("container already exists")
	// ErrUnavailable: the driver cannot run here (missing binary, not
	// root); the error says what is missing.
	ErrUnavailable = errors.New("container runtime unavailable")
)

// StartError is returned by Start when the container's process never
// ran: its command is not in the image, for example. Msg is the
// runtime's own account of it, as the kubelet shows the container
// runtime's.
type StartError struct{ Msg string }

func (e *StartError) Error() string { return e.Msg }
