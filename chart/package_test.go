package chart

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	helmloader "helm.sh/helm/v3/pkg/chart/loader"
	helmutil "helm.sh/helm/v3/pkg/chartutil"
)

// tarEntry is what we compare of an archive entry.
type tarEntry struct {
	Name             string
	Typeflag         byte
	Mode, Size       int64
	Uid, Gid         int
	Uname, Gname     string
	Linkname         string
	Format           tar.Format
	Body             string
	ModTime          time.Time
	AccessTime       time.Time
	PAXRecordsLength int
}

// readListing returns the gzip header and entries of an archive file.
func readListing(t *testing.T, data []byte) (gzip.Header, []tarEntry) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out []tarEntry
	tr := tar.NewReader(zr)
	for {
		hd, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarEntry{
			Name: hd.Name, Typeflag: hd.Typeflag, Mode: hd.Mode, Size: hd.Size,
			Uid: hd.Uid, Gid: hd.Gid, Uname: hd.Uname, Gname: hd.Gname, Linkname: hd.Linkname,
			Format: hd.Format, Body: string(body), ModTime: hd.ModTime, AccessTime: hd.AccessTime,
			PAXRecordsLength: len(hd.PAXRecords),
		})
	}
	return zr.Header, out
}

// savedCharts are packaged by both sides; paths are relative to Helm's
// module, except "scaffold", which is a fresh Create.
var savedCharts = []string{
	"pkg/chart/loader/testdata/frobnitz",
	"pkg/chart/loader/testdata/frobnitz.v1",
	"pkg/chart/loader/testdata/frobnitz-1.2.3.tgz",
	"pkg/chart/loader/testdata/frobnitz_backslash-1.2.3.tgz",
	"pkg/chart/loader/testdata/mariner",
	"pkg/chartutil/testdata/subpop",
	"pkg/chartutil/testdata/three-level-dependent-chart/umbrella",
	"cmd/helm/testdata/testcharts/chart-with-schema",
	"cmd/helm/testdata/testcharts/chart-with-lib-dep",
	"scaffold",
}

func TestSaveMatchesHelm(t *testing.T) {
	mod := helmDir(t)
	quietHelmLog(t)
	for _, rel := range savedCharts {
		t.Run(rel, func(t *testing.T) {
			src := filepath.Join(mod, rel)
			if rel == "scaffold" {
				var err error
				if src, err = Create("scaffold", t.TempDir()); err != nil {
					t.Fatal(err)
				}
			}
			ours, err := Load(src)
			if err != nil {
				t.Skipf("not a loadable chart: %v", err)
			}
			theirs, err := helmloader.Load(src)
			if err != nil {
				t.Fatal(err)
			}
			sortHelmDeps(t, ours, theirs)

			ourDir, helmOut := t.TempDir(), t.TempDir()
			ourPath, err := Save(ours, ourDir)
			if err != nil {
				t.Fatal(err)
			}
			helmPath, err := helmutil.Save(theirs, helmOut)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(ourPath) != filepath.Base(helmPath) || filepath.Dir(ourPath) != ourDir {
				t.Errorf("saved to %s, Helm to %s", ourPath, helmPath)
			}
			ourData, helmData := readFile(t, ourPath), readFile(t, helmPath)
			ourGz, ourList := readListing(t, ourData)
			helmGz, helmList := readListing(t, helmData)
			if !reflect.DeepEqual(ourGz, helmGz) {
				t.Errorf("gzip header\nours: %+v\nhelm: %+v", ourGz, helmGz)
			}
			if len(ourList) != len(helmList) {
				t.Fatalf("%d entries, Helm %d", len(ourList), len(helmList))
			}
			for i := range ourList {
				o, h := ourList[i], helmList[i]
				if time.Since(o.ModTime) > time.Minute || o.ModTime.Nanosecond() != 0 {
					t.Errorf("%s: mod time %v", o.Name, o.ModTime)
				}
				o.ModTime, h.ModTime = time.Time{}, time.Time{}
				if o != h {
					t.Errorf("entry %d\nours: %+v\nhelm: %+v", i, o, h)
				}
			}
			if fi, err := os.Stat(ourPath); err != nil || fi.Mode().Perm() != 0o644 {
				t.Errorf("archive mode: %v %v", fi.Mode(), err)
			}
			if names := dirNames(t, ourDir); len(names) != 1 {
				t.Errorf("left in the output directory: %v", names)
			}

			// Stamped with Helm's time, the archive is Helm's, byte for byte.
			if stamp, ok := singleModTime(helmList); ok {
				var buf bytes.Buffer
				if err := WriteArchive(&buf, ours, stamp); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(buf.Bytes(), helmData) {
					t.Error("archive bytes differ from Helm's")
				} else {
					t.Log("byte-identical to Helm's archive")
				}
			}

			// Both loaders read our archive alike, and it holds the chart
			// we saved.
			h2, err := helmloader.Load(ourPath)
			if err != nil {
				t.Fatalf("Helm cannot load our archive: %v", err)
			}
			o2, err := Load(ourPath)
			if err != nil {
				t.Fatalf("we cannot load our archive: %v", err)
			}
			compareWithHelm(t, "reloaded", o2, h2)
			sameChart(t, "round trip", o2, ours)
		})
	}
}

