package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// KV is one object as the store returns it. Value belongs to the caller
// except in events, where it is shared by every watcher and must not be
// modified.
type KV struct {
	// Key is the object's key.
	Key string
	// Value is the object's bytes, decrypted.
	Value []byte
	// CreateRev is the revision that created the object.
	CreateRev int64
	// ModRev is the revision that last changed the object.
	ModRev int64
}

// Layout of the bbolt file: bucket meta holds the format version and the
// current revision; bucket objects maps each key to its record.
const (
	bucketMeta    = "meta"
	bucketObjects = "objects"
	metaFormat    = "format"
	metaRevision  = "revision"
)

// formatVersion is written to meta/format and checked on Open.
const formatVersion = 1

// initialRevision is the revision of a new, empty store, as in etcd: no
// object or list ever carries revision 0, which Kubernetes clients send to
// mean "any revision".
const initialRevision = 1

// A record is [version 1][flags 1][createRev 8][modRev 8][value...], with
// integers big-endian and the value sealed when flagSealed is set.
const (
	recordVersion = 1
	recordHeader  = 18
	flagSealed    = 1 << 0
)

// record is a decoded record; value aliases the bbolt page it came from and
// is valid only inside the transaction that read it.
type record struct {
	createRev int64
	modRev    int64
	sealed    bool
	value     []byte
}

// encode returns the stored form of r.
func (r record) encode() []byte {
	b := make([]byte, recordHeader+len(r.value))
	b[0] = recordVersion
	if r.sealed {
		b[1] = flagSealed
	}
	binary.BigEndian.PutUint64(b[2:], uint64(r.createRev))
	binary.BigEndian.PutUint64(b[10:], uint64(r.modRev))
	copy(b[recordHeader:], r.value)
	return b
}

// decodeRecord parses a stored record.
func decodeRecord(b []byte) (record, error) {
	if len(b) < recordHeader || b[0] != recordVersion {
		return record{}, fmt.Errorf("corrupt record (%d bytes, version %d)", len(b), firstByte(b))
	}
	return record{
		createRev: int64(binary.BigEndian.Uint64(b[2:])),
		modRev:    int64(binary.BigEndian.Uint64(b[10:])),
		sealed:    b[1]&flagSealed != 0,
		value:     b[recordHeader:],
	}, nil
}

func firstByte(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}

// kv turns the stored record of key into a KV the caller owns, opening
// sealed values with t.
func (r record) kv(key string, t Transformer) (KV, error) {
	kv := KV{Key: key, CreateRev: r.createRev, ModRev: r.modRev}
	switch {
	case !r.sealed:
		kv.Value = append([]byte(nil), r.value...)
	case t == nil:
		return KV{}, fmt.Errorf("value is encrypted but the store has no transformer")
	default:
		v, err := t.Open(key, r.value)
		if err != nil {
			return KV{}, err
		}
		kv.Value = v
	}
	return kv, nil
}

// readRevision returns the revision recorded in tx.
func readRevision(tx *bolt.Tx) int64 {
	v := tx.Bucket([]byte(bucketMeta)).Get([]byte(metaRevision))
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// writeRevision records rev in tx.
func writeRevision(tx *bolt.Tx, rev int64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(rev))
	return tx.Bucket([]byte(bucketMeta)).Put([]byte(metaRevision), b[:])
}

// initLayout creates the buckets of a new file and checks the format of an
// existing one.
func initLayout(tx *bolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists([]byte(bucketMeta))
	if err != nil {
		return err
	}
	if _, err := tx.CreateBucketIfNotExists([]byte(bucketObjects)); err != nil {
		return err
	}
	switch v := meta.Get([]byte(metaFormat)); {
	case v == nil:
		if err := meta.Put([]byte(metaFormat), []byte{formatVersion}); err != nil {
			return err
		}
		return writeRevision(tx, initialRevision)
	case len(v) != 1 || v[0] != formatVersion:
		return fmt.Errorf("unsupported store format %v (this build reads format %d)", v, formatVersion)
	}
	return nil
}
