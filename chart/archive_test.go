package chart

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"strings"
	"testing"

	helmloader "helm.sh/helm/v3/pkg/chart/loader"
)

// entry is one tar entry for buildArchive. A zero typ is a regular file.
type entry struct {
	name string
	body string
	typ  byte
	link string
	size int64 // header size if > 0 and body is empty: data is zeros
}

// buildArchive returns a gzipped tar stream of the entries.
func buildArchive(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		size := int64(len(e.body))
		if e.size > 0 {
			size = e.size
		}
		hd := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Linkname: e.link, Format: tar.FormatPAX}
		if typ == tar.TypeXGlobalHeader {
			hd = &tar.Header{Typeflag: typ, PAXRecords: map[string]string{"comment": e.body}}
		}
		if typ == tar.TypeReg {
			hd.Size = size
		}
		if err := tw.WriteHeader(hd); err != nil {
			t.Fatal(err)
		}
		if typ != tar.TypeReg {
			continue
		}
		if e.body != "" {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		zero := make([]byte, 64<<10)
		for left := size; left > 0; {
			n := min(left, int64(len(zero)))
			if _, err := tw.Write(zero[:n]); err != nil {
				t.Fatal(err)
			}
			left -= n
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func chartEntries(top string) []entry {
	return []entry{
		{name: top + "/Chart.yaml", body: "apiVersion: v2\nname: demo\nversion: 1.0.0\n"},
		{name: top + "/values.yaml", body: "\xEF\xBB\xBFreplicas: 2\n"},
		{name: top + "/templates/cm.yaml", body: "kind: ConfigMap\n"},
	}
}

func with(es []entry, more ...entry) []entry {
	return append(append([]entry{}, es...), more...)
}

// TestLoadArchiveMatchesHelm compares both loaders over archives built for
// the test, valid and invalid, and checks that refusals name the entry.
func TestLoadArchiveMatchesHelm(t *testing.T) {
	quietHelmLog(t)
	good := chartEntries("demo")
	tests := []struct {
		name    string
		data    []byte
		is      error  // nil: both load the chart
		entry   string // the entry the error must name
		helmAlt bool   // Helm loads it anyway (we are stricter)
	}{
		{name: "valid", data: buildArchive(t, good...)},
		{name: "dir entries skipped", data: buildArchive(t, with([]entry{{name: "demo/", typ: tar.TypeDir}, {name: "demo/templates/", typ: tar.TypeDir}}, good...)...)},
		{name: "pax global header", data: buildArchive(t, with([]entry{{typ: tar.TypeXGlobalHeader, body: "made by a test"}}, good...)...)},
		{name: "windows separators", data: buildArchive(t,
			entry{name: `demo\Chart.yaml`, body: "apiVersion: v2\nname: demo\nversion: 1.0.0\n"},
			entry{name: `demo\templates\cm.yaml`, body: "kind: ConfigMap\n"})},
		{name: "any top folder name", data: buildArchive(t, chartEntries("whatever-1.0.0")...)},
		{name: "dot segments inside", data: buildArchive(t, with(good, entry{name: "demo/a/../b/./c.txt", body: "c"})...)},
		{name: "parent escape", data: buildArchive(t, with(good, entry{name: "demo/../../etc/passwd", body: "x"})...), is: ErrIllegalPath, entry: "demo/../../etc/passwd"},
		{name: "dot dot name", data: buildArchive(t, with(good, entry{name: "demo/..foo", body: "x"})...), is: ErrIllegalPath, entry: "demo/..foo"},
		{name: "absolute", data: buildArchive(t, with(good, entry{name: "demo//etc/passwd", body: "x"})...), is: ErrIllegalPath, entry: "demo//etc/passwd"},
		{name: "leading slash", data: buildArchive(t, chartEntries("/demo")...), is: ErrChartYAMLMissing},
		{name: "no top folder", data: buildArchive(t, with(good, entry{name: "README", body: "x"})...), is: ErrIllegalPath, entry: "README"},
		{name: "drive letter", data: buildArchive(t, with(good, entry{name: `demo\C:\evil`, body: "x"})...), is: ErrIllegalPath, entry: `demo\C:\evil`},
		{name: "backslash escape", data: buildArchive(t, with(good, entry{name: `demo\..\..\evil`, body: "x"})...), is: ErrIllegalPath, entry: `demo\..\..\evil`},
		{name: "Chart.yaml as folder", data: buildArchive(t, with(good, entry{name: "Chart.yaml/x", body: "x"})...), is: ErrIllegalPath, entry: "Chart.yaml/x"},
		{name: "symlink", data: buildArchive(t, with(good, entry{name: "demo/templates/link.yaml", typ: tar.TypeSymlink, link: "/etc/passwd"})...), is: ErrLink, entry: "demo/templates/link.yaml", helmAlt: true},
		{name: "hardlink", data: buildArchive(t, with(good, entry{name: "demo/templates/hard.yaml", typ: tar.TypeLink, link: "demo/Chart.yaml"})...), is: ErrLink, entry: "demo/templates/hard.yaml", helmAlt: true},
		{name: "char device", data: buildArchive(t, with(good, entry{name: "demo/null", typ: tar.TypeChar})...), is: ErrIrregularFile, entry: "demo/null", helmAlt: true},
		{name: "fifo", data: buildArchive(t, with(good, entry{name: "demo/fifo", typ: tar.TypeFifo})...), is: ErrIrregularFile, entry: "demo/fifo", helmAlt: true},
		{name: "file too large", data: buildArchive(t, with(good, entry{name: "demo/big.bin", size: MaxDecompressedFileSize + 1})...), is: ErrFileTooLarge, entry: "demo/big.bin"},
		{name: "file at the bound", data: buildArchive(t, with(good, entry{name: "demo/big.bin", size: MaxDecompressedFileSize})...)},
		{name: "no Chart.yaml", data: buildArchive(t, entry{name: "demo/values.yaml", body: "a: 1"}), is: ErrChartYAMLMissing},
		{name: "no files", data: buildArchive(t, entry{name: "demo/", typ: tar.TypeDir}), is: ErrNoFiles},
		{name: "empty tar", data: buildArchive(t), is: ErrNoFiles},
		{name: "values syntax", data: buildArchive(t, with(good, entry{name: "demo/values.yaml", body: "a: [\n"})...), is: nil, entry: "values.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc, herr := helmloader.LoadArchive(bytes.NewReader(tt.data))
			oc, oerr := LoadArchive(bytes.NewReader(tt.data))
			if tt.entry == "" && tt.is == nil {
				if herr != nil || oerr != nil {
					t.Fatalf("ours: %v; helm: %v", oerr, herr)
				}
				compareWithHelm(t, tt.name, oc, hc)
				return
			}
			if oerr == nil {
				t.Fatal("we load it")
			}
			if tt.helmAlt {
				if herr != nil {
					t.Errorf("Helm refuses it too: %v", herr)
				}
			} else if herr == nil {
				t.Errorf("Helm loads it, we refuse: %v", oerr)
			}
			if tt.is != nil && !errors.Is(oerr, tt.is) {
				t.Errorf("error %v is not %v", oerr, tt.is)
			}
			if tt.entry != "" && !strings.Contains(oerr.Error(), fmt.Sprintf("%q", tt.entry)) && !strings.Contains(oerr.Error(), tt.entry+":") {
				t.Errorf("error %q does not name %q", oerr, tt.entry)
			}
		})
	}
}

func TestLoadArchiveMalformed(t *testing.T) {
	valid := buildArchive(t, chartEntries("demo")...)
	var plainGzip bytes.Buffer
	zw := gzip.NewWriter(&plainGzip)
	zw.Write([]byte(strings.Repeat("not a tar stream ", 100)))
	zw.Close()

	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not gzip", []byte("apiVersion: v2\n")},
		{"gzip of text", plainGzip.Bytes()},
		{"truncated gzip", valid[:len(valid)/2]},
		{"truncated header", valid[:12]},
		{"corrupt deflate", append(append([]byte{}, valid[:20]...), bytes.Repeat([]byte{0xff}, 200)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := LoadArchive(bytes.NewReader(tt.data)); err == nil {
				t.Error("loaded")
			}
			if _, err := LoadArchiveFiles(bytes.NewReader(tt.data)); err == nil {
				t.Error("LoadArchiveFiles read it")
			}
			if _, herr := helmloader.LoadArchive(bytes.NewReader(tt.data)); herr == nil {
				t.Error("Helm loads it")
			}
		})
	}
}

