package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// PullOptions configure a pull.
type PullOptions struct {
	// Keychain gives credentials per repository; nil pulls anonymously.
	// Build it with NewKeychain from ParseDockerConfig (imagePullSecrets)
	// and LoadDockerConfig.
	Keychain authn.Keychain
	// Platform picks the image from an index; nil means linux/amd64.
	Platform *v1.Platform
	// Transport carries the requests; nil means go-containerregistry's
	// default transport.
	Transport http.RoundTripper
	// InsecureRegistries are registries (host[:port]) reached over plain
	// HTTP. Loopback registries (localhost, 127.0.0.0/8, ::1) always may be.
	InsecureRegistries []string
	// Progress, when set, is told how each layer advances.
	Progress ProgressFunc
}

// defaultPlatform is the platform pulled from an image index by default.
func defaultPlatform() v1.Platform { return v1.Platform{OS: "linux", Architecture: "amd64"} }

// Pull fetches ref from its registry into the store and returns it.
// Layers already stored are not fetched again; every blob is verified
// against its digest. Concurrent pulls of one reference share one fetch.
func (s *Store) Pull(ctx context.Context, ref string, opts PullOptions) (Image, error) {
	platform := defaultPlatform()
	if opts.Platform != nil {
		platform = *opts.Platform
	}
	v, err := s.flights.do("pull\x00"+ref+"\x00"+platform.String(), func() (any, error) {
		return s.pull(ctx, ref, platform, opts)
	})
	if err != nil {
		return Image{}, &Error{Op: "pull", Ref: ref, Err: err}
	}
	return v.(Image), nil
}

func (s *Store) pull(ctx context.Context, ref string, platform v1.Platform, opts PullOptions) (Image, error) {
	nopts := []name.Option{}
	parsed, err := name.ParseReference(ref)
	if err != nil {
		return Image{}, fmt.Errorf("parsing image reference: %w", err)
	}
	reg := parsed.Context().RegistryStr()
	if slices.Contains(opts.InsecureRegistries, reg) || isLoopbackRegistry(reg) {
		nopts = append(nopts, name.Insecure)
		if parsed, err = name.ParseReference(ref, nopts...); err != nil {
			return Image{}, fmt.Errorf("parsing image reference: %w", err)
		}
	}
	kc := opts.Keychain
	if kc == nil {
		kc = authn.NewMultiKeychain()
	}
	ropts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(kc),
		remote.WithPlatform(platform),
	}
	if opts.Transport != nil {
		ropts = append(ropts, remote.WithTransport(opts.Transport))
	}
	img, err := remote.Image(parsed, ropts...)
	if err != nil {
		return Image{}, describeRemoteError(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return Image{}, describeRemoteError(err)
	}
	if cfg.OS != "" && cfg.OS != platform.OS || cfg.Architecture != "" && cfg.Architecture != platform.Architecture {
		return Image{}, fmt.Errorf("image is for %s/%s, not %s", cfg.OS, cfg.Architecture, platform)
	}
	r := fromName(parsed)
	unlock, err := s.writers()
	if err != nil {
		return Image{}, err
	}
	defer unlock()
	h, err := s.write(ctx, img, []Reference{r}, opts.Progress)
	if err != nil {
		return Image{}, describeRemoteError(err)
	}
	refs, err := s.readRefs()
	if err != nil {
		return Image{}, err
	}
	return s.describe(h, refs)
}

// isLoopbackRegistry reports a registry on this machine.
func isLoopbackRegistry(reg string) bool {
	host := reg
	if h, _, ok := cutPort(reg); ok {
		host = h
	}
	return host == "localhost" || host == "::1" || host == "[::1]" || hasPrefix(host, "127.")
}

func cutPort(hostport string) (string, string, bool) {
	for i := len(hostport) - 1; i >= 0; i-- {
		switch hostport[i] {
		case ':':
			return hostport[:i], hostport[i+1:], true
		case ']':
			return hostport, "", false
		}
	}
	return hostport, "", false
}

// describeRemoteError marks a missing image or repository with ErrNotFound
// and a refused login with a hint.
func describeRemoteError(err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch terr.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%w (check the imagePullSecrets or the Docker config's credentials for this registry)", err)
		}
	}
	return err
}
