// Package store is the orchestrator's embedded, transactional object store:
// the part of the cluster that etcd plays in Kubernetes, kept in one bbolt
// file in the data directory.
//
// # Keys, values and revisions
//
// Keys are strings such as "/registry/apps/deployments/NS/NAME" and values
// are opaque bytes; the API layer stores JSON and stamps
// metadata.resourceVersion with the revision the store returns. Every
// successful write (create, update or delete) bumps one monotonic revision
// shared by all keys, persisted with the data; a new store starts at
// revision 1, so that 0, which Kubernetes clients send to mean "any", is
// never a real revision. Each object records the
// revision that created it (KV.CreateRev) and the one that last changed it
// (KV.ModRev).
//
// Update and Delete take an expected modification revision: 0 means
// unconditional, any other value must equal the object's KV.ModRev or the
// call fails with ErrConflict (409 Conflict upstream). Create of an existing
// key fails with ErrAlreadyExists, any operation on a missing key with
// ErrNotFound. The store writes whatever it is given: callers that want
// no-op updates to leave no revision behind compare the bytes first.
//
// # Durability
//
// A write returns only after the bbolt transaction holding it has been
// committed and synced to disk, so an acknowledged write survives the
// process being killed. Concurrent writes are grouped: one goroutine commits
// everything queued while the previous commit was syncing in one
// transaction, so a lone writer waits for one sync and many writers share
// them.
//
// # Lists and continue tokens
//
// List reads one consistent snapshot and reports its revision. A list with a
// limit returns a continue token pinned to that revision: following pages
// show the data as it was at that revision, reconstructed from the current
// data and the event history. Once the revision has left the history the
// token is refused with ErrCompacted (410 Gone upstream), as Kubernetes does.
//
// # Watch, history and compaction
//
// Every committed change becomes an Event, kept in a bounded in-memory
// history (Options.HistorySize events) and fanned out to watchers. Watch
// replays the retained events after the requested revision, then delivers
// live ones, in revision order. Revisions older than the history, whether
// dropped automatically because the history was full or by Compact, are
// compacted: watching or continuing from them fails with ErrCompacted, and
// the client re-lists. The history is not persisted, so after a restart
// only the current revision can be watched from. A watcher that falls more
// than Options.WatchBuffer events behind is dropped so that writers never
// wait for readers; it receives an Error event wrapping ErrCompacted and its
// channel is closed. Watcher.Bookmark queues a Bookmark event carrying the
// current revision, in order with the other events.
//
// # Encryption at rest
//
// Values whose key starts with one of Options.SealedPrefixes (for example
// "/registry/secrets/") are passed through a Transformer before they are
// written. The default transformer is AES-256-GCM with a random key kept in
// the file KeyFile of the data directory, created with mode 0600 at first
// start. The key is bound to each ciphertext as additional data, so sealed
// values cannot be moved between keys.
//
// # One process per data directory
//
// Open takes bbolt's exclusive file lock and records the process id in the
// file PIDFile. A second Open of the same directory, from this process or
// another, fails after Options.LockTimeout with a *LockedError (wrapping
// ErrLocked) naming the holder. The kernel releases the lock when its holder
// dies, so a pid file left by a crash is simply overwritten.
package store
