package image

import (
	"archive/tar"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestPullAndUnpack(t *testing.T) {
	t.Parallel()
	host := startRegistry(t, nil)
	base := layer(t,
		entry{name: "bin/", typ: tar.TypeDir},
		entry{name: "bin/app", body: "#!app", mode: 0o755},
		entry{name: "etc/", typ: tar.TypeDir},
		entry{name: "etc/hostname", body: "base"},
		entry{name: "etc/gone", body: "x"},
		entry{name: "var/cache/", typ: tar.TypeDir},
		entry{name: "var/cache/a", body: "a"},
	)
	top := layer(t,
		entry{name: "etc/", typ: tar.TypeDir},
		entry{name: "etc/hostname", body: "top"},
		entry{name: "etc/.wh.gone"},
		entry{name: "var/cache/", typ: tar.TypeDir},
		entry{name: "var/cache/.wh..wh..opq"},
		entry{name: "var/cache/b", body: "b"},
	)
	img := testImage(t, base, top)
	ref := host + "/team/app:v1"
	push(t, ref, img)

	s := openStore(t)
	var mu sync.Mutex
	final := map[string]Progress{}
	got, err := s.Pull(bg, ref, PullOptions{Progress: func(p Progress) {
		mu.Lock()
		final[p.Layer] = p
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	if got.Digest != want.String() {
		t.Errorf("digest = %s, want %s", got.Digest, want)
	}
	cfgName, _ := img.ConfigName()
	if got.ID != cfgName.String() {
		t.Errorf("ID = %s, want %s", got.ID, cfgName)
	}
	if len(got.Layers) != 2 || len(final) != 2 {
		t.Fatalf("layers = %d, progress reports for %d layers, want 2 and 2", len(got.Layers), len(final))
	}
	for d, p := range final {
		if p.Done != p.Total || p.Total == 0 || p.Cached {
			t.Errorf("last progress for %s = %+v, want done == total, not cached", d, p)
		}
	}
	if want := []string{ref}; fmt.Sprint(got.RepoTags) != fmt.Sprint(want) {
		t.Errorf("RepoTags = %v, want %v", got.RepoTags, want)
	}
	if len(got.RepoDigests) != 1 || !strings.HasSuffix(got.RepoDigests[0], "@"+want.String()) {
		t.Errorf("RepoDigests = %v", got.RepoDigests)
	}
	if got.Config.Entrypoint[0] != "/bin/app" || got.OS != "linux" {
		t.Errorf("config = %+v", got.Config)
	}

	rootfs := filepath.Join(t.TempDir(), "rootfs")
	if _, err := s.Unpack(bg, ref, rootfs, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	tree := readTree(t, rootfs)
	wantTree := map[string]string{
		"bin": "/", "bin/app": "#!app", "etc": "/", "etc/hostname": "top",
		"var": "/", "var/cache": "/", "var/cache/b": "b",
	}
	if fmt.Sprint(tree) != fmt.Sprint(wantTree) {
		t.Errorf("rootfs = %v\nwant      %v", tree, wantTree)
	}

	// A second pull finds every layer cached; by digest works too.
	var cached atomic.Int32
	if _, err := s.Pull(bg, host+"/team/app@"+want.String(), PullOptions{Progress: func(p Progress) {
		if p.Cached {
			cached.Add(1)
		}
	}}); err != nil {
		t.Fatal(err)
	}
	if cached.Load() != 2 {
		t.Errorf("cached layer reports = %d, want 2", cached.Load())
	}
	// A second container of the image reuses the unpacked layers.
	if _, err := s.Unpack(bg, ref, filepath.Join(t.TempDir(), "rootfs2"), UnpackOptions{Hardlink: true}); err != nil {
		t.Fatal(err)
	}
}

func TestPullErrors(t *testing.T) {
	t.Parallel()
	host := startRegistry(t, nil)
	s := openStore(t)
	_, err := s.Pull(bg, host+"/nothing/here:v1", PullOptions{})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing image: err = %v, want ErrNotFound", err)
	}
	var ie *Error
	if !errors.As(err, &ie) || ie.Op != "pull" {
		t.Errorf("missing image: err = %#v, want *Error with Op pull", err)
	}
	if _, err := s.Pull(bg, "UPPER/case::bad", PullOptions{}); err == nil {
		t.Error("bad reference: no error")
	}
}

func TestPullPicksPlatformFromIndex(t *testing.T) {
	t.Parallel()
	host := startRegistry(t, nil)
	amd := testImage(t, layer(t, entry{name: "arch", body: "amd64"}))
	arm := testImage(t, layer(t, entry{name: "arch", body: "arm64"}))
	cf, _ := arm.ConfigFile()
	cf = cf.DeepCopy()
	cf.Architecture = "arm64"
	arm, _ = mutate.ConfigFile(arm, cf)
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
	)
	ref := host + "/multi:1"
	r, _ := parseName(ref)
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	got, err := s.Pull(bg, ref, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := amd.Digest()
	if got.Digest != want.String() || got.Architecture != "amd64" {
		t.Errorf("pulled %s (%s), want the amd64 image %s", got.Digest, got.Architecture, want)
	}
}

// basicAuth lets through only requests with the given user and password.
func basicAuth(user, pass string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func TestPullWithPullSecret(t *testing.T) {
	t.Parallel()
	host := startRegistry(t, basicAuth("robot", "s3cret"))
	img := testImage(t, layer(t, entry{name: "f", body: "private"}))
	ref := host + "/private/app:1"
	push(t, ref, img, remote.WithAuth(&authn.Basic{Username: "robot", Password: "s3cret"}))

	secret := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, "http://"+host, base64.StdEncoding.EncodeToString([]byte("robot:s3cret")))
	wrong := fmt.Sprintf(`{"auths":{%q:{"username":"robot","password":"nope"}}}`, host)
	tests := []struct {
		name    string
		configs []string
		wantErr bool
	}{
		{"anonymous", nil, true},
		{"pull secret", []string{secret}, false},
		{"wrong password", []string{wrong}, true},
		{"secret before docker config", []string{secret, wrong}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var ks []Keychain
			for _, c := range tt.configs {
				k, err := ParseDockerConfig([]byte(c))
				if err != nil {
					t.Fatal(err)
				}
				ks = append(ks, k)
			}
			_, err := openStore(t).Pull(bg, ref, PullOptions{Keychain: NewKeychain(ks...)})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "imagePullSecrets") {
				t.Errorf("error %q gives no hint about credentials", err)
			}
		})
	}
}

func TestConcurrentPulls(t *testing.T) {
	t.Parallel()
	var blobGets atomic.Int32
	host := startRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
				blobGets.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	})
	img := testImage(t,
		layer(t, entry{name: "a", body: strings.Repeat("a", 1<<20)}),
		layer(t, entry{name: "b", body: strings.Repeat("b", 1<<20)}),
	)
	ref := host + "/busy:1"
	push(t, ref, img)
	blobGets.Store(0)

	dir := filepath.Join(t.TempDir(), "images")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	other, err := Open(dir) // a second agent sharing the directory
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := s
			if i%5 == 0 {
				st = other
			}
			if _, err := st.Pull(bg, ref, PullOptions{}); err != nil {
				errs <- err
				return
			}
			if _, err := st.Unpack(bg, ref, filepath.Join(t.TempDir(), "rootfs"), UnpackOptions{}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Two stores, each fetching at most config + 2 layers once.
	if n := blobGets.Load(); n > 6 {
		t.Errorf("registry served %d blob GETs for 10 pulls, want at most 6", n)
	}
	list, err := s.List(bg)
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v; want one image", list, err)
	}
}

