package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// maxSymlinks bounds link resolution, as the kernel's ELOOP does.
const maxSymlinks = 40

// resolveInRoot resolves rel inside root as a chroot would: symbolic links
// met on the way, absolute or relative, are followed but can never lead
// out of root, because ".." stops at root and absolute targets start from
// it. Missing components are kept as they are.
func resolveInRoot(root, rel string) (string, error) {
	todo := strings.Split(filepath.ToSlash(rel), "/")
	var done []string
	links := 0
	for len(todo) > 0 {
		part := todo[0]
		todo = todo[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		p := filepath.Join(append([]string{root}, append(done, part)...)...)
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			done = append(done, part)
			continue
		}
		links++
		if links > maxSymlinks {
			return "", fmt.Errorf("resolving %q in the root filesystem: too many symbolic links", rel)
		}
		dest, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(dest, "/") {
			done = nil
		}
		todo = append(strings.Split(dest, "/"), todo...)
	}
	return filepath.Join(append([]string{root}, done...)...), nil
}

// applier puts unpacked layers, in order, onto a root filesystem.
type applier struct {
	rootfs   string
	hardlink bool // link regular files from the layer cache instead of copying
	root     bool
	// links maps a cached inode to its first copy, to keep hard links.
	links map[[2]uint64]string
}

// apply applies the unpacked layer in layerDir: whiteout markers remove
// what lower layers left at their names (an opaque marker empties its
// directory), then the layer's own entries are added.
func (a *applier) apply(ctx context.Context, layerDir string) error {
	a.links = map[[2]uint64]string{}
	return a.dir(ctx, layerDir, "")
}

func (a *applier) dir(ctx context.Context, layerDir, rel string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	src := filepath.Join(layerDir, rel)
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	dst, err := resolveInRoot(a.rootfs, rel)
	if err != nil {
		return err
	}
	// Whiteouts first: they concern lower layers only.
	for _, e := range entries {
		n := e.Name()
		switch {
		case n == whiteoutOpaque:
			kids, err := os.ReadDir(dst)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			for _, k := range kids {
				if err := removeTree(filepath.Join(dst, k.Name())); err != nil {
					return err
				}
			}
		case strings.HasPrefix(n, whiteoutMeta):
			// the implicit-directory marker
		case strings.HasPrefix(n, whiteoutPrefix):
			if err := removeTree(filepath.Join(dst, strings.TrimPrefix(n, whiteoutPrefix))); err != nil {
				return err
			}
		}
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, whiteoutPrefix) {
			continue
		}
		if err := a.entry(ctx, layerDir, filepath.Join(rel, n), filepath.Join(dst, n)); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) entry(ctx context.Context, layerDir, rel, dst string) error {
	src := filepath.Join(layerDir, rel)
	fi, err := os.Lstat(src)
	if err != nil {
		return err
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	_, lerr := os.Lstat(dst)
	if fi.IsDir() {
		return a.directory(ctx, layerDir, rel, dst, fi, st, lerr == nil)
	}
	if lerr == nil {
		if err := removeTree(dst); err != nil {
			return err
		}
	}
	switch {
	case fi.Mode().IsRegular():
		key := [2]uint64{}
		if st != nil {
			key = [2]uint64{uint64(st.Dev), st.Ino}
			if st.Nlink > 1 {
				if first, ok := a.links[key]; ok {
					return os.Link(first, dst)
				}
			}
		}
		if a.hardlink {
			if err := os.Link(src, dst); err != nil {
				return err
			}
			return nil
		}
		if err := copyFile(src, dst); err != nil {
			return err
		}
		if st != nil && st.Nlink > 1 {
			a.links[key] = dst
		}
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, dst); err != nil {
			return err
		}
		if a.root && st != nil {
			return os.Lchown(dst, int(st.Uid), int(st.Gid))
		}
		return nil
	case fi.Mode()&fs.ModeNamedPipe != 0:
		if err := syscall.Mkfifo(dst, uint32(fi.Mode().Perm())); err != nil {
			return err
		}
	case fi.Mode()&fs.ModeDevice != 0:
		if !a.root || st == nil {
			return nil
		}
		if err := syscall.Mknod(dst, st.Mode, int(st.Rdev)); err != nil {
			return err
		}
	default:
		return nil
	}
	return a.meta(dst, fi, st)
}

// directory applies a directory of the layer. One the tar listed replaces
// whatever is at dst unless that is a directory, and takes the listed mode,
// owner and time, as Docker does. One the tar only implied (a parent of
// listed entries) is followed through symbolic links, inside the root, to
// a directory lower layers made, and leaves its metadata alone.
func (a *applier) directory(ctx context.Context, layerDir, rel, dst string, fi fs.FileInfo, st *syscall.Stat_t, exists bool) error {
	_, err := os.Lstat(filepath.Join(layerDir, rel, implicitMarker))
	implicit := err == nil
	target := dst
	if implicit {
		if target, err = resolveInRoot(a.rootfs, rel); err != nil {
			return err
		}
	}
	if t, err := os.Lstat(target); err != nil || !t.IsDir() {
		if exists {
			if err := removeTree(dst); err != nil {
				return err
			}
		}
		target = dst
		if err := os.Mkdir(target, 0o755); err != nil {
			return err
		}
	} else if implicit {
		// The directory exists: apply only what is under it.
		return a.dir(ctx, layerDir, rel)
	}
	if err := a.dir(ctx, layerDir, rel); err != nil {
		return err
	}
	if implicit {
		return nil
	}
	return a.meta(target, fi, st)
}

// meta copies ownership (as root), mode and modification time.
func (a *applier) meta(dst string, fi fs.FileInfo, st *syscall.Stat_t) error {
	if a.root && st != nil {
		if err := os.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
	}
	if err := os.Chmod(dst, fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return err
	}
	_ = os.Chtimes(dst, fi.ModTime(), fi.ModTime())
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
