// Package runtime runs the containers of the orchestrator's node agents.
//
// A Driver is the one seam between a node agent and what actually runs a
// container: it starts a container from a ContainerSpec (an unpacked root
// filesystem, a command, mounts, limits), waits for it, signals it, runs
// probe commands in it, lists what survived a restart of the orchestrator,
// and removes it without leaving a process, mount or cgroup behind.
//
// RuncDriver drives Debian's runc with bundles built from the OCI runtime
// spec (github.com/opencontainers/runtime-spec): namespaces, the rootfs,
// mounts, environment, user, working directory and cgroup limits. Each
// container runs under its own `runc run` process, which exits with the
// container's status; those processes outlive the orchestrator, so a
// restarted node agent finds its containers with List and adopts them.
//
// LauncherDriver is the built-in runtime, for machines without runc and
// for running without root: it re-executes the program itself
// (RunLauncherInit is that program's first call) in new PID, mount, UTS
// and IPC namespaces, and a user namespace when not root; the new
// process mounts the rootfs, volumes, /proc, a minimal /dev and a
// read-only /sys, pivot_root's and executes the command as PID 1. Limits
// go to cgroup v2 or v1 as runc writes them. NewDriver picks between the
// two for a node and says why.
package runtime