func TestLoadArchiveFiles(t *testing.T) {
	data := buildArchive(t, chartEntries("demo")...)
	files, err := LoadArchiveFiles(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := helmloader.LoadArchiveFiles(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(theirs) {
		t.Fatalf("%d files, Helm %d", len(files), len(theirs))
	}
	for i := range files {
		if files[i].Name != theirs[i].Name || !bytes.Equal(files[i].Data, theirs[i].Data) {
			t.Errorf("file %d: %q %q, Helm %q %q", i, files[i].Name, files[i].Data, theirs[i].Name, theirs[i].Data)
		}
	}
	if string(files[1].Data) != "replicas: 2\n" {
		t.Errorf("byte order mark kept: %q", files[1].Data)
	}
}

// TestArchiveBudgets runs the size and count bounds with small limits.
func TestArchiveBudgets(t *testing.T) {
	sub := buildArchive(t,
		entry{name: "sub/Chart.yaml", body: "apiVersion: v2\nname: sub\nversion: 1.0.0\n"},
		entry{name: "sub/data.bin", size: 600},
	)
	top := func(extra ...entry) []byte {
		return buildArchive(t, with(chartEntries("demo"), extra...)...)
	}
	tests := []struct {
		name string
		l    loader
		data []byte
		is   error
	}{
		{"within bounds", loader{fileSize: 1000, budget: 2000, entries: 10}, top(entry{name: "demo/a", size: 900}), nil},
		{"one file too large", loader{fileSize: 1000, budget: 5000, entries: 10}, top(entry{name: "demo/a", size: 1001}), ErrFileTooLarge},
		{"chart too large", loader{fileSize: 1000, budget: 2000, entries: 10}, top(entry{name: "demo/a", size: 1000}, entry{name: "demo/b", size: 1000}), ErrChartTooLarge},
		{"too many entries", loader{fileSize: 1000, budget: 5000, entries: 4}, top(entry{name: "demo/a", body: "a"}, entry{name: "demo/b", body: "b"}), ErrTooManyEntries},
		{"nested archive within the budget", loader{fileSize: 1000, budget: 2000, entries: 10}, top(entry{name: "demo/charts/sub-1.0.0.tgz", body: string(sub)}), nil},
		{"nested archive shares the budget", loader{fileSize: 1000, budget: 800, entries: 10}, top(entry{name: "demo/charts/sub-1.0.0.tgz", body: string(sub)}), ErrChartTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.l
			_, err := l.loadArchive(bytes.NewReader(tt.data), 0)
			if !errors.Is(err, tt.is) || (tt.is == nil) != (err == nil) {
				t.Fatalf("error = %v, want %v", err, tt.is)
			}
		})
	}
}

func TestLoadArchiveChartTooLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100 MiB archive")
	}
	es := chartEntries("demo")
	for i := 0; int64(i)*MaxDecompressedFileSize <= MaxDecompressedChartSize; i++ {
		es = append(es, entry{name: fmt.Sprintf("demo/blob%02d", i), size: MaxDecompressedFileSize})
	}
	data := buildArchive(t, es...)
	_, err := LoadArchive(bytes.NewReader(data))
	if !errors.Is(err, ErrChartTooLarge) || !strings.Contains(err.Error(), "demo/blob") {
		t.Fatalf("error = %v, want ErrChartTooLarge naming a blob", err)
	}
	if _, herr := helmloader.LoadArchive(bytes.NewReader(data)); herr == nil {
		t.Error("Helm loads it")
	}
}

func TestSubchartDepth(t *testing.T) {
	var files []*File
	prefix := ""
	for i := 0; i <= MaxSubchartDepth+1; i++ {
		files = append(files, &File{Name: prefix + "Chart.yaml", Data: fmt.Appendf(nil, "apiVersion: v2\nname: c%d\nversion: 1.0.0\n", i)})
		prefix += fmt.Sprintf("charts/c%d/", i+1)
	}
	_, err := LoadFiles(files)
	if !errors.Is(err, ErrTooDeep) {
		t.Fatalf("error = %v, want ErrTooDeep", err)
	}
	c, err := LoadFiles(files[:MaxSubchartDepth+1])
	if err != nil {
		t.Fatal(err)
	}
	depth := 0
	for ; len(c.Dependencies()) == 1; c = c.Dependencies()[0] {
		depth++
	}
	if depth != MaxSubchartDepth {
		t.Errorf("depth %d", depth)
	}
}