// A registry that serves a layer whose content does not match its digest
// fails the pull and leaves nothing behind.
func TestPullRefusesCorruptLayer(t *testing.T) {
	t.Parallel()
	good := layer(t, entry{name: "f", body: "good"})
	bad, _ := good.Digest()
	host := startRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+bad.String()) {
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				body := rec.Body.Bytes()
				body[len(body)/2] ^= 0xff
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				w.Write(body)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	ref := host + "/corrupt:1"
	push(t, ref, testImage(t, good))
	s := openStore(t)
	if _, err := s.Pull(bg, ref, PullOptions{}); err == nil {
		t.Fatal("pulling a corrupt layer: no error")
	} else if !strings.Contains(err.Error(), bad.String()) {
		t.Errorf("error %q does not name the layer", err)
	}
	for _, d := range []string{"blobs/sha256", "tmp"} {
		if e, _ := os.ReadDir(filepath.Join(s.Dir(), d)); len(e) != 0 {
			t.Errorf("%s holds %d entries after a failed pull", d, len(e))
		}
	}
	if list, _ := s.List(bg); len(list) != 0 {
		t.Errorf("List after a failed pull = %v", list)
	}
}

// GC removes what an interrupted write left in tmp/.
func TestGCRemovesLeftovers(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	os.WriteFile(filepath.Join(s.Dir(), "tmp", "blob-123"), []byte("half"), 0o600)
	os.MkdirAll(filepath.Join(s.Dir(), "tmp", "layer-1", "ro"), 0o500)
	if err := s.GC(bg); err != nil {
		t.Fatal(err)
	}
	if e, _ := os.ReadDir(filepath.Join(s.Dir(), "tmp")); len(e) != 0 {
		t.Errorf("tmp holds %v after GC", e)
	}
}

// Pulls, unpacks and removals running at once, through two Stores on one
// directory, never leave an image half there.
func TestPullsRacingRemovals(t *testing.T) {
	t.Parallel()
	host := startRegistry(t, nil)
	var refs []string
	for i := range 4 {
		ref := fmt.Sprintf("%s/race/app%d:1", host, i)
		push(t, ref, testImage(t,
			layer(t, entry{name: "shared", body: "base"}),
			layer(t, entry{name: "own", body: ref}),
		))
		refs = append(refs, ref)
	}
	dir := filepath.Join(t.TempDir(), "images")
	a, _ := Open(dir)
	b, _ := Open(dir)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := a
			if i%2 == 1 {
				st = b
			}
			for range 5 {
				if _, err := st.Pull(bg, ref, PullOptions{}); err != nil {
					errs <- err
					return
				}
				root := filepath.Join(t.TempDir(), "rootfs")
				if _, err := st.Unpack(bg, ref, root, UnpackOptions{}); err != nil {
					errs <- fmt.Errorf("unpack: %w", err)
					return
				}
				if tree := readTree(t, root); tree["own"] != ref || tree["shared"] != "base" {
					errs <- fmt.Errorf("rootfs of %s = %v", ref, tree)
					return
				}
				if _, err := st.Remove(bg, ref); err != nil {
					errs <- fmt.Errorf("remove: %w", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
