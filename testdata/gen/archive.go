package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"
)

// archiveSpec says which chart directory to pack and where the archive goes.
type archiveSpec struct {
	src   string            // chart directory to pack
	name  string            // top-level directory inside the archive
	out   string            // archive path
	extra map[string][]byte // more entries, relative to the chart root
}

// epoch is the fixed modification time of every archive entry.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func writeArchives(root string) error {
	charts := filepath.Join(root, "charts")
	gen := filepath.Join(root, "gen", "archives")

	// queue carries its own subchart as an archive: build the inner one first.
	inner, err := packDir(filepath.Join(gen, "queue-metrics"), "queue-metrics", nil)
	if err != nil {
		return err
	}
	specs := []archiveSpec{
		{src: filepath.Join(charts, "webstack", "charts", "common"), name: "common",
			out: filepath.Join(charts, "tgz-deps", "charts", "common-2.4.0.tgz")},
		{src: filepath.Join(gen, "queue"), name: "queue",
			out:   filepath.Join(charts, "tgz-deps", "charts", "queue-1.2.0.tgz"),
			extra: map[string][]byte{"charts/queue-metrics-0.1.0.tgz": inner}},
		{src: filepath.Join(gen, "worker"), name: "worker",
			out: filepath.Join(charts, "bigchart", "charts", "worker-0.7.0.tgz")},
	}
	for _, s := range specs {
		data, err := packDir(s.src, s.name, s.extra)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(s.out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(s.out, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// packDir returns a gzipped tar of dir with every entry under name/, in
// sorted order, with fixed times, owners and modes.
func packDir(dir, name string, extra map[string][]byte) ([]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("packing %s: %w", dir, err)
	}
	for k, v := range extra {
		files[k] = v
	}
	names := make([]string, 0, len(files))
	for k := range files {
		names = append(names, k)
	}
	sort.Strings(names)

	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	zw.ModTime = epoch
	tw := tar.NewWriter(zw)
	for _, n := range names {
		hdr := &tar.Header{
			Name:    path.Join(name, n),
			Mode:    0o644,
			Size:    int64(len(files[n])),
			ModTime: epoch,
			Format:  tar.FormatUSTAR,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(files[n]); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
