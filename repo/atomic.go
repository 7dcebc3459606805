package repo

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// pendingFile is data written to a temporary file next to its destination,
// not yet renamed into place. Several pending files let a caller write all
// of them before committing any.
type pendingFile struct {
	tmp  string
	dest string
}

// stage writes data to a temporary file in dest's directory (created with
// mode 0755 if missing) with the given permissions.
func stage(dest string, data []byte, perm fs.FileMode) (*pendingFile, error) {
	dir := filepath.Dir(dest)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(dest)+".*.tmp")
	if err != nil {
		return nil, err
	}
	p := &pendingFile{tmp: f.Name(), dest: dest}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		p.discard()
		return nil, fmt.Errorf("writing %s: %w", dest, err)
	}
	return p, nil
}

func (p *pendingFile) commit() error {
	if err := os.Rename(p.tmp, p.dest); err != nil {
		p.discard()
		return err
	}
	return nil
}

func (p *pendingFile) discard() { os.Remove(p.tmp) }

// writeFileAtomic replaces dest with data, or leaves it as it was.
func writeFileAtomic(dest string, data []byte, perm fs.FileMode) error {
	p, err := stage(dest, data, perm)
	if err != nil {
		return err
	}
	return p.commit()
}

// writeFilesAtomic stages every file first and renames them only when all
// were written, so that an error while writing leaves all destinations as
// they were.
func writeFilesAtomic(files map[string][]byte, perm fs.FileMode) error {
	var staged []*pendingFile
	for dest, data := range files {
		p, err := stage(dest, data, perm)
		if err != nil {
			for _, s := range staged {
				s.discard()
			}
			return err
		}
		staged = append(staged, p)
	}
	for i, p := range staged {
		if err := p.commit(); err != nil {
			for _, s := range staged[i+1:] {
				s.discard()
			}
			return err
		}
	}
	return nil
}
