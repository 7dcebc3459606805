// Package mount finds and detaches the mounts the orchestrator makes on
// the host (containers' overlay root filesystems), so that a directory
// holding them can be removed.
package mount
