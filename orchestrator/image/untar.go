package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Whiteout names of the OCI image spec (inherited from AUFS).
const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."
	whiteoutOpaque = ".wh..wh..opq"
	// implicitMarker marks, in an unpacked layer, a directory the tar did
	// not list but holds entries under: applying the layer must leave such
	// a directory's mode, owner and time as lower layers set them. Tar
	// entries of that name are AUFS metadata, dropped, so none can clash.
	implicitMarker = whiteoutMeta + "pkg.implicit"
)

// extractor unpacks one layer tar into an empty directory, refusing any
// entry that would land outside it. Whiteout entries are kept as empty
// marker files for apply to interpret.
type extractor struct {
	dir  string
	root bool // running as root: keep ownership, device nodes, set-id bits
	dirs []dirMeta
}

// dirMeta is applied to directories once all their content is written.
type dirMeta struct {
	path  string
	mode  fs.FileMode
	mtime time.Time
}

// extractLayer unpacks the layer tar r into dir, which must exist and be
// empty. An unsafe entry stops it with an error wrapping ErrUnsafeLayer;
// nothing is ever written outside dir.
func extractLayer(ctx context.Context, r io.Reader, dir string) error {
	x := &extractor{dir: dir, root: os.Geteuid() == 0}
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading layer tar: %w", err)
		}
		if err := x.entry(hdr, tr); err != nil {
			return err
		}
	}
	for i := len(x.dirs) - 1; i >= 0; i-- {
		d := x.dirs[i]
		if err := os.Chmod(d.path, d.mode); err != nil {
			return fmt.Errorf("setting mode of %s: %w", d.path, err)
		}
		_ = os.Chtimes(d.path, d.mtime, d.mtime)
	}
	return nil
}

// isSparse reports a GNU sparse file, old format or PAX.
func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// unsafeEntry builds the error for a refused entry.
func unsafeEntry(name, why string) error {
	return fmt.Errorf("layer entry %q %s: %w", name, why, ErrUnsafeLayer)
}

// cleanEntryName turns a tar name into a clean slash path relative to the
// layer root, refusing absolute names and any that climb out of it.
func cleanEntryName(name string) (string, error) {
	if name == "" {
		return "", unsafeEntry(name, "has an empty name")
	}
	if strings.HasPrefix(name, "/") || filepath.IsAbs(name) {
		return "", unsafeEntry(name, "is an absolute path")
	}
	if strings.ContainsRune(name, 0) || strings.Contains(name, "\\") {
		return "", unsafeEntry(name, "has a NUL or backslash in its name")
	}
	c := path.Clean(name)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", unsafeEntry(name, "climbs out of the root filesystem")
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", unsafeEntry(name, "contains \"..\"")
		}
	}
	return c, nil
}

// parent makes sure every directory above rel exists as a real directory
// (not a symbolic link), creating missing ones, and returns rel's path.
func (x *extractor) parent(name, rel string, create bool) (string, error) {
	parts := strings.Split(rel, "/")
	p := x.dir
	for _, part := range parts[:len(parts)-1] {
		p = filepath.Join(p, part)
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist) && create:
			if err := os.Mkdir(p, 0o755); err != nil {
				return "", fmt.Errorf("layer entry %q: %w", name, err)
			}
			if err := os.WriteFile(filepath.Join(p, implicitMarker), nil, 0o600); err != nil {
				return "", fmt.Errorf("layer entry %q: %w", name, err)
			}
			continue
		case err != nil:
			return "", fmt.Errorf("layer entry %q: %w", name, err)
		case fi.Mode()&fs.ModeSymlink != 0:
			return "", unsafeEntry(name, fmt.Sprintf("goes through the symbolic link %q", strings.TrimPrefix(p, x.dir+"/")))
		case !fi.IsDir():
			return "", unsafeEntry(name, fmt.Sprintf("goes through %q, which is not a directory", strings.TrimPrefix(p, x.dir+"/")))
		}
	}
	return filepath.Join(x.dir, filepath.FromSlash(rel)), nil
}

