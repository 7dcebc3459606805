package plugin

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Installer installs plugins as Helm's installers do: a local directory
// is linked into Dir, an http(s) URL of a .tgz or .tar.gz is downloaded
// and unpacked there, and anything else is a git repository, cloned into
// Cache and linked into Dir.
type Installer struct {
	// Dir is where plugins are installed (the first directory of
	// $HELM_PLUGINS).
	Dir string
	// Cache holds the clones of plugins installed from repositories
	// ($HELM_CACHE_HOME/plugins).
	Cache string
	// Download fetches an archive's URL (the CLI's repository fetcher,
	// with its proxy, TLS and size settings and its progress).
	Download func(ctx context.Context, url string) ([]byte, error)
}

// ErrExists is returned when the plugin's directory is taken.
var ErrExists = errors.New("plugin already exists")

// Install installs the plugin at src; version picks a branch or tag of a
// repository (other sources have one version).
func (in *Installer) Install(ctx context.Context, src, version string) (*Plugin, error) {
	if err := os.MkdirAll(in.Dir, 0o755); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(src); err == nil && fi.IsDir() {
		abs, err := filepath.Abs(src)
		if err != nil {
			return nil, err
		}
		return in.link(abs, filepath.Base(abs))
	}
	if (strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")) &&
		(strings.HasSuffix(src, ".tgz") || strings.HasSuffix(src, ".tar.gz")) {
		return in.fromArchive(ctx, src)
	}
	return in.fromRepository(ctx, src, version)
}

// link validates the plugin in dir and links it into Dir as name.
func (in *Installer) link(dir, name string) (*Plugin, error) {
	if _, err := Load(dir); err != nil {
		return nil, err
	}
	dst := filepath.Join(in.Dir, name)
	if _, err := os.Lstat(dst); err == nil {
		return nil, fmt.Errorf("%w: %s", ErrExists, dst)
	}
	if err := os.Symlink(dir, dst); err != nil {
		return nil, err
	}
	return Load(dst)
}

// fromRepository clones a git repository (at the branch or tag version,
// when given) and links the clone.
func (in *Installer) fromRepository(ctx context.Context, src, version string) (*Plugin, error) {
	name := strings.TrimSuffix(filepath.Base(strings.TrimRight(src, "/")), ".git")
	if name == "" || name == "." || name == "/" {
		return nil, fmt.Errorf("cannot tell a plugin name from %q", src)
	}
	if _, err := os.Lstat(filepath.Join(in.Dir, name)); err == nil {
		return nil, fmt.Errorf("%w: %s", ErrExists, filepath.Join(in.Dir, name))
	}
	clone := filepath.Join(in.Cache, name)
	if err := os.RemoveAll(clone); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(in.Cache, 0o755); err != nil {
		return nil, err
	}
	args := []string{"clone", "--quiet"}
	if version != "" {
		ref, err := solveVersion(ctx, src, version)
		if err != nil {
			return nil, err
		}
		args = append(args, "--branch", ref)
	}
	args = append(args, "--", src, clone)
	if out, err := exec.CommandContext(ctx, "git", args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("cloning %s: %w: %s", src, err, strings.TrimSpace(string(out)))
	}
	return in.link(clone, name)
}

// solveVersion picks the branch or tag of the repository at src that
// version names: itself when a branch or tag is so named, else the
// highest tag that is a semantic version meeting version as a
// constraint (">=1.2", "~0.8"), as Helm's installer does.
func solveVersion(ctx context.Context, src, version string) (string, error) {
	out, err := exec.CommandContext(ctx, "git", "ls-remote", "--tags", "--heads", "--", src).Output()
	if err != nil {
		return "", fmt.Errorf("listing the versions of %s: %w", src, err)
	}
	var tags []string
	for _, line := range strings.Split(string(out), "\n") {
		_, ref, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		ref = strings.TrimSuffix(ref, "^{}")
		name := strings.TrimPrefix(strings.TrimPrefix(ref, "refs/tags/"), "refs/heads/")
		if name == version {
			return version, nil
		}
		if strings.HasPrefix(ref, "refs/tags/") {
			tags = append(tags, name)
		}
	}
	c, err := semver.NewConstraint(version)
	if err != nil {
		return "", fmt.Errorf("%s has no branch or tag %q, and it is not a version constraint: %w", src, version, err)
	}
	var best *semver.Version
	pick := ""
	for _, t := range tags {
		v, err := semver.NewVersion(t)
		if err != nil || !c.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) {
			best, pick = v, t
		}
	}
	if pick == "" {
		return "", fmt.Errorf("%s has no tag meeting the version constraint %q", src, version)
	}
	return pick, nil
}

// fromArchive downloads a gzipped tar of a plugin and unpacks it into
// Dir, in a directory named after the plugin.
func (in *Installer) fromArchive(ctx context.Context, src string) (*Plugin, error) {
	if in.Download == nil {
		return nil, fmt.Errorf("cannot download %s: no downloader configured", src)
	}
	data, err := in.Download(ctx, src)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(in.Dir, ".install-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := untar(bytes.NewReader(data), tmp); err != nil {
		return nil, fmt.Errorf("unpacking %s: %w", src, err)
	}
	root := tmp
	if _, err := os.Stat(filepath.Join(root, MetadataFile)); err != nil {
		// The archive's one top directory is the plugin.
		entries, _ := os.ReadDir(tmp)
		if len(entries) != 1 || !entries[0].IsDir() {
			return nil, fmt.Errorf("%s holds no %s", src, MetadataFile)
		}
		root = filepath.Join(tmp, entries[0].Name())
	}
	p, err := Load(root)
	if err != nil {
		return nil, err
	}
	dst := filepath.Join(in.Dir, p.Metadata.Name)
	if _, err := os.Lstat(dst); err == nil {
		return nil, fmt.Errorf("%w: %s", ErrExists, dst)
	}
	if err := os.Rename(root, dst); err != nil {
		return nil, err
	}
	return Load(dst)
}

// untar unpacks a gzipped tar into dir, refusing entries that would land
// outside it; links in the archive are skipped.
func untar(r io.Reader, dir string) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(h.Name)
		if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, ".."+string(filepath.Separator)) {
			return fmt.Errorf("entry %q leaves the plugin's directory", h.Name)
		}
		dst := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o777|0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}

// Update pulls a plugin installed from a repository.
func Update(ctx context.Context, p *Plugin) error {
	dir, err := filepath.EvalSymlinks(p.Dir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		return fmt.Errorf("plugin %q was not installed from a repository: uninstall it and install it again", p.Metadata.Name)
	}
	if exec.CommandContext(ctx, "git", "-C", dir, "symbolic-ref", "-q", "HEAD").Run() != nil {
		return fmt.Errorf("plugin %q is pinned to version %s: uninstall it and install the version you want with --version", p.Metadata.Name, p.Metadata.Version)
	}
	if out, err := exec.CommandContext(ctx, "git", "-C", dir, "pull", "--quiet", "--ff-only").CombinedOutput(); err != nil {
		return fmt.Errorf("updating plugin %q: %w: %s", p.Metadata.Name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Uninstall removes a plugin from its plugins directory: the link of one
// installed from a path or repository, the directory of one unpacked
// there.
func Uninstall(p *Plugin) error {
	fi, err := os.Lstat(p.Dir)
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return os.Remove(p.Dir)
	}
	return os.RemoveAll(p.Dir)
}