// singleModTime returns the entries' mod time if they all share one.
func singleModTime(list []tarEntry) (time.Time, bool) {
	for _, e := range list {
		if !e.ModTime.Equal(list[0].ModTime) {
			return time.Time{}, false
		}
	}
	return list[0].ModTime, len(list) > 0
}

// sameChart compares a chart reloaded from its archive with the chart that
// was saved, except for Raw (Chart.yaml is re-marshalled when packaging).
// As in Helm, packaging an apiVersion v1 chart keeps only what
// requirements.yaml and requirements.lock say: dependencies listed in its
// Chart.yaml and its Chart.lock are not written.
func sameChart(t *testing.T, where string, got, saved *Chart) {
	t.Helper()
	where += "(" + got.Name() + ")"
	a, b := got, saved
	am, bm := *a.Metadata, *b.Metadata
	v1 := bm.APIVersion == APIVersionV1
	if v1 && !hasFile(saved, RequirementsName) {
		am.Dependencies, bm.Dependencies = nil, nil
	}
	if x, y := mustJSON(t, am), mustJSON(t, bm); x != y {
		t.Errorf("%s: metadata\n%s\n%s", where, x, y)
	}
	if x, y := mustJSON(t, a.Lock), mustJSON(t, b.Lock); x != y && !(v1 && !hasFile(saved, RequirementsLock)) {
		t.Errorf("%s: lock\n%s\n%s", where, x, y)
	}
	if !reflect.DeepEqual(a.Values, b.Values) || !bytes.Equal(a.Schema, b.Schema) {
		t.Errorf("%s: values or schema differ", where)
	}
	if !reflect.DeepEqual(a.Templates, b.Templates) || !reflect.DeepEqual(a.Files, b.Files) {
		t.Errorf("%s: templates or files differ", where)
	}
	ad, bd := a.Dependencies(), b.Dependencies()
	if len(ad) != len(bd) {
		t.Fatalf("%s: %d dependencies, want %d", where, len(ad), len(bd))
	}
	for i := range ad {
		sameChart(t, where+"/charts/", ad[i], bd[i])
	}
}

