package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sandbox returns a root directory for extraction next to an "outside"
// directory holding a secret, so tests can see whether anything escaped.
func sandbox(t *testing.T) (root, outside string) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "root")
	outside = filepath.Join(base, "outside")
	for _, d := range []string{root, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	return root, outside
}

func checkOutside(t *testing.T, outside string) {
	t.Helper()
	got := readTree(t, outside)
	if fmt.Sprint(got) != fmt.Sprint(map[string]string{"secret": "secret"}) {
		t.Errorf("outside the root filesystem now holds %v", got)
	}
	base := filepath.Dir(outside)
	entries, _ := os.ReadDir(base)
	if len(entries) != 2 {
		t.Errorf("next to the root filesystem: %d entries, want 2 (root, outside)", len(entries))
	}
}

func TestExtractRefusesUnsafeLayers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		entries []entry
		want    string // in the error
	}{
		{"dot-dot path", []entry{{name: "../outside/pwned", body: "x"}}, "climbs out"},
		{"dot-dot in the middle", []entry{{name: "a/../../outside/pwned", body: "x"}}, "climbs out"},
		{"dot-dot that stays inside", []entry{{name: "a/../b", body: "x"}}, `contains ".."`},
		{"absolute path", []entry{{name: "/tmp/pwned", body: "x"}}, "absolute path"},
		{"symlink then write", []entry{
			{name: "link", typ: tar.TypeSymlink, link: "../outside"},
			{name: "link/pwned", body: "x"},
		}, "symbolic link"},
		{"absolute symlink then write", []entry{
			{name: "etc", typ: tar.TypeSymlink, link: "/"},
			{name: "etc/pwned", body: "x"},
		}, "symbolic link"},
		{"symlink then overwrite target", []entry{
			{name: "s", typ: tar.TypeSymlink, link: "../outside/secret"},
			{name: "s/", typ: tar.TypeDir},
		}, ""},
		{"hard link to outside", []entry{{name: "hl", typ: tar.TypeLink, link: "../outside/secret"}}, "outside the root"},
		{"hard link to absolute path", []entry{{name: "hl", typ: tar.TypeLink, link: "/etc/passwd"}}, "absolute path"},
		{"hard link through symlink", []entry{
			{name: "out", typ: tar.TypeSymlink, link: "../outside"},
			{name: "hl", typ: tar.TypeLink, link: "out/secret"},
		}, "symbolic link"},
		{"whiteout through symlink", []entry{
			{name: "out", typ: tar.TypeSymlink, link: "../outside"},
			{name: "out/.wh.secret"},
		}, "symbolic link"},
	}
	tests = append(tests, struct {
		name    string
		entries []entry
		want    string
	}{"sparse file", nil, "sparse file"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root, outside := sandbox(t)
			data := tarBytes(t, tt.entries...)
			if tt.entries == nil {
				data = sparseTar(t)
			}
			err := extractLayer(bg, bytes.NewReader(data), root)
			if tt.want != "" {
				if !errors.Is(err, ErrUnsafeLayer) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("err = %v, want ErrUnsafeLayer saying %q", err, tt.want)
				}
			}
			checkOutside(t, outside)
		})
	}
}

