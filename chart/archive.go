package chart

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// gzipMagic starts every gzip stream compressed with deflate.
const gzipMagic = "\x1f\x8b\x08"

// LoadArchive loads a chart from a gzipped tar stream laid out as
// `helm package` writes it: every entry under one top-level folder, which
// is stripped. The stream is untrusted; see LoadArchiveFiles.
func LoadArchive(r io.Reader) (*Chart, error) {
	c, err := newLoader().loadArchive(r, 0)
	if err != nil {
		return nil, &Error{Op: OpLoad, Name: c.Name(), Err: err}
	}
	return c, nil
}

// LoadArchiveFiles reads the files of a chart archive into memory, names
// relative to the chart root, in archive order, without a leading UTF-8
// byte order mark. It checks every entry before reading it: absolute paths,
// paths that leave the chart's folder, links and other non-regular entries
// are refused, as are files over MaxDecompressedFileSize, archives over
// MaxDecompressedChartSize or MaxArchiveEntries, and malformed gzip or tar
// data. Errors name the entry. Directory entries and PAX global headers are
// skipped.
func LoadArchiveFiles(r io.Reader) ([]*File, error) {
	files, err := newLoader().readArchive(r)
	if err != nil {
		return nil, &Error{Op: OpLoad, Err: err}
	}
	return files, nil
}

// loadArchiveFile loads the archive file name, first checking that it is
// gzip data so that a stray values.yaml given as a chart gets a clear error.
func loadArchiveFile(name string) (*Chart, error) {
	fail := func(err error) (*Chart, error) {
		return nil, &Error{Op: OpLoad, Name: name, Err: err}
	}
	f, err := os.Open(name)
	if err != nil {
		return fail(unwrapPathError(err))
	}
	defer f.Close()

	head := make([]byte, len(gzipMagic))
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return fail(fmt.Errorf("reading file: %w", err))
	}
	if !bytes.Equal(head[:n], []byte(gzipMagic)) {
		if strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") {
			return fail(fmt.Errorf("%w: the file seems to be YAML, but a chart archive or directory was expected", ErrNotArchive))
		}
		return fail(fmt.Errorf("%w: expected a chart archive (.tgz) or directory", ErrNotArchive))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	c, err := newLoader().loadArchive(f, 0)
	if err != nil {
		return fail(err)
	}
	return c, nil
}

// loadArchive reads an archive and loads the files in it.
func (l *loader) loadArchive(r io.Reader, depth int) (*Chart, error) {
	files, err := l.readArchive(r)
	if err != nil {
		return nil, err
	}
	return l.loadFiles(files, depth)
}

// readArchive reads and checks the entries of a gzipped tar stream.
func (l *loader) readArchive(r io.Reader) ([]*File, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("reading archive: %w", err)
	}
	defer zr.Close()

	var files []*File
	tr := tar.NewReader(zr)
	for {
		hd, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading archive: %w", err)
		}
		if l.entries--; l.entries < 0 {
			return nil, fmt.Errorf("%w (more than %d)", ErrTooManyEntries, MaxArchiveEntries)
		}
		if hd.FileInfo().IsDir() {
			continue
		}
		if err := checkEntryType(hd.Typeflag); err != nil {
			if err == errSkipEntry {
				continue
			}
			return nil, &EntryError{Entry: hd.Name, Err: err}
		}
		name, err := entryPath(hd.Name)
		if err != nil {
			return nil, &EntryError{Entry: hd.Name, Err: err}
		}
		data, err := l.readEntry(tr, hd)
		if err != nil {
			return nil, &EntryError{Entry: hd.Name, Err: err}
		}
		files = append(files, &File{Name: name, Data: bytes.TrimPrefix(data, []byte(utf8BOM))})
	}
	if len(files) == 0 {
		return nil, ErrNoFiles
	}
	return files, nil
}

// errSkipEntry marks tar entries that carry no file.
var errSkipEntry = errors.New("skip entry")

// checkEntryType accepts regular files only. PAX headers are skipped (the
// tar reader applies them); links, devices, FIFOs and anything unknown are
// refused.
func checkEntryType(t byte) error {
	switch t {
	case tar.TypeReg, tar.TypeRegA, tar.TypeCont, tar.TypeGNUSparse:
		return nil
	case tar.TypeXGlobalHeader, tar.TypeXHeader:
		return errSkipEntry
	case tar.TypeLink, tar.TypeSymlink:
		return ErrLink
	default:
		return fmt.Errorf("%w (tar entry type %q)", ErrIrregularFile, t)
	}
}

// entryPath turns an archive entry name into a path relative to the chart
// root: the first component (the chart's folder) is dropped, a name written
// on Windows with backslashes is read with them as separators, and the
// result must stay inside the chart.
func entryPath(entry string) (string, error) {
	sep := "/"
	if strings.Contains(entry, `\`) {
		sep = `\`
	}
	top, rest, _ := strings.Cut(entry, sep)
	rest = strings.ReplaceAll(rest, sep, "/")

	if path.IsAbs(rest) {
		return "", fmt.Errorf("%w: absolute path", ErrIllegalPath)
	}
	p := path.Clean(rest)
	switch {
	case p == ".":
		return "", fmt.Errorf("%w: not inside the chart's top-level folder", ErrIllegalPath)
	case strings.HasPrefix(p, ".."):
		// Like Helm, this also refuses names such as "..foo".
		return "", fmt.Errorf("%w: refers to a parent directory", ErrIllegalPath)
	case isDrivePath(p):
		return "", fmt.Errorf("%w: names a drive", ErrIllegalPath)
	case top == ChartfileName:
		return "", fmt.Errorf("%w: Chart.yaml is not in the chart's folder", ErrIllegalPath)
	}
	return p, nil
}

// isDrivePath reports whether p starts like "C:/".
func isDrivePath(p string) bool {
	if len(p) < 3 || p[1] != ':' || p[2] != '/' {
		return false
	}
	c := p[0] | 0x20 // lower case
	return 'a' <= c && c <= 'z'
}

// readEntry reads the current entry's data within the file and archive
// budgets.
func (l *loader) readEntry(tr *tar.Reader, hd *tar.Header) ([]byte, error) {
	if hd.Size > l.budget {
		return nil, fmt.Errorf("%w (limit %d bytes)", ErrChartTooLarge, MaxDecompressedChartSize)
	}
	if hd.Size > l.fileSize {
		return nil, fmt.Errorf("%w (%d bytes, limit %d)", ErrFileTooLarge, hd.Size, l.fileSize)
	}
	var buf bytes.Buffer
	buf.Grow(int(hd.Size))
	n, err := io.Copy(&buf, io.LimitReader(tr, l.budget))
	if err != nil {
		return nil, err
	}
	l.budget -= n
	// The tar reader yields exactly Size bytes; fewer means the limit cut
	// the copy. As in Helm, using up the whole budget is also too much.
	if n < hd.Size || l.budget <= 0 {
		return nil, fmt.Errorf("%w (limit %d bytes)", ErrChartTooLarge, MaxDecompressedChartSize)
	}
	return buf.Bytes(), nil
}
