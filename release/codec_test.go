package release

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
)

// TestEncodeReadsAsHelmReads encodes a small record and a large one and
// reads both back as Helm's storage driver does: base64, gzip, JSON.
func TestEncodeReadsAsHelmReads(t *testing.T) {
	for _, size := range []int{1 << 10, 256 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			r := sampleRelease(t, "codec", 1, StatusDeployed)
			var m strings.Builder
			for i := 0; m.Len() < size; i++ {
				fmt.Fprintf(&m, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n  n: %q\n", i, fmt.Sprint(i*7919%104729))
			}
			r.Manifest = m.String()
			body, err := Encode(r)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := base64.StdEncoding.DecodeString(body)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(raw, gzipMagic) {
				t.Fatalf("record starts %x, not gzip's magic", raw[:3])
			}
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			js, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			var got Release
			if err := json.Unmarshal(js, &got); err != nil {
				t.Fatal(err)
			}
			if got.Manifest != r.Manifest || got.Info.Notes != r.Info.Notes || got.Chart.Metadata.Name != r.Chart.Metadata.Name {
				t.Fatal("the record read back differs from the one encoded")
			}
			if len(raw) > len(js)/2 {
				t.Errorf("%d bytes of JSON compressed to %d: too little", len(js), len(raw))
			}
			again, err := Decode(body)
			if err != nil || again.Manifest != r.Manifest {
				t.Fatalf("Decode: %v", err)
			}
		})
	}
}

// TestEncodeWithReusedWriters checks that a writer taken back from the
// pool starts clean: a record encodes to the same bytes whatever was
// encoded before it, also with encodes running at once.
func TestEncodeWithReusedWriters(t *testing.T) {
	small := sampleRelease(t, "small", 1, StatusDeployed)
	big := sampleRelease(t, "big", 2, StatusSuperseded)
	big.Manifest = strings.Repeat("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n", 4000)
	want, err := Encode(small)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			r := small
			if i%2 == 1 {
				r = big
			}
			if _, err := Encode(r); err != nil {
				errs <- err
				return
			}
			got, err := Encode(small)
			if err == nil && got != want {
				err = fmt.Errorf("encode %d: a reused writer encoded the record to different bytes", i)
			}
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// BenchmarkEncode encodes the record of testdata/charts/hello, as a
// command does two or three times.
func BenchmarkEncode(b *testing.B) {
	r := sampleRelease(b, "bench", 1, StatusDeployed)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(r); err != nil {
			b.Fatal(err)
		}
	}
}
