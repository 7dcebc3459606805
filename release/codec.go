package release

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// gzipMagic starts every gzip stream; Helm checks for it to tell
// compressed records from the plain JSON of very old versions.
var gzipMagic = []byte{0x1f, 0x8b, 0x08}

// Encode returns the body Helm stores for a record: base64 of the gzip of
// its JSON.
func Encode(r *Release) (string, error) {
	js, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encoding release %q: %w", r.Name, err)
	}
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(js); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// gzipWriters keeps best-compression writers for Encode. Each holds about
// 800 KB of match tables; a command writes two or three records (the new
// revision, then its final status, and the one it supersedes), and a
// fresh writer for each cost more in first-touch page faults than the
// compression itself.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestCompression) // the level is valid
	return zw
}}

// Decode reads a record Encode (or Helm) wrote. Plain JSON inside the
// base64 is accepted too, as Helm accepts it.
func Decode(body string) (*Release, error) {
	raw, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("decoding release record: not base64: %w", err)
	}
	if bytes.HasPrefix(raw, gzipMagic) {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("decoding release record: %w", err)
		}
		raw, err = io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("decoding release record: %w", err)
		}
	}
	var r Release
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("decoding release record: %w", err)
	}
	return &r, nil
}