func (x *extractor) mode(hdr *tar.Header, isDir bool) fs.FileMode {
	m := fs.FileMode(hdr.Mode) & fs.ModePerm
	if x.root {
		if hdr.Mode&0o4000 != 0 {
			m |= fs.ModeSetuid
		}
		if hdr.Mode&0o2000 != 0 {
			m |= fs.ModeSetgid
		}
	} else if isDir {
		m |= 0o700 // we must be able to fill it and, later, remove it
	} else {
		m |= 0o400
	}
	if hdr.Mode&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

func (x *extractor) entry(hdr *tar.Header, r io.Reader) error {
	switch hdr.Typeflag {
	case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
		return nil
	}
	rel, err := cleanEntryName(hdr.Name)
	if err != nil {
		return err
	}
	if isSparse(hdr) {
		// A few bytes of sparse map can describe terabytes of zeros.
		return unsafeEntry(hdr.Name, "is a sparse file, which image layers may not hold")
	}
	if rel == "." {
		return nil // the root itself
	}
	target, err := x.parent(hdr.Name, rel, true)
	if err != nil {
		return err
	}
	base := path.Base(rel)
	if strings.HasPrefix(base, whiteoutPrefix) {
		if strings.HasPrefix(base, whiteoutMeta) && base != whiteoutOpaque {
			return nil // other AUFS metadata, meaningless here
		}
		return x.marker(hdr.Name, target)
	}
	if fi, err := os.Lstat(target); err == nil {
		// A later entry for the same name replaces the earlier one, except
		// that a directory stays a directory.
		if fi.IsDir() && hdr.Typeflag == tar.TypeDir {
			if err := os.Remove(filepath.Join(target, implicitMarker)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
			}
			x.dirs = append(x.dirs, dirMeta{target, x.mode(hdr, true), hdr.ModTime})
			return x.own(hdr, target)
		}
		if err := removeTree(target); err != nil {
			return fmt.Errorf("layer entry %q: replacing: %w", hdr.Name, err)
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(target, 0o755); err != nil {
			return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}
		x.dirs = append(x.dirs, dirMeta{target, x.mode(hdr, true), hdr.ModTime})
	case tar.TypeReg, tar.TypeRegA:
		if err := x.file(hdr, target, r); err != nil {
			return err
		}
	case tar.TypeSymlink:
		if hdr.Linkname == "" {
			return unsafeEntry(hdr.Name, "is a symbolic link to nothing")
		}
		if err := os.Symlink(hdr.Linkname, target); err != nil {
			return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}
	case tar.TypeLink:
		if err := x.hardlink(hdr, target); err != nil {
			return err
		}
		return nil // the link shares its target's metadata
	case tar.TypeChar, tar.TypeBlock:
		if !x.root {
			return nil // device nodes need root; a rootless container gets none
		}
		mode := uint32(hdr.Mode & 0o7777)
		if hdr.Typeflag == tar.TypeChar {
			mode |= syscall.S_IFCHR
		} else {
			mode |= syscall.S_IFBLK
		}
		dev := int((hdr.Devmajor&0xfff)<<8 | hdr.Devminor&0xff | (hdr.Devminor&^0xff)<<12)
		if err := syscall.Mknod(target, mode, dev); err != nil {
			return fmt.Errorf("layer entry %q: creating device node: %w", hdr.Name, err)
		}
	case tar.TypeFifo:
		if err := syscall.Mkfifo(target, uint32(x.mode(hdr, false).Perm())); err != nil {
			return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}
	default:
		return nil // sparse files, contiguous files and the like: skipped
	}
	if err := x.own(hdr, target); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeSymlink && hdr.Typeflag != tar.TypeDir {
		if err := os.Chmod(target, x.mode(hdr, false)); err != nil {
			return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}
		_ = os.Chtimes(target, hdr.ModTime, hdr.ModTime)
	}
	return nil
}

func (x *extractor) own(hdr *tar.Header, target string) error {
	if !x.root {
		return nil
	}
	if err := os.Lchown(target, hdr.Uid, hdr.Gid); err != nil {
		return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
	}
	return nil
}

func (x *extractor) file(hdr *tar.Header, target string, r io.Reader) error {
	f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
	}
	_, err = io.CopyN(f, r, hdr.Size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("layer entry %q: writing: %w", hdr.Name, err)
	}
	return nil
}

// marker records a whiteout as an empty file.
func (x *extractor) marker(name, target string) error {
	if fi, err := os.Lstat(target); err == nil && !fi.Mode().IsRegular() {
		if err := removeTree(target); err != nil {
			return fmt.Errorf("layer entry %q: %w", name, err)
		}
	}
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		return fmt.Errorf("layer entry %q: %w", name, err)
	}
	return nil
}

// hardlink links target to an earlier entry of the same layer. The link
// name is a path from the layer's root and may not leave it or go through
// a symbolic link.
func (x *extractor) hardlink(hdr *tar.Header, target string) error {
	if strings.HasPrefix(hdr.Linkname, "/") {
		return unsafeEntry(hdr.Name, fmt.Sprintf("is a hard link to the absolute path %q", hdr.Linkname))
	}
	rel, err := cleanEntryName(hdr.Linkname)
	if err != nil || rel == "." {
		return unsafeEntry(hdr.Name, fmt.Sprintf("is a hard link to %q, outside the root filesystem", hdr.Linkname))
	}
	src, err := x.parent(hdr.Name, rel, false)
	if err != nil {
		if errors.Is(err, ErrUnsafeLayer) {
			return err
		}
		return fmt.Errorf("layer entry %q: hard link to %q, which this layer does not hold: %w", hdr.Name, hdr.Linkname, err)
	}
	fi, err := os.Lstat(src)
	if err != nil {
		return fmt.Errorf("layer entry %q: hard link to %q, which this layer does not hold: %w", hdr.Name, hdr.Linkname, err)
	}
	if fi.IsDir() || strings.HasPrefix(path.Base(rel), whiteoutPrefix) {
		return unsafeEntry(hdr.Name, fmt.Sprintf("is a hard link to %q, which is not a file", hdr.Linkname))
	}
	if err := os.Link(src, target); err != nil {
		return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
	}
	return nil
}

// removeTree removes a path and everything under it, making directories
// writable first so that a read-only tree can go too.
func removeTree(p string) error {
	err := os.RemoveAll(p)
	if err == nil || !errors.Is(err, fs.ErrPermission) {
		return err
	}
	_ = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(q, 0o700)
		}
		return nil
	})
	return os.RemoveAll(p)
}
