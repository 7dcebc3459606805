package store

import "time"

// Default values used for the zero fields of Options.
const (
	DefaultLockTimeout = time.Second
	DefaultHistorySize = 10000
	DefaultWatchBuffer = 1024
	DefaultMaxBatch    = 1000
)

// Names of the files Open keeps in the data directory.
const (
	// DBFile is the bbolt database holding every object.
	DBFile = "store.db"
	// PIDFile records the process id of the store holding the directory.
	PIDFile = "store.pid"
	// KeyFile holds the AES-256-GCM key of the default Transformer.
	KeyFile = "encryption.key"
)

// Options configure Open. The zero value is usable.
type Options struct {
	// LockTimeout is how long Open waits for another holder of the data
	// directory to let go before failing with a *LockedError.
	// Default DefaultLockTimeout.
	LockTimeout time.Duration

	// HistorySize is how many events the watch history keeps. Older
	// revisions are compacted automatically. Default DefaultHistorySize.
	HistorySize int

	// WatchBuffer is how many undelivered events a watcher may have queued
	// before it is dropped as too slow. Default DefaultWatchBuffer.
	WatchBuffer int

	// MaxBatch is the largest number of writes committed in one
	// transaction. Default DefaultMaxBatch.
	MaxBatch int

	// SealedPrefixes lists key prefixes whose values are encrypted at rest,
	// for example "/registry/secrets/".
	SealedPrefixes []string

	// Transformer seals the values of SealedPrefixes. When nil and
	// SealedPrefixes is not empty, Open uses AES-256-GCM with the key in
	// the data directory's KeyFile, creating it on first start.
	Transformer Transformer
}

// withDefaults returns o with its zero fields filled in.
func (o Options) withDefaults() Options {
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.HistorySize <= 0 {
		o.HistorySize = DefaultHistorySize
	}
	if o.WatchBuffer <= 0 {
		o.WatchBuffer = DefaultWatchBuffer
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	return o
}
