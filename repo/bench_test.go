package repo_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	helmsearch "helm.sh/helm/v3/cmd/helm/search"
	helmrepo "helm.sh/helm/v3/pkg/repo"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/repo"
)

// The benchmarks compare pkg with Helm's repo package, in the same run,
// on a generated index the size of a big public one (about 35 MB: 2,000
// charts of 25 versions with maintainers, keywords, annotations and
// dependencies). Run them with
//
//	go test ./repo/ -run '^$' -bench . -benchmem
//
// live-MB is the heap still in use once the index is loaded (after a GC):
// what a command holds while it works with the index. peak-MB
// (BenchmarkLoadIndexPeak) is the peak resident memory of a fresh process
// that loads the index once.

const (
	benchCharts   = 2000
	benchVersions = 25
)

var bigIndex = sync.OnceValues(func() (string, error) {
	idx := repo.NewIndexFile(time.Unix(1700000000, 0).UTC())
	for c := 0; c < benchCharts; c++ {
		name := fmt.Sprintf("chart-%04d", c)
		for v := 0; v < benchVersions; v++ {
			version := fmt.Sprintf("%d.%d.%d", v/10, v%10, c%7)
			idx.Entries[name] = append(idx.Entries[name], &repo.ChartVersion{
				Metadata: &chart.Metadata{
					APIVersion:  "v2",
					Name:        name,
					Version:     version,
					AppVersion:  fmt.Sprintf("%d.%d.0", v, c%13),
					Description: fmt.Sprintf("Chart number %d, a generated application with a description of realistic length for an index entry, version %s", c, version),
					Home:        "https://example.com/" + name,
					Icon:        "https://example.com/icons/" + name + ".png",
					Keywords:    []string{"web", "generated", name, fmt.Sprintf("k%d", c%31)},
					Sources:     []string{"https://github.com/example/" + name},
					Maintainers: []*chart.Maintainer{{Name: "Maintainer One", Email: "one@example.com"}, {Name: "Maintainer Two", URL: "https://example.com/two"}},
					Annotations: map[string]string{"category": "Infrastructure", "licenses": "Apache-2.0", "images": "- name: app\n  image: example.com/" + name + ":" + version + "\n"},
					Dependencies: []*chart.Dependency{
						{Name: "common", Version: "2.x.x", Repository: "oci://registry.example.com/charts", Tags: []string{"common"}},
						{Name: "redis", Version: "~18.0.0", Repository: "https://charts.example.com", Condition: "redis.enabled"},
					},
					KubeVersion: ">=1.23.0-0",
					Type:        "application",
				},
				URLs:    []string{"https://charts.example.com/" + name + "-" + version + ".tgz"},
				Created: time.Unix(1700000000+int64(c*benchVersions+v), 0).UTC(),
				Digest:  fmt.Sprintf("%064x", c*benchVersions+v),
			})
		}
	}
	b, err := idx.Marshal()
	if err != nil {
		return "", err
	}
	// The index is the same on every run: keep one copy in the temporary
	// directory, replaced atomically.
	p := filepath.Join(os.TempDir(), fmt.Sprintf("pkg-bench-index-%d-%d.yaml", benchCharts, benchVersions))
	if old, err := os.ReadFile(p); err == nil && string(old) == string(b) {
		return p, nil
	}
	tmp := p + fmt.Sprintf(".%d.tmp", os.Getpid())
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return "", err
	}
	return p, os.Rename(tmp, p)
})

func benchIndexPath(b *testing.B) string {
	b.Helper()
	p, err := bigIndex()
	if err != nil {
		b.Fatal(err)
	}
	if fi, err := os.Stat(p); err == nil {
		b.Logf("index: %s, %.1f MB", p, float64(fi.Size())/1e6)
	}
	return p
}

// liveMB reports the heap in use while keep is alive.
func liveMB(b *testing.B, keep any) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/1e6, "live-MB")
	runtime.KeepAlive(keep)
}