// An unsafe layer is refused through the whole Unpack path too, leaving no
// root filesystem behind.
func TestUnpackRefusesUnsafeLayer(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	img := testImage(t, layer(t,
		entry{name: "link", typ: tar.TypeSymlink, link: "/"},
		entry{name: "link/tmp/pwned", body: "x"},
	))
	h, err := s.write(bg, img, []Reference{{Repo: "example.com/evil", Tag: "1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	root, outside := sandbox(t)
	_, err = s.Unpack(bg, "example.com/evil:1", root, UnpackOptions{})
	if !errors.Is(err, ErrUnsafeLayer) || !strings.Contains(err.Error(), `"link/tmp/pwned"`) {
		t.Fatalf("err = %v, want ErrUnsafeLayer naming the entry", err)
	}
	if kids, err := os.ReadDir(root); err != nil || len(kids) != 0 {
		t.Errorf("root filesystem not left empty: %v, %v", kids, err)
	}
	checkOutside(t, filepath.Join(outside))
	_ = h
	if _, err := os.Stat("/tmp/pwned"); err == nil {
		t.Error("/tmp/pwned exists")
	}
}

// Links from lower layers are followed inside the root filesystem only,
// as a chroot would: absolute targets start at the root, ".." stops there.
// A link that leads nowhere is replaced by the directory written over it.
func TestApplyFollowsLowerLinksInsideRoot(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	lower := layer(t,
		entry{name: "etc", typ: tar.TypeSymlink, link: "/"},
		entry{name: "up", typ: tar.TypeSymlink, link: "../../../../../outside"},
		entry{name: "usr/", typ: tar.TypeDir},
		entry{name: "usr/lib/", typ: tar.TypeDir},
		entry{name: "lib", typ: tar.TypeSymlink, link: "usr/lib"},
	)
	upper := layer(t,
		entry{name: "etc/passwd", body: "root"},
		entry{name: "up/pwned", body: "x"},
		entry{name: "lib/libc.so", body: "libc"},
	)
	if _, err := s.write(bg, testImage(t, lower, upper), []Reference{{Repo: "example.com/links", Tag: "1"}}, nil); err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	os.Mkdir(outside, 0o755)
	os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o600)
	if _, err := s.Unpack(bg, "example.com/links:1", root, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	checkOutside(t, outside)
	tree := readTree(t, root)
	for p, want := range map[string]string{"passwd": "root", "up/pwned": "x", "usr/lib/libc.so": "libc", "lib": "-> usr/lib"} {
		if tree[p] != want {
			t.Errorf("%s = %q, want %q (tree %v)", p, tree[p], want, tree)
		}
	}
}

func TestExtractKeepsModesLinksAndMarkers(t *testing.T) {
	t.Parallel()
	root, _ := sandbox(t)
	err := extractLayer(bg, bytes.NewReader(tarBytes(t,
		entry{name: "./bin/", typ: tar.TypeDir, mode: 0o750},
		entry{name: "./bin/tool", body: "tool", mode: 0o4755},
		entry{name: "./bin/alias", typ: tar.TypeLink, link: "bin/tool"},
		entry{name: "./bin/sh", typ: tar.TypeSymlink, link: "/bin/tool"},
		entry{name: "./deep/er/file", body: "implicit parents"},
		entry{name: "./dup", body: "first"},
		entry{name: "./dup", body: "second"},
		entry{name: "./dev/null", typ: tar.TypeChar},
		entry{name: "./fifo", typ: tar.TypeFifo},
		entry{name: "./x/.wh.y"},
		entry{name: "./x/.wh..wh..opq"},
		entry{name: "./x/.wh..wh.plnk"},
	)), root)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(root, "bin/tool"))
	if err != nil {
		t.Fatal(err)
	}
	wantMode := os.FileMode(0o755)
	if os.Geteuid() == 0 {
		wantMode |= os.ModeSetuid
	}
	if fi.Mode() != wantMode {
		t.Errorf("bin/tool mode = %v, want %v", fi.Mode(), wantMode)
	}
	di, _ := os.Stat(filepath.Join(root, "bin"))
	if di.Mode().Perm() != 0o750 {
		t.Errorf("bin mode = %v, want 0750", di.Mode().Perm())
	}
	ai, _ := os.Stat(filepath.Join(root, "bin/alias"))
	if !os.SameFile(fi, ai) {
		t.Error("bin/alias is not a hard link of bin/tool")
	}
	tree := readTree(t, root)
	for p, want := range map[string]string{"bin/sh": "-> /bin/tool", "deep/er/file": "implicit parents", "dup": "second", "x/.wh.y": "", "x/.wh..wh..opq": ""} {
		if got, ok := tree[p]; !ok || got != want {
			t.Errorf("%s = %q (present %v), want %q", p, got, ok, want)
		}
	}
	if _, ok := tree["x/.wh..wh.plnk"]; ok {
		t.Error("AUFS metadata entry kept")
	}
	if _, ok := tree["dev/null"]; ok != (os.Geteuid() == 0) {
		t.Errorf("device node present = %v, want %v (root)", ok, os.Geteuid() == 0)
	}
}

func TestWhiteouts(t *testing.T) {
	t.Parallel()
	l1 := layer(t,
		entry{name: "a/b/c", body: "c"},
		entry{name: "a/d", body: "d"},
		entry{name: "a/e", body: "e"},
		entry{name: "gone/file", body: "gone"},
		entry{name: "x/y", body: "y"},
		entry{name: "x/z/deep", body: "deep"},
		entry{name: "file-then-dir", body: "file"},
		entry{name: "keep", body: "keep"},
	)
	l2 := layer(t,
		entry{name: "a/.wh.b"},
		entry{name: "a/.wh.e"},
		entry{name: ".wh.gone"},
		entry{name: "x/.wh..wh..opq"},
		entry{name: "x/new", body: "new"},
		entry{name: ".wh.keep"},
		entry{name: "keep/", typ: tar.TypeDir},
		entry{name: "keep/now-a-dir", body: "dir"},
		entry{name: "file-then-dir/", typ: tar.TypeDir},
		entry{name: ".wh.never-existed"},
	)
	l3 := layer(t,
		entry{name: "a/b", body: "b is back as a file"},
	)
	s := openStore(t)
	if _, err := s.write(bg, testImage(t, l1, l2, l3), []Reference{{Repo: "example.com/wh", Tag: "1"}}, nil); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "rootfs")
	if _, err := s.Unpack(bg, "example.com/wh:1", root, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"a": "/", "a/b": "b is back as a file", "a/d": "d",
		"x": "/", "x/new": "new",
		"keep": "/", "keep/now-a-dir": "dir",
		"file-then-dir": "/",
	}
	if got := readTree(t, root); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rootfs = %v\nwant      %v", got, want)
	}
}

