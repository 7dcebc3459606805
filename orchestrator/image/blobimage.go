package image

import (
	"bytes"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// blobImage is an image read back from the store's blobs.
type blobImage struct {
	s        *Store
	manifest []byte
	m        *v1.Manifest
}

var _ partial.CompressedImageCore = (*blobImage)(nil)

// v1Image returns the stored image with manifest digest h.
func (s *Store) v1Image(h v1.Hash) (v1.Image, error) {
	b, err := s.readBlob(h)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", h, err)
	}
	return partial.CompressedToImage(&blobImage{s: s, manifest: b, m: m})
}

func (i *blobImage) RawConfigFile() ([]byte, error) { return i.s.readBlob(i.m.Config.Digest) }

func (i *blobImage) RawManifest() ([]byte, error) { return i.manifest, nil }

func (i *blobImage) MediaType() (types.MediaType, error) {
	if i.m.MediaType != "" {
		return i.m.MediaType, nil
	}
	return types.OCIManifestSchema1, nil
}

func (i *blobImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, l := range i.m.Layers {
		if l.Digest == h {
			return &blobLayer{s: i.s, desc: l}, nil
		}
	}
	if i.m.Config.Digest == h {
		return &blobLayer{s: i.s, desc: i.m.Config}, nil
	}
	return nil, fmt.Errorf("layer %s: %w", h, ErrNotFound)
}

// blobLayer is a compressed layer stored as a blob.
type blobLayer struct {
	s    *Store
	desc v1.Descriptor
}

func (l *blobLayer) Digest() (v1.Hash, error) { return l.desc.Digest, nil }

func (l *blobLayer) Compressed() (io.ReadCloser, error) {
	f, err := os.Open(l.s.blobPath(l.desc.Digest))
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", l.desc.Digest, err)
	}
	return f, nil
}

func (l *blobLayer) Size() (int64, error) { return l.desc.Size, nil }

func (l *blobLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
