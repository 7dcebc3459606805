package image

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// writeUncompressed stores img with uncompressed layers under a new OCI
// manifest. Archives from `docker save` hold uncompressed layers, which
// have no compressed digest: storing them as they are, under their diffID,
// spares compressing every layer twice (once to learn its digest, once to
// store it). The image ID (the config digest) is unchanged. Callers hold
// the writers lock.
func (s *Store) writeUncompressed(ctx context.Context, img v1.Image, refs []Reference, progress ProgressFunc) (v1.Hash, error) {
	rawCfg, err := img.RawConfigFile()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("reading config: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("reading config: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("reading layers: %w", err)
	}
	if len(layers) != len(cf.RootFS.DiffIDs) {
		return v1.Hash{}, fmt.Errorf("image has %d layers but its config %d diffIDs", len(layers), len(cf.RootFS.DiffIDs))
	}
	ref := ""
	if len(refs) > 0 {
		ref = refs[0].String()
	}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1}
	for i, l := range layers {
		diffID := cf.RootFS.DiffIDs[i]
		if !s.hasBlob(diffID) {
			rc, err := l.Uncompressed()
			if err != nil {
				return v1.Hash{}, fmt.Errorf("layer %s: %w", diffID, err)
			}
			var report func(int64)
			if progress != nil {
				report = func(n int64) { progress(Progress{Ref: ref, Layer: diffID.String(), Done: n}) }
			}
			err = s.writeBlob(ctx, diffID, rc, report)
			rc.Close()
			if err != nil {
				return v1.Hash{}, fmt.Errorf("layer: %w", err)
			}
		}
		fi, err := os.Stat(s.blobPath(diffID))
		if err != nil {
			return v1.Hash{}, fmt.Errorf("layer %s: %w", diffID, err)
		}
		if progress != nil {
			progress(Progress{Ref: ref, Layer: diffID.String(), Done: fi.Size(), Total: fi.Size()})
		}
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: types.OCIUncompressedLayer, Size: fi.Size(), Digest: diffID})
	}
	cfgDigest, err := s.writeBlobBytes(ctx, rawCfg)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("config: %w", err)
	}
	m.Config = v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(rawCfg)), Digest: cfgDigest}
	raw, err := json.Marshal(m)
	if err != nil {
		return v1.Hash{}, err
	}
	h, err := s.writeBlobBytes(ctx, raw)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("manifest: %w", err)
	}
	return h, s.tag(h, refs)
}
