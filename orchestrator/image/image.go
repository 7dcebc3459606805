package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Image describes an image held by the store.
type Image struct {
	// Digest is the manifest digest ("sha256:...").
	Digest string `json:"digest"`
	// ID is the config digest, as `crictl images` and Docker show it.
	ID string `json:"id"`
	// RepoTags are the repo:tag references to this image.
	RepoTags []string `json:"repoTags,omitempty"`
	// RepoDigests are the repo@digest references to this image.
	RepoDigests []string `json:"repoDigests,omitempty"`
	// Size is the sum of the manifest, config and compressed layer sizes.
	Size int64 `json:"size"`
	// OS and Architecture are the image's platform.
	OS           string `json:"os,omitempty"`
	Architecture string `json:"architecture,omitempty"`
	// Layers are the image's layers, lowest first.
	Layers []Layer `json:"layers"`
	// Config is the container configuration: entrypoint, command,
	// environment, working directory and user.
	Config v1.Config `json:"config"`
}

// Layer is one layer of an image.
type Layer struct {
	Digest    string `json:"digest"` // of the compressed blob
	DiffID    string `json:"diffID"` // of the uncompressed tar
	Size      int64  `json:"size"`   // compressed
	MediaType string `json:"mediaType"`
}

// Get returns the image a reference (or image ID prefix) names.
func (s *Store) Get(ctx context.Context, ref string) (Image, error) {
	_, h, err := s.resolve(ref)
	if err != nil {
		return Image{}, &Error{Op: "inspect", Ref: ref, Err: err}
	}
	refs, err := s.readRefs()
	if err != nil {
		return Image{}, &Error{Op: "inspect", Ref: ref, Err: err}
	}
	img, err := s.describe(h, refs)
	if err != nil {
		return Image{}, &Error{Op: "inspect", Ref: ref, Err: err}
	}
	return img, nil
}

// Has reports whether the store holds the image ref names, complete.
func (s *Store) Has(ctx context.Context, ref string) (bool, error) {
	img, err := s.Get(ctx, ref)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, l := range img.Layers {
		h, err := v1.NewHash(l.Digest)
		if err != nil || !s.hasBlob(h) {
			return false, nil
		}
	}
	return true, nil
}

// List returns the images in the store, one per manifest, sorted by their
// first reference.
func (s *Store) List(ctx context.Context) ([]Image, error) {
	refs, err := s.readRefs()
	if err != nil {
		return nil, &Error{Op: "list", Err: err}
	}
	seen := map[string]bool{}
	var out []Image
	for _, d := range refs {
		if seen[d] {
			continue
		}
		seen[d] = true
		h, err := v1.NewHash(d)
		if err != nil {
			continue
		}
		img, err := s.describe(h, refs)
		if err != nil {
			return nil, &Error{Op: "list", Ref: d, Err: err}
		}
		out = append(out, img)
	}
	sort.Slice(out, func(i, j int) bool { return firstRef(out[i]) < firstRef(out[j]) })
	return out, nil
}

func firstRef(img Image) string {
	if len(img.RepoTags) > 0 {
		return img.RepoTags[0]
	}
	if len(img.RepoDigests) > 0 {
		return img.RepoDigests[0]
	}
	return img.Digest
}

// describe builds the Image for manifest h, with its references from refs.
func (s *Store) describe(h v1.Hash, refs map[string]string) (Image, error) {
	raw, err := s.readBlob(h)
	if err != nil {
		return Image{}, err
	}
	m, err := s.manifest(h)
	if err != nil {
		return Image{}, err
	}
	cb, err := s.readBlob(m.Config.Digest)
	if err != nil {
		return Image{}, err
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(cb))
	if err != nil {
		return Image{}, fmt.Errorf("config %s: %w", m.Config.Digest, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return Image{}, fmt.Errorf("manifest %s has %d layers but its config %d diffIDs", h, len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	img := Image{
		Digest:       h.String(),
		ID:           m.Config.Digest.String(),
		Size:         int64(len(raw)) + m.Config.Size,
		OS:           cfg.OS,
		Architecture: cfg.Architecture,
		Config:       cfg.Config,
	}
	for i, l := range m.Layers {
		img.Size += l.Size
		img.Layers = append(img.Layers, Layer{Digest: l.Digest.String(), DiffID: cfg.RootFS.DiffIDs[i].String(), Size: l.Size, MediaType: string(l.MediaType)})
	}
	for k, d := range refs {
		if d != img.Digest {
			continue
		}
		if strings.Contains(k, "@") {
			img.RepoDigests = append(img.RepoDigests, k)
		} else {
			img.RepoTags = append(img.RepoTags, k)
		}
	}
	sort.Strings(img.RepoTags)
	sort.Strings(img.RepoDigests)
	return img, nil
}
