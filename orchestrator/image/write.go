package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Progress reports how much of one layer has been stored.
type Progress struct {
	Ref    string // the reference being pulled or loaded
	Layer  string // the layer's digest
	Done   int64  // bytes stored so far
	Total  int64  // the layer's compressed size
	Cached bool   // the layer was already in the store
}

// ProgressFunc receives progress reports; it may be called from several
// goroutines at once, one per layer.
type ProgressFunc func(Progress)

// layerJobs is how many layers are fetched at once.
const layerJobs = 3

// write stores img's layers, config and manifest, then points refs at it.
// Blobs are verified against their digests as they are written. Callers
// hold the writers lock (flock locks do not nest safely).
func (s *Store) write(ctx context.Context, img v1.Image, refs []Reference, progress ProgressFunc) (v1.Hash, error) {
	m, err := img.Manifest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("reading manifest: %w", err)
	}
	ref := ""
	if len(refs) > 0 {
		ref = refs[0].String()
	}
	var (
		wg   sync.WaitGroup
		sem  = make(chan struct{}, layerJobs)
		mu   sync.Mutex
		errs []error
	)
	for _, desc := range m.Layers {
		if s.hasBlob(desc.Digest) {
			if progress != nil {
				progress(Progress{Ref: ref, Layer: desc.Digest.String(), Done: desc.Size, Total: desc.Size, Cached: true})
			}
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(desc v1.Descriptor) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := s.writeLayer(ctx, img, desc, ref, progress); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}(desc)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return v1.Hash{}, err
	}

	cfg, err := img.RawConfigFile()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("reading config: %w", err)
	}
	if err := s.writeBlob(ctx, m.Config.Digest, bytes.NewReader(cfg), nil); err != nil {
		return v1.Hash{}, fmt.Errorf("config: %w", err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("reading manifest: %w", err)
	}
	h, err := img.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("reading manifest: %w", err)
	}
	if err := s.writeBlob(ctx, h, bytes.NewReader(raw), nil); err != nil {
		return v1.Hash{}, fmt.Errorf("manifest: %w", err)
	}
	return h, s.tag(h, refs)
}

// tag points refs, and the digest reference of each, at manifest h.
func (s *Store) tag(h v1.Hash, refs []Reference) error {
	all := append([]Reference(nil), refs...)
	for _, r := range refs {
		all = append(all, r.WithDigest(h.String()))
	}
	return s.updateRefs(func(m map[string]string) error {
		for _, r := range all {
			m[r.String()] = h.String()
		}
		return nil
	})
}

func (s *Store) writeLayer(ctx context.Context, img v1.Image, desc v1.Descriptor, ref string, progress ProgressFunc) error {
	l, err := img.LayerByDigest(desc.Digest)
	if err != nil {
		return fmt.Errorf("layer %s: %w", desc.Digest, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return fmt.Errorf("fetching layer %s: %w", desc.Digest, err)
	}
	defer rc.Close()
	var report func(int64)
	if progress != nil {
		report = func(n int64) {
			progress(Progress{Ref: ref, Layer: desc.Digest.String(), Done: n, Total: desc.Size})
		}
		report(0)
	}
	if err := s.writeBlob(ctx, desc.Digest, rc, report); err != nil {
		return fmt.Errorf("layer: %w", err)
	}
	return nil
}
