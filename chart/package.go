package chart

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// gzipExtra and gzipComment are the gzip header fields `helm package`
// writes; they are copied so archives look the same byte for byte.
const (
	gzipExtra   = "+aHR0cHM6Ly95b3V0dS5iZS96OVV6MWljandyTQo="
	gzipComment = "Helm"
)

// ArchiveName is the file name Save gives a chart: NAME-VERSION.tgz.
func ArchiveName(c *Chart) string {
	version := ""
	if c.Metadata != nil {
		version = c.Metadata.Version
	}
	return c.Name() + "-" + version + ".tgz"
}

// Save packages the chart into outDir/NAME-VERSION.tgz the way
// `helm package` does, creating outDir if needed, and returns the path of
// the archive. The archive is written to a temporary file in outDir and
// renamed into place, so a reader never sees a partial archive and a
// failed Save leaves nothing behind. See WriteArchive for the layout.
func Save(c *Chart, outDir string) (string, error) {
	if err := validateForSave(c); err != nil {
		return "", err
	}
	filename := filepath.Join(outDir, ArchiveName(c))
	fail := func(err error) (string, error) {
		return "", &Error{Op: OpSave, Name: c.Name(), Err: err}
	}

	dir := filepath.Dir(filename)
	switch fi, err := os.Stat(dir); {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fail(err)
		}
	case err != nil:
		return fail(err)
	case !fi.IsDir():
		return fail(fmt.Errorf("%s is not a directory", dir))
	}

	tmp, err := os.CreateTemp(dir, "."+filepath.Base(filename)+".*.tmp")
	if err != nil {
		return fail(err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := writeArchive(tmp, c, time.Now()); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), filename); err != nil {
		return fail(err)
	}
	committed = true
	return filename, nil
}

// WriteArchive writes the chart as a gzipped tar stream to w, every entry
// stamped with modTime. The layout is Helm's: entries under NAME/, in the
// order Chart.yaml (re-marshalled from Metadata; an apiVersion v1 chart's
// dependencies left out, as they live in requirements.yaml), Chart.lock
// (apiVersion v2 only, re-marshalled from Lock), values.yaml (the raw file,
// comments kept), values.schema.json, the templates, the other files, then
// each subchart as a folder under NAME/charts/, recursively. Every entry is
// a regular file with mode 0644; no directory entries are written. The
// gzip header carries Helm's extra field and comment.
func WriteArchive(w io.Writer, c *Chart, modTime time.Time) error {
	if err := validateForSave(c); err != nil {
		return err
	}
	if err := writeArchive(w, c, modTime); err != nil {
		return &Error{Op: OpSave, Name: c.Name(), Err: err}
	}
	return nil
}

// validateForSave checks the root chart as Helm does before packaging.
func validateForSave(c *Chart) error {
	if err := c.Validate(); err != nil {
		return &Error{Op: OpSave, Name: c.Name(), Err: err}
	}
	return nil
}

func writeArchive(w io.Writer, c *Chart, modTime time.Time) error {
	zw := gzip.NewWriter(w)
	zw.Header.Extra = []byte(gzipExtra)
	zw.Header.Comment = gzipComment
	tw := tar.NewWriter(zw)
	if err := writeChart(tw, c, "", modTime); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// writeChart writes the entries of c under prefix/NAME/.
func writeChart(tw *tar.Writer, c *Chart, prefix string, modTime time.Time) error {
	name := c.Name()
	if c.Metadata == nil || name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	base := path.Join(prefix, name)
	put := func(file string, data []byte) error {
		p := path.Join(base, file)
		if !strings.HasPrefix(p, base+"/") {
			return &FileError{Path: file, Err: ErrIllegalPath}
		}
		return tw.WriteHeader(&tar.Header{
			Typeflag: tar.TypeReg,
			Name:     p,
			Mode:     0o644,
			Size:     int64(len(data)),
			ModTime:  modTime,
		})
	}
	write := func(file string, data []byte) error {
		if err := put(file, data); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}

	md := *c.Metadata
	if md.APIVersion == APIVersionV1 {
		md.Dependencies = nil
	}
	chartYAML, err := yaml.Marshal(&md)
	if err != nil {
		return &FileError{Path: ChartfileName, Err: err}
	}
	if err := write(ChartfileName, chartYAML); err != nil {
		return err
	}
	if md.APIVersion == APIVersionV2 && c.Lock != nil {
		lock, err := yaml.Marshal(c.Lock)
		if err != nil {
			return &FileError{Path: LockfileName, Err: err}
		}
		if err := write(LockfileName, lock); err != nil {
			return err
		}
	}
	for _, f := range c.Raw {
		if f.Name == ValuesfileName {
			if err := write(ValuesfileName, f.Data); err != nil {
				return err
			}
		}
	}
	if c.Schema != nil {
		if !json.Valid(c.Schema) {
			return &FileError{Path: SchemafileName, Err: errors.New("invalid JSON")}
		}
		if err := write(SchemafileName, c.Schema); err != nil {
			return err
		}
	}
	for _, group := range [][]*File{c.Templates, c.Files} {
		for _, f := range group {
			if err := write(f.Name, f.Data); err != nil {
				return err
			}
		}
	}
	for _, dep := range c.Dependencies() {
		if err := writeChart(tw, dep, path.Join(base, ChartsDir), modTime); err != nil {
			return err
		}
	}
	return nil
}
