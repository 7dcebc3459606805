package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// resolveInRoot turns a path inside a container into the host path it
// names, following symbolic links as the container would see them: an
// absolute link or a ".." never leaves root. Components that do not
// exist are kept as they are.
func resolveInRoot(root, path string) (string, error) {
	rest := strings.Split(filepath.Clean("/"+path), "/")
	var cur []string // resolved components below root
	links := 0
	for len(rest) > 0 {
		part := rest[0]
		rest = rest[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			if len(cur) > 0 {
				cur = cur[:len(cur)-1]
			}
			continue
		}
		host := filepath.Join(root, filepath.Join(cur...), part)
		fi, err := os.Lstat(host)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				cur = append(cur, part)
				continue
			}
			return "", err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			cur = append(cur, part)
			continue
		}
		if links++; links > 40 {
			return "", fmt.Errorf("%s: too many levels of symbolic links", path)
		}
		target, err := os.Readlink(host)
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(target) {
			cur = nil
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return filepath.Join(append([]string{root}, cur...)...), nil
}

// mkdirInRoot makes a directory inside the container's rootfs and
// returns its host path.
func mkdirInRoot(root, path string) (string, error) {
	dir, err := resolveInRoot(root, path)
	if err != nil {
		return "", fmt.Errorf("resolving %s in the rootfs: %w", path, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("making %s in the rootfs: %w", path, err)
	}
	return dir, nil
}

// mkfileInRoot makes an empty file inside the container's rootfs (a
// mount point for a file) and returns its host path.
func mkfileInRoot(root, path string) (string, error) {
	file, err := resolveInRoot(root, path)
	if err != nil {
		return "", fmt.Errorf("resolving %s in the rootfs: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return "", fmt.Errorf("making %s in the rootfs: %w", filepath.Dir(path), err)
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_RDONLY|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return "", fmt.Errorf("making %s in the rootfs: %w", path, err)
	}
	f.Close()
	return file, nil
}

// capNumbers numbers the capabilities of defaultCapabilities.
var capNumbers = map[string]int{
	"CAP_CHOWN": unix.CAP_CHOWN, "CAP_DAC_OVERRIDE": unix.CAP_DAC_OVERRIDE, "CAP_FSETID": unix.CAP_FSETID,
	"CAP_FOWNER": unix.CAP_FOWNER, "CAP_MKNOD": unix.CAP_MKNOD, "CAP_NET_RAW": unix.CAP_NET_RAW,
	"CAP_SETGID": unix.CAP_SETGID, "CAP_SETUID": unix.CAP_SETUID, "CAP_SETFCAP": unix.CAP_SETFCAP,
	"CAP_SETPCAP": unix.CAP_SETPCAP, "CAP_NET_BIND_SERVICE": unix.CAP_NET_BIND_SERVICE,
	"CAP_SYS_CHROOT": unix.CAP_SYS_CHROOT, "CAP_KILL": unix.CAP_KILL, "CAP_AUDIT_WRITE": unix.CAP_AUDIT_WRITE,
}

// dropBoundingCaps limits this thread's capability bounding set to the
// default set containers get (runc's, from ociSpec): a process it
// executes as root has those and no others.
func dropBoundingCaps() error {
	keep := map[int]bool{}
	for _, name := range defaultCapabilities {
		keep[capNumbers[name]] = true
	}
	last := unix.CAP_LAST_CAP
	if b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			last = n
		}
	}
	for c := 0; c <= last; c++ {
		if keep[c] {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("dropping capability %d: %w", c, err)
		}
	}
	return nil
}
