//go:build !linux

package cluster

import "runtime/debug"

// trimStartupMemory returns the heap freed since start to the OS; the
// executable's pages are only trimmed on Linux.
func trimStartupMemory() (int64, error) {
	debug.FreeOSMemory()
	return 0, nil
}

// residentKiB is unknown outside Linux.
func residentKiB() int64 { return -1 }
