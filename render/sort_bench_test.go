package render

import (
	"testing"

	"helm.sh/helm/v3/pkg/releaseutil"
)

// benchCharts returns about 1 MB of rendered templates (see
// genRenderedCharts) and their total size.
func benchCharts(b *testing.B) (map[string]string, int64) {
	b.Helper()
	files := genRenderedCharts(64)
	var size int64
	for _, c := range files {
		size += int64(len(c))
	}
	return files, size
}

// BenchmarkSortManifests compares SortManifests with Helm's on the same
// input; run with -bench SortManifests -benchmem.
func BenchmarkSortManifests(b *testing.B) {
	files, size := benchCharts(b)
	b.Run("pkg", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := SortManifests(files, InstallOrder()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("helm", func(b *testing.B) {
		silenceHelmSortLog()
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSplitManifests compares SplitManifests with Helm's.
func BenchmarkSplitManifests(b *testing.B) {
	files, _ := benchCharts(b)
	var stream []byte
	for _, c := range files {
		stream = append(stream, "---\n"...)
		stream = append(stream, c...)
	}
	s := string(stream)
	b.Run("pkg", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		b.ReportAllocs()
		for b.Loop() {
			SplitManifests(s)
		}
	})
	b.Run("helm", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		b.ReportAllocs()
		for b.Loop() {
			releaseutil.SplitManifests(s)
		}
	})
}

// BenchmarkManifestHead compares reading the heads of the documents of
// benchCharts with the scanner and with Helm's full decoding.
func BenchmarkManifestHead(b *testing.B) {
	files, _ := benchCharts(b)
	var docs []string
	var size int64
	for _, c := range files {
		for _, d := range appendManifestDocs(nil, c) {
			if _, err := decodeManifestHead(d); err == nil {
				docs = append(docs, d)
				size += int64(len(d))
			}
		}
	}
	b.Run("scan-or-decode", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			for _, d := range docs {
				if _, err := parseManifestHead(d); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			for _, d := range docs {
				if _, err := decodeManifestHead(d); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
