package image

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Annotations naming an image in an OCI image layout.
const (
	annotationContainerdName = "io.containerd.image.name"
	annotationRefName        = "org.opencontainers.image.ref.name"
)

// Load puts the images of an archive into the store without a registry,
// as `kind load image-archive` does: a `docker save` tarball (its
// manifest.json and RepoTags) or an OCI image layout tarball (images named
// by the io.containerd.image.name or org.opencontainers.image.ref.name
// annotation). Gzip-compressed archives are accepted too. Layers of a
// docker-save archive are stored uncompressed, under a new OCI manifest.
func (s *Store) Load(ctx context.Context, file string, progress ProgressFunc) ([]Image, error) {
	imgs, err := s.load(ctx, file, progress)
	if err != nil {
		return nil, &Error{Op: "load", Ref: file, Err: err}
	}
	return imgs, nil
}

func (s *Store) load(ctx context.Context, file string, progress ProgressFunc) ([]Image, error) {
	unlock, err := s.writers() // keeps GC from sweeping our files in tmp/
	if err != nil {
		return nil, err
	}
	defer unlock()
	file, cleanup, err := s.gunzipped(file)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	names, err := tarNames(file)
	if err != nil {
		return nil, err
	}
	var hashes []v1.Hash
	switch {
	case names["manifest.json"]:
		hashes, err = s.loadDocker(ctx, file, progress)
	case names["index.json"] && names["oci-layout"]:
		hashes, err = s.loadOCI(ctx, file, progress)
	default:
		return nil, errors.New("not a docker-save or OCI image layout archive: it has neither manifest.json nor index.json and oci-layout")
	}
	if err != nil {
		return nil, err
	}
	refs, err := s.readRefs()
	if err != nil {
		return nil, err
	}
	var out []Image
	for _, h := range hashes {
		img, err := s.describe(h, refs)
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	return out, nil
}

// gunzipped returns a plain tar path for file, decompressing a gzipped
// archive into the store's tmp directory.
func (s *Store) gunzipped(file string) (string, func(), error) {
	f, err := os.Open(file)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, _ := br.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return file, func() {}, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return "", nil, err
	}
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "archive-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.Remove(tmp.Name()) }
	_, err = io.Copy(tmp, zr)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("decompressing: %w", err)
	}
	return tmp.Name(), cleanup, nil
}

// tarNames lists the top-level-normalized names in a tar file.
func tarNames(file string) (map[string]bool, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return names, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading archive (expected a tar from docker save or of an OCI image layout): %w", err)
		}
		names[strings.TrimPrefix(hdr.Name, "./")] = true
	}
}

func (s *Store) loadDocker(ctx context.Context, file string, progress ProgressFunc) ([]v1.Hash, error) {
	opener := func() (io.ReadCloser, error) { return os.Open(file) }
	m, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, fmt.Errorf("reading manifest.json: %w", err)
	}
	var out []v1.Hash
	for i, d := range m {
		if len(d.RepoTags) == 0 {
			return nil, fmt.Errorf("image %d of manifest.json (config %s) has no RepoTags: tag it before saving it", i+1, d.Config)
		}
		var refs []Reference
		var tag *name.Tag
		for _, t := range d.RepoTags {
			nt, err := name.NewTag(t)
			if err != nil {
				return nil, fmt.Errorf("image %d of manifest.json: %w", i+1, err)
			}
			if tag == nil {
				tag = &nt
			}
			refs = append(refs, fromName(nt))
		}
		img, err := tarball.Image(opener, tag)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", d.RepoTags[0], err)
		}
		h, err := s.writeUncompressed(ctx, img, refs, progress)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", d.RepoTags[0], err)
		}
		out = append(out, h)
	}
	return out, nil
}

func (s *Store) loadOCI(ctx context.Context, file string, progress ProgressFunc) ([]v1.Hash, error) {
	dir, err := os.MkdirTemp(filepath.Join(s.dir, "tmp"), "oci-")
	if err != nil {
		return nil, err
	}
	defer removeTree(dir)
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	err = extractLayer(ctx, f, dir)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("unpacking archive: %w", err)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout: %w", err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("reading index.json: %w", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading index.json: %w", err)
	}
	var out []v1.Hash
	for _, d := range im.Manifests {
		ref, err := layoutName(d)
		if err != nil {
			return nil, err
		}
		var img v1.Image
		if d.MediaType.IsIndex() {
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("image %s: %w", ref, err)
			}
			if img, err = platformImage(child, defaultPlatform()); err != nil {
				return nil, fmt.Errorf("image %s: %w", ref, err)
			}
		} else if img, err = idx.Image(d.Digest); err != nil {
			return nil, fmt.Errorf("image %s: %w", ref, err)
		}
		h, err := s.write(ctx, img, []Reference{ref}, progress)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", ref, err)
		}
		out = append(out, h)
	}
	return out, nil
}

// layoutName reads an image's name from its index.json annotations.
func layoutName(d v1.Descriptor) (Reference, error) {
	for _, k := range []string{annotationContainerdName, annotationRefName} {
		v := d.Annotations[k]
		if v == "" {
			continue
		}
		if r, err := ParseReference(v); err == nil && (strings.ContainsAny(v, "/:@")) {
			return r, nil
		}
	}
	return Reference{}, fmt.Errorf("image %s in index.json has no full name in its %s or %s annotation: name it when exporting (e.g. `docker save` or `ctr export` with a reference)", d.Digest, annotationContainerdName, annotationRefName)
}

// platformImage picks the image for platform from an index.
func platformImage(idx v1.ImageIndex, platform v1.Platform) (v1.Image, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range im.Manifests {
		if d.Platform != nil && d.Platform.Satisfies(platform) && d.MediaType.IsImage() {
			return idx.Image(d.Digest)
		}
	}
	return nil, fmt.Errorf("no image for %s in the index", platform)
}