// sparseTar is a PAX (1.0) GNU sparse file of a terabyte, nearly all
// hole: 1.5 KB of archive. Go's tar writer cannot write one, so the PAX
// header block is patched in by hand.
func sparseTar(t *testing.T) []byte {
	t.Helper()
	const size = 1 << 40
	record := func(k, v string) string {
		n := len(k) + len(v) + 3
		for len(fmt.Sprintf("%d %s=%s\n", n, k, v)) != n {
			n++
		}
		return fmt.Sprintf("%d %s=%s\n", n, k, v)
	}
	pax := record("GNU.sparse.major", "1") + record("GNU.sparse.minor", "0") +
		record("GNU.sparse.name", "huge") + record("GNU.sparse.realsize", fmt.Sprint(size))
	sparseMap := fmt.Sprintf("1\n%d\n1\n", size-1)
	data := sparseMap + strings.Repeat("\x00", 512-len(sparseMap)) + "x"

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range []struct{ name, body string }{{"PaxHeaders/huge", pax}, {"huge", data}} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e.body)), Format: tar.FormatUSTAR}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.body))
	}
	tw.Close()
	b := buf.Bytes()
	// Turn the first header into a PAX extended header and fix its checksum.
	b[156] = tar.TypeXHeader
	copy(b[148:156], "        ")
	sum := 0
	for _, c := range b[:512] {
		sum += int(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	if hdr, err := tar.NewReader(bytes.NewReader(b)).Next(); err != nil || hdr.Size != size {
		t.Fatalf("sparse fixture reads as %+v, %v; want a %d-byte file", hdr, err, size)
	}
	return b
}

// A directory the tar only implies keeps the mode lower layers gave it and
// is followed through links; one the tar lists replaces a link and takes
// the listed mode, as Docker applies layers.
func TestApplyImplicitAndExplicitDirectories(t *testing.T) {
	t.Parallel()
	lower := layer(t,
		entry{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
		entry{name: "usr/lib/", typ: tar.TypeDir, mode: 0o755},
		entry{name: "lib", typ: tar.TypeSymlink, link: "usr/lib"},
		entry{name: "opt/", typ: tar.TypeDir, mode: 0o700},
		entry{name: "data", typ: tar.TypeSymlink, link: "usr/lib"},
	)
	upper := layer(t,
		entry{name: "tmp/scratch", body: "s"}, // tmp implied
		entry{name: "lib/libz.so", body: "z"}, // lib implied: through the link
		entry{name: "opt/", typ: tar.TypeDir, mode: 0o750},
		entry{name: "data/", typ: tar.TypeDir, mode: 0o711}, // listed: replaces the link
		entry{name: "data/file", body: "d"},
	)
	s := openStore(t)
	if _, err := s.write(bg, testImage(t, lower, upper), []Reference{{Repo: "example.com/dirs", Tag: "1"}}, nil); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "rootfs")
	if _, err := s.Unpack(bg, "example.com/dirs:1", root, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	modes := map[string]os.FileMode{
		"tmp":  os.ModeDir | os.ModeSticky | 0o777,
		"opt":  os.ModeDir | 0o750,
		"data": os.ModeDir | 0o711,
	}
	for p, want := range modes {
		fi, err := os.Lstat(filepath.Join(root, p))
		if err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v, %v; want %v", p, fi.Mode(), err, want)
		}
	}
	tree := readTree(t, root)
	for p, want := range map[string]string{"lib": "-> usr/lib", "usr/lib/libz.so": "z", "data/file": "d", "tmp/scratch": "s"} {
		if tree[p] != want {
			t.Errorf("%s = %q, want %q", p, tree[p], want)
		}
	}
	for p := range tree {
		if strings.Contains(p, whiteoutPrefix) {
			t.Errorf("marker %s copied into the root filesystem", p)
		}
	}
}
