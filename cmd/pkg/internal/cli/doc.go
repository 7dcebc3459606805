// Package cli is pkg's command tree, built with cobra. Each verb lives in a
// file named for it; the process's streams, environment and context are
// injected through Run so that tests drive the real tree in-process.
//
// Only this package (and main) prints or decides exit codes.
package cli
