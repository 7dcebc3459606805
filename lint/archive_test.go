package lint

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
)

// rawTgz packs entries (raw tar names, in order) into a gzipped tar.
func rawTgz(t *testing.T, entries [][2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: e[0], Mode: 0o644, Size: int64(len(e[1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e[1])); err != nil {
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

// TestArchivesMatchHelm lints good and broken archives through Path and
// Helm's lint action.
func TestArchivesMatchHelm(t *testing.T) {
	good := "apiVersion: v2\nname: packed\nversion: 0.1.0\n"
	tests := []struct {
		name string
		data func(t *testing.T) []byte
	}{
		{"good", func(t *testing.T) []byte {
			return rawTgz(t, [][2]string{{"packed/Chart.yaml", good}, {"packed/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n"}, {"packed/charts/sub/Chart.yaml", "apiVersion: v2\nname: sub\nversion: 0.1.0\n"}})
		}},
		{"folder named differently", func(t *testing.T) []byte {
			return rawTgz(t, [][2]string{{"other-folder/Chart.yaml", good}, {"other-folder/values.yaml", "a: 1\n"}})
		}},
		{"windows separators", func(t *testing.T) []byte {
			return rawTgz(t, [][2]string{{`packed\Chart.yaml`, good}, {`packed\templates\cm.yaml`, "x: 1\n"}})
		}},
		{"not gzip", func(t *testing.T) []byte { return []byte("apiVersion: v2\n") }},
		{"empty file", func(t *testing.T) []byte { return nil }},
		{"truncated", func(t *testing.T) []byte {
			b := rawTgz(t, [][2]string{{"packed/Chart.yaml", good}, {"packed/values.yaml", strings.Repeat("a: 1\n", 1000)}})
			return b[:len(b)/2]
		}},
		{"no files", func(t *testing.T) []byte { return rawTgz(t, nil) }},
		{"no Chart.yaml", func(t *testing.T) []byte { return rawTgz(t, [][2]string{{"packed/values.yaml", "a: 1\n"}}) }},
		{"unnamed chart", func(t *testing.T) []byte {
			return rawTgz(t, [][2]string{{"packed/Chart.yaml", "apiVersion: v2\nversion: 0.1.0\n"}})
		}},
		{"chart named dot-dot", func(t *testing.T) []byte {
			return rawTgz(t, [][2]string{{"packed/Chart.yaml", "apiVersion: v2\nname: ..\nversion: 0.1.0\n"}})
		}},
		{"chart name with slash", func(t *testing.T) []byte {
			return rawTgz(t, [][2]string{{"packed/Chart.yaml", "apiVersion: v2\nname: a/b\nversion: 0.1.0\n"}})
		}},
		{"unparsable Chart.yaml", func(t *testing.T) []byte {
			return rawTgz(t, [][2]string{{"packed/Chart.yaml", "name: [x\n"}})
		}},
		{"absolute path", func(t *testing.T) []byte {
			return rawTgz(t, [][2]string{{"packed/Chart.yaml", good}, {"packed//etc/passwd", "x"}})
		}},
		{"parent path", func(t *testing.T) []byte {
			return rawTgz(t, [][2]string{{"packed/Chart.yaml", good}, {"packed/../../evil", "x"}})
		}},
		{"Chart.yaml at the top", func(t *testing.T) []byte {
			return rawTgz(t, [][2]string{{"Chart.yaml", good}})
		}},
		{"entry outside any folder", func(t *testing.T) []byte {
			return rawTgz(t, [][2]string{{"packed/Chart.yaml", good}, {"stray", "x"}})
		}},
	}
	kv, err := chartutil.ParseKubeVersion("v1.37.0")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "chart-0.1.0.tgz")
			if err := os.WriteFile(p, tt.data(t), 0o644); err != nil {
				t.Fatal(err)
			}
			compareLintWithHelm(t, p, kv, false)
		})
	}
}