func hasFile(c *Chart, name string) bool {
	for _, f := range c.Files {
		if f.Name == name {
			return true
		}
	}
	return false
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteArchiveDeterministic(t *testing.T) {
	c, err := LoadFiles([]*File{
		{Name: "Chart.yaml", Data: []byte(minimalChartYAML)},
		{Name: "values.yaml", Data: []byte("# comment kept\na: 1\n")},
		{Name: "templates/cm.yaml", Data: []byte("kind: ConfigMap")},
	})
	if err != nil {
		t.Fatal(err)
	}
	stamp := time.Date(2024, 5, 6, 7, 8, 9, 500, time.UTC)
	var a, b bytes.Buffer
	if err := WriteArchive(&a, c, stamp); err != nil {
		t.Fatal(err)
	}
	if err := WriteArchive(&b, c, stamp); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two writes differ")
	}
	_, list := readListing(t, a.Bytes())
	var names []string
	for _, e := range list {
		names = append(names, e.Name)
		if !e.ModTime.Equal(stamp.Round(time.Second)) {
			t.Errorf("%s: mod time %v", e.Name, e.ModTime)
		}
	}
	want := []string{"demo/Chart.yaml", "demo/values.yaml", "demo/templates/cm.yaml"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("entries %v, want %v", names, want)
	}
	if list[1].Body != "# comment kept\na: 1\n" {
		t.Errorf("values.yaml not kept raw: %q", list[1].Body)
	}
}

func TestSaveErrors(t *testing.T) {
	valid := func() *Chart {
		return &Chart{Metadata: &Metadata{APIVersion: APIVersionV2, Name: "demo", Version: "1.0.0"}}
	}
	tests := []struct {
		name   string
		chart  func() *Chart
		outDir func(t *testing.T) string
		is     error
	}{
		{
			name:   "invalid metadata",
			chart:  func() *Chart { c := valid(); c.Metadata.Version = "x"; return c },
			outDir: func(t *testing.T) string { return t.TempDir() },
			is:     ErrInvalidChart,
		},
		{
			name:   "no metadata",
			chart:  func() *Chart { return &Chart{} },
			outDir: func(t *testing.T) string { return t.TempDir() },
			is:     ErrInvalidChart,
		},
		{
			name:   "invalid schema",
			chart:  func() *Chart { c := valid(); c.Schema = []byte("{"); return c },
			outDir: func(t *testing.T) string { return t.TempDir() },
		},
		{
			name:   "file escaping the chart",
			chart:  func() *Chart { c := valid(); c.Files = []*File{{Name: "../../evil", Data: []byte("x")}}; return c },
			outDir: func(t *testing.T) string { return t.TempDir() },
			is:     ErrIllegalPath,
		},
		{
			name: "subchart with a bad name",
			chart: func() *Chart {
				c := valid()
				c.AddDependency(&Chart{Metadata: &Metadata{Name: "../x", Version: "1.0.0"}})
				return c
			},
			outDir: func(t *testing.T) string { return t.TempDir() },
			is:     ErrInvalidName,
		},
		{
			name:  "output is a file",
			chart: valid,
			outDir: func(t *testing.T) string {
				p := filepath.Join(t.TempDir(), "file")
				writeTree(t, filepath.Dir(p), map[string]string{"file": "x"})
				return p
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := tt.outDir(t)
			p, err := Save(tt.chart(), out)
			if err == nil || p != "" {
				t.Fatalf("Save = %q, %v", p, err)
			}
			var e *Error
			if !errors.As(err, &e) || e.Op != OpSave {
				t.Errorf("error %v is not a packaging *Error", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if fi, err := os.Stat(out); err == nil && fi.IsDir() {
				if names := dirNames(t, out); len(names) != 0 {
					t.Errorf("left behind: %v", names)
				}
			}
		})
	}
}

func TestSaveCreatesOutDirAndReplaces(t *testing.T) {
	c, err := LoadFiles([]*File{{Name: "Chart.yaml", Data: []byte(minimalChartYAML)}})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "a", "b")
	for range 2 {
		p, err := Save(c, out)
		if err != nil {
			t.Fatal(err)
		}
		if p != filepath.Join(out, "demo-1.0.0.tgz") {
			t.Errorf("path %s", p)
		}
	}
	if names := dirNames(t, out); len(names) != 1 {
		t.Errorf("output directory holds %v", names)
	}
}
