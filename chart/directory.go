package chart

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
)

// LoadDir loads a chart from a directory. Files and folders that the
// chart's .helmignore matches are left out, as are dot files directly under
// templates/. Symbolic links are followed, as Helm follows them, to files
// and folders inside or outside the chart; a link back to one of its own
// parent folders is an error. Devices, sockets and pipes are refused, and
// so is any file over MaxDecompressedFileSize.
func LoadDir(dir string) (*Chart, error) {
	l := newLoader()
	files, err := l.readDir(dir)
	if err != nil {
		return nil, &Error{Op: OpLoad, Name: dir, Err: err}
	}
	c, err := l.loadFiles(files, 0)
	if err != nil {
		return nil, &Error{Op: OpLoad, Name: dir, Err: err}
	}
	return c, nil
}

// errSkipDir tells walkTree not to descend into a directory.
var errSkipDir = errors.New("skip this directory")

// readDir reads the files of a chart directory in lexical order of their
// paths, component by component.
func (l *loader) readDir(dir string) ([]*File, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}

	rules, err := readIgnoreFile(filepath.Join(root, IgnoreFileName))
	if err != nil {
		return nil, &FileError{Path: IgnoreFileName, Err: err}
	}
	rules = rules.withDefaults()

	var files []*File
	visit := func(abs, rel string, fi fs.FileInfo) error {
		if fi.IsDir() {
			if rules.Ignore(rel, true) {
				return errSkipDir
			}
			return nil
		}
		if rules.Ignore(rel, false) {
			return nil
		}
		if !fi.Mode().IsRegular() {
			return &FileError{Path: rel, Err: fmt.Errorf("%w (mode %v)", ErrIrregularFile, fi.Mode())}
		}
		data, err := l.readLocalFile(abs, fi.Size())
		if err != nil {
			return &FileError{Path: rel, Err: err}
		}
		files = append(files, &File{Name: rel, Data: bytes.TrimPrefix(data, []byte(utf8BOM))})
		return nil
	}
	if err := walkTree(root, visit); err != nil {
		return nil, err
	}
	return files, nil
}

// readIgnoreFile parses the .helmignore file at name, if there is one.
func readIgnoreFile(name string) (*IgnoreRules, error) {
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return &IgnoreRules{}, nil
	}
	if err != nil {
		return nil, unwrapPathError(err)
	}
	defer f.Close()
	return ParseIgnore(f)
}

// readLocalFile reads a file of at most l.fileSize bytes.
func (l *loader) readLocalFile(name string, size int64) ([]byte, error) {
	tooLarge := func(n int64) error {
		return fmt.Errorf("%w (%d bytes, limit %d)", ErrFileTooLarge, n, l.fileSize)
	}
	if size > l.fileSize {
		return nil, tooLarge(size)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	buf.Grow(int(size))
	// Read one byte past the bound to notice a file that grew.
	n, err := io.Copy(&buf, io.LimitReader(f, l.fileSize+1))
	if err != nil {
		return nil, err
	}
	if n > l.fileSize {
		return nil, tooLarge(n)
	}
	return buf.Bytes(), nil
}

// walkTree calls visit for everything below root, in lexical order within
// each directory, with the absolute path, the path relative to root (with
// slashes) and the file's information. Symbolic links are followed: visit
// sees the link's own path with the information of its target. If visit
// returns errSkipDir for a directory, the directory is not entered.
func walkTree(root string, visit func(abs, rel string, fi fs.FileInfo) error) error {
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return unwrapPathError(err)
	}
	return walkDir(root, "", []string{real}, visit)
}

// walkDir walks the directory abs; parents holds the real paths of abs and
// the directories above it, to detect links that loop.
func walkDir(abs, rel string, parents []string, visit func(abs, rel string, fi fs.FileInfo) error) error {
	names, err := readDirNames(abs)
	if err != nil {
		return &FileError{Path: relOrRoot(rel), Err: err}
	}
	for _, name := range names {
		childAbs := filepath.Join(abs, name)
		childRel := path.Join(rel, name)
		fi, err := os.Lstat(childAbs)
		if err != nil {
			return &FileError{Path: childRel, Err: unwrapPathError(err)}
		}
		real := filepath.Join(parents[len(parents)-1], name)
		if fi.Mode()&fs.ModeSymlink != 0 {
			if real, err = filepath.EvalSymlinks(childAbs); err != nil {
				return &FileError{Path: childRel, Err: fmt.Errorf("evaluating symbolic link: %w", unwrapPathError(err))}
			}
			if fi, err = os.Lstat(real); err != nil {
				return &FileError{Path: childRel, Err: unwrapPathError(err)}
			}
		}
		if err := visit(childAbs, childRel, fi); err != nil {
			if err == errSkipDir && fi.IsDir() {
				continue
			}
			return err
		}
		if !fi.IsDir() {
			continue
		}
		if slices.Contains(parents, real) {
			return &FileError{Path: childRel, Err: ErrSymlinkLoop}
		}
		if err := walkDir(childAbs, childRel, append(parents, real), visit); err != nil {
			return err
		}
	}
	return nil
}

// readDirNames lists a directory's entries sorted by name.
func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return nil, unwrapPathError(err)
	}
	slices.Sort(names)
	return names, nil
}

func relOrRoot(rel string) string {
	if rel == "" {
		return "."
	}
	return rel
}
