package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Store is a content-addressed image store in one directory. Its methods
// are safe for concurrent use, and several Stores (in one process or many)
// may share a directory.
type Store struct {
	dir     string
	flights flightGroup
}

// Open opens the store in dir, creating the directory if needed.
func Open(dir string) (*Store, error) {
	for _, d := range []string{"blobs/sha256", "layers/sha256", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("opening image store: %w", err)
		}
	}
	return &Store{dir: dir}, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) blobPath(h v1.Hash) string {
	return filepath.Join(s.dir, "blobs", h.Algorithm, h.Hex)
}

func (s *Store) layerPath(diffID v1.Hash) string {
	return filepath.Join(s.dir, "layers", diffID.Algorithm, diffID.Hex)
}

func (s *Store) hasBlob(h v1.Hash) bool {
	fi, err := os.Stat(s.blobPath(h))
	return err == nil && fi.Mode().IsRegular()
}

func (s *Store) readBlob(h v1.Hash) ([]byte, error) {
	b, err := os.ReadFile(s.blobPath(h))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", h, ErrNotFound)
	}
	return b, err
}

// writeBlob stores the content of r under digest want, verifying it. The
// blob becomes visible only once complete and verified. progress, when not
// nil, is told the bytes written so far.
func (s *Store) writeBlob(ctx context.Context, want v1.Hash, r io.Reader, progress func(int64)) error {
	if want.Algorithm != "sha256" {
		return fmt.Errorf("blob %s: unsupported digest algorithm %q", want, want.Algorithm)
	}
	if s.hasBlob(want) {
		return nil
	}
	f, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "blob-")
	if err != nil {
		return fmt.Errorf("writing blob %s: %w", want, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	h := sha256.New()
	w := &countingWriter{ctx: ctx, w: io.MultiWriter(f, h), progress: progress}
	_, err = io.Copy(w, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing blob %s: %w", want, err)
	}
	if got := hexSum(h); got != want.Hex {
		return fmt.Errorf("blob %s: content has digest sha256:%s: %w", want, got, ErrDigestMismatch)
	}
	if err := os.Chmod(tmp, 0o444); err != nil {
		return fmt.Errorf("writing blob %s: %w", want, err)
	}
	if err := os.Rename(tmp, s.blobPath(want)); err != nil {
		return fmt.Errorf("writing blob %s: %w", want, err)
	}
	return nil
}

// writeBlobBytes stores b and returns its digest.
func (s *Store) writeBlobBytes(ctx context.Context, b []byte) (v1.Hash, error) {
	sum := sha256.Sum256(b)
	h := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
	return h, s.writeBlob(ctx, h, bytes.NewReader(b), nil)
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// countingWriter reports progress and stops when its context ends.
type countingWriter struct {
	ctx      context.Context
	w        io.Writer
	n        int64
	progress func(int64)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	if c.progress != nil {
		c.progress(c.n)
	}
	return n, err
}

// refsFile is the on-disk form of the reference index.
type refsFile struct {
	// Refs maps a normalized reference to a manifest digest.
	Refs map[string]string `json:"refs"`
}

func (s *Store) readRefs() (map[string]string, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, "refs.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading image references: %w", err)
	}
	var rf refsFile
	if err := json.Unmarshal(b, &rf); err != nil {
		return nil, fmt.Errorf("reading image references %s: %w (remove the file to start over)", filepath.Join(s.dir, "refs.json"), err)
	}
	if rf.Refs == nil {
		rf.Refs = map[string]string{}
	}
	return rf.Refs, nil
}

// updateRefs changes the reference index under an exclusive lock and
// replaces the file atomically.
func (s *Store) updateRefs(fn func(refs map[string]string) error) error {
	unlock, err := s.lock("refs.lock", syscall.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	refs, err := s.readRefs()
	if err != nil {
		return err
	}
	if err := fn(refs); err != nil {
		return err
	}
	b, err := json.MarshalIndent(refsFile{Refs: refs}, "", "  ")
	if err != nil {
		return err
	}
	return s.writeFileAtomic("refs.json", b)
}

// writeFileAtomic replaces a file of the store's top directory. The temporary
// file sits next to it, not in tmp/, which a concurrent GC may sweep.
func (s *Store) writeFileAtomic(name string, b []byte) error {
	f, err := os.CreateTemp(s.dir, "."+name+"-")
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(s.dir, name))
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// lock takes a flock on a lock file of the store. Locks on separate open
// files conflict within one process too, so the same lock serves node
// agents in this process and `pkg image` commands in others.
func (s *Store) lock(name string, how int) (func(), error) {
	f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking image store: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking image store %s: %w", f.Name(), err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// writers holds the garbage-collection lock shared while content is added,
// so that a collection never deletes blobs of an image not yet referenced.
func (s *Store) writers() (func(), error) { return s.lock("gc.lock", syscall.LOCK_SH) }

// resolve returns the manifest digest a reference points to.
func (s *Store) resolve(ref string) (Reference, v1.Hash, error) {
	r, err := ParseReference(ref)
	if err != nil {
		// A bare image ID or its prefix, as crictl accepts.
		return s.resolveID(ref)
	}
	refs, err := s.readRefs()
	if err != nil {
		return r, v1.Hash{}, err
	}
	d, ok := refs[r.String()]
	if !ok {
		if id, h, err := s.resolveID(ref); err == nil {
			return id, h, nil
		}
		return r, v1.Hash{}, fmt.Errorf("%s: %w", r, ErrNotFound)
	}
	h, err := v1.NewHash(d)
	return r, h, err
}

// resolveID finds the image whose config digest (image ID) or manifest
// digest starts with id, with or without "sha256:".
func (s *Store) resolveID(id string) (Reference, v1.Hash, error) {
	refs, err := s.readRefs()
	if err != nil {
		return Reference{}, v1.Hash{}, err
	}
	want := id
	if len(want) > 7 && want[:7] == "sha256:" {
		want = want[7:]
	}
	if len(want) < 4 {
		return Reference{}, v1.Hash{}, fmt.Errorf("%s: %w", id, ErrNotFound)
	}
	var keys []string
	for k := range refs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h, err := v1.NewHash(refs[k])
		if err != nil {
			continue
		}
		cfg, err := s.configDigest(h)
		if err != nil {
			continue
		}
		if hasPrefix(cfg.Hex, want) || hasPrefix(h.Hex, want) {
			r, _ := ParseReference(k)
			return r, h, nil
		}
	}
	return Reference{}, v1.Hash{}, fmt.Errorf("%s: %w", id, ErrNotFound)
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

func (s *Store) configDigest(manifest v1.Hash) (v1.Hash, error) {
	m, err := s.manifest(manifest)
	if err != nil {
		return v1.Hash{}, err
	}
	return m.Config.Digest, nil
}

func (s *Store) manifest(h v1.Hash) (*v1.Manifest, error) {
	b, err := s.readBlob(h)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", h, err)
	}
	return m, nil
}