func BenchmarkLoadIndex(b *testing.B) {
	p := benchIndexPath(b)
	b.Run("pkg", func(b *testing.B) {
		b.ReportAllocs()
		var idx *repo.IndexFile
		for b.Loop() {
			var err error
			if idx, err = repo.LoadIndexFile(p, nil); err != nil {
				b.Fatal(err)
			}
		}
		liveMB(b, idx)
	})
	b.Run("helm", func(b *testing.B) {
		b.ReportAllocs()
		var idx *helmrepo.IndexFile
		for b.Loop() {
			var err error
			if idx, err = helmrepo.LoadIndexFile(p); err != nil {
				b.Fatal(err)
			}
		}
		liveMB(b, idx)
	})
}

func BenchmarkSearchIndex(b *testing.B) {
	p := benchIndexPath(b)
	ours, err := repo.LoadIndexFile(p, nil)
	if err != nil {
		b.Fatal(err)
	}
	theirs, err := helmrepo.LoadIndexFile(p)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("pkg", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s repo.SearchIndex
			s.AddRepo("big", ours, true)
			res, err := s.Search("k17", false)
			if err != nil {
				b.Fatal(err)
			}
			repo.SortResults(res)
			if res, err = repo.FilterVersions(res, ">0.0.0", false); err != nil || len(res) == 0 {
				b.Fatal(err, len(res))
			}
		}
	})
	b.Run("helm", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s := helmsearch.NewIndex()
			s.AddRepo("big", theirs, true)
			res := s.SearchLiteral("k17", 25)
			helmsearch.SortScore(res)
			if len(res) == 0 {
				b.Fatal("no results")
			}
		}
	})
}

func BenchmarkResolveVersion(b *testing.B) {
	p := benchIndexPath(b)
	ours, err := repo.LoadIndexFile(p, nil)
	if err != nil {
		b.Fatal(err)
	}
	theirs, err := helmrepo.LoadIndexFile(p)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("pkg", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ours.Get("chart-1234", "^1.0.0"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("helm", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := theirs.Get("chart-1234", "^1.0.0"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLoadIndexPeak loads the index once in a fresh process per
// implementation and reports the process's peak resident memory
// (VmHWM): what loading an index costs a command at most.
func BenchmarkLoadIndexPeak(b *testing.B) {
	p := benchIndexPath(b)
	for _, impl := range []string{"pkg", "helm"} {
		b.Run(impl, func(b *testing.B) {
			var peak float64
			for b.Loop() {
				cmd := exec.Command(os.Args[0], "-test.run=^TestPeakChild$", "-test.v")
				cmd.Env = append(os.Environ(), "PKG_PEAK_CHILD="+impl, "PKG_PEAK_INDEX="+p)
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
				m := regexp.MustCompile(`peak-kB=(\d+)`).FindSubmatch(out)
				if m == nil {
					b.Fatalf("no peak reported:\n%s", out)
				}
				kb, _ := strconv.ParseFloat(string(m[1]), 64)
				peak = max(peak, kb/1024)
			}
			b.ReportMetric(peak, "peak-MB")
		})
	}
}

// TestPeakChild is the child process of BenchmarkLoadIndexPeak.
func TestPeakChild(t *testing.T) {
	impl, p := os.Getenv("PKG_PEAK_CHILD"), os.Getenv("PKG_PEAK_INDEX")
	if impl == "" {
		t.Skip("run by BenchmarkLoadIndexPeak")
	}
	var keep any
	var err error
	if impl == "pkg" {
		keep, err = repo.LoadIndexFile(p, nil)
	} else {
		keep, err = helmrepo.LoadIndexFile(p)
	}
	if err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(status)
	if m == nil {
		t.Skip("no VmHWM")
	}
	fmt.Printf("peak-kB=%s\n", m[1])
	runtime.KeepAlive(keep)
}

// BenchmarkResolveFromCache resolves one chart from a cached index as
// `pkg pull|show|template REPO/CHART` do: pkg decodes only that chart's
// part of the index, Helm loads it all.
func BenchmarkResolveFromCache(b *testing.B) {
	p := benchIndexPath(b)
	b.Run("pkg", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			idx, err := repo.LoadIndexChart(p, "chart-1234", nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := idx.Get("chart-1234", "^1.0.0"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("helm", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			idx, err := helmrepo.LoadIndexFile(p)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := idx.Get("chart-1234", "^1.0.0"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
