package lint

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

// tgz packs files (name → content) under top/ as a chart archive.
func tgz(t *testing.T, top string, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: top + "/" + name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeTree writes files (path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestNestedLoadErrorsMatchHelm breaks a chart at different depths, in
// folders and archives, and compares how the failure is worded.
func TestNestedLoadErrorsMatchHelm(t *testing.T) {
	chartYAML := func(name string) []byte {
		return []byte("apiVersion: v2\nname: " + name + "\nversion: 0.1.0\nicon: https://example.com/i.png\n")
	}
	tests := []struct {
		name  string
		files func(t *testing.T) map[string][]byte
	}{
		{"values of a folder subchart", func(t *testing.T) map[string][]byte {
			return map[string][]byte{
				"Chart.yaml":                   chartYAML("root"),
				"charts/mid/Chart.yaml":        chartYAML("middle-name"),
				"charts/mid/values.yaml":       []byte("a: [1\n"),
				"charts/mid/templates/cm.yaml": []byte("x: 1\n"),
			}
		}},
		{"metadata two folders down", func(t *testing.T) map[string][]byte {
			return map[string][]byte{
				"Chart.yaml":                        chartYAML("root"),
				"charts/mid/Chart.yaml":             chartYAML("middle-name"),
				"charts/mid/charts/deep/Chart.yaml": []byte("apiVersion: v2\nversion: 1.0.0\n"),
			}
		}},
		{"missing Chart.yaml in a folder subchart", func(t *testing.T) map[string][]byte {
			return map[string][]byte{
				"Chart.yaml":               chartYAML("root"),
				"charts/empty/values.yaml": []byte("a: 1\n"),
			}
		}},
		{"archive inside a folder subchart", func(t *testing.T) map[string][]byte {
			return map[string][]byte{
				"Chart.yaml":            chartYAML("root"),
				"charts/mid/Chart.yaml": chartYAML("middle-name"),
				"charts/mid/charts/leaf-0.1.0.tgz": tgz(t, "leaf", map[string]string{
					"Chart.yaml":  "apiVersion: v2\nname: leaf\nversion: 0.1.0\n",
					"values.yaml": "- not a map\n",
				}),
			}
		}},
		{"archive inside an archive", func(t *testing.T) map[string][]byte {
			inner := tgz(t, "inner", map[string]string{"Chart.yaml": "apiVersion: v2\nname: inner\nversion: nope\n"})
			return map[string][]byte{
				"Chart.yaml": chartYAML("root"),
				"charts/outer-0.1.0.tgz": tgz(t, "outer", map[string]string{
					"Chart.yaml":                  "apiVersion: v2\nname: outer-name\nversion: 0.1.0\n",
					"charts/inner-0.1.0.tgz":      string(inner),
					"charts/sub/Chart.yaml":       "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
					"charts/sub/templates/x.yaml": "x: 1\n",
				}),
			}
		}},
		{"folder inside an archive", func(t *testing.T) map[string][]byte {
			return map[string][]byte{
				"Chart.yaml": chartYAML("root"),
				"charts/outer-0.1.0.tgz": tgz(t, "outer", map[string]string{
					"Chart.yaml":            "apiVersion: v2\nname: outer-name\nversion: 0.1.0\n",
					"charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
					"charts/sub/Chart.lock": "dependencies: {\n",
				}),
			}
		}},
		{"subchart archive that is not gzip", func(t *testing.T) map[string][]byte {
			return map[string][]byte{
				"Chart.yaml":         chartYAML("root"),
				"charts/bad-1.0.tgz": []byte("not gzip at all"),
			}
		}},
		{"subchart archive with a parent path", func(t *testing.T) map[string][]byte {
			return map[string][]byte{
				"Chart.yaml": chartYAML("root"),
				"charts/evil-1.0.tgz": tgz(t, "evil", map[string]string{
					"Chart.yaml": "apiVersion: v2\nname: evil\nversion: 0.1.0\n",
					"../x":       "x",
				}),
			}
		}},
		{"requirements of a v1 subchart", func(t *testing.T) map[string][]byte {
			return map[string][]byte{
				"Chart.yaml":                   chartYAML("root"),
				"charts/old/Chart.yaml":        []byte("apiVersion: v1\nname: old\nversion: 0.1.0\n"),
				"charts/old/requirements.yaml": []byte("dependencies: [\n"),
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tt.files(t))
			want := helmMessages(t, dir, map[string]any{}, "default", "v1.37.0", false)
			got := ourMessages(t, dir, map[string]any{}, "default", "v1.37.0", false)
			compareMessages(t, got, want)
			if len(want) < 2 {
				t.Errorf("expected load failures, Helm found %q", want)
			}
		})
	}
}
