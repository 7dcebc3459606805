package image

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// Keychain finds registry credentials for a repository among the entries
// of Docker config files and Kubernetes imagePullSecrets. It matches keys
// as the kubelet does: a key is a registry host (globs like *.example.com
// allowed) with an optional port and repository path prefix; the most
// specific matching key wins, and earlier sources win ties. The empty
// Keychain is anonymous.
type Keychain struct {
	entries []credential
}

var _ authn.Keychain = Keychain{}

// credential is one key of a Docker config file.
type credential struct {
	host   string // lower case, docker.io for Docker Hub; may hold globs
	port   string
	prefix string // repository path prefix, without slashes around it
	auth   authn.AuthConfig
	order  int
}

// dockerAuth is the value of one key of a Docker config file.
type dockerAuth struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// ParseDockerConfig reads credentials from the bytes of a Docker
// config.json, of a Kubernetes Secret's .dockerconfigjson (both
// {"auths": {...}}) or of a legacy .dockercfg (the map alone).
func ParseDockerConfig(data []byte) (Keychain, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return Keychain{}, fmt.Errorf("parsing docker config: %w", err)
	}
	var auths map[string]dockerAuth
	if raw, ok := top["auths"]; ok {
		if err := json.Unmarshal(raw, &auths); err != nil {
			return Keychain{}, fmt.Errorf("parsing docker config \"auths\": %w", err)
		}
	} else if err := json.Unmarshal(data, &auths); err != nil {
		return Keychain{}, fmt.Errorf("parsing docker config: %w", err)
	}
	keys := make([]string, 0, len(auths))
	for k := range auths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var k Keychain
	for _, key := range keys {
		a := auths[key]
		cfg := authn.AuthConfig{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken}
		if a.Auth != "" {
			dec, err := base64.StdEncoding.DecodeString(a.Auth)
			if err != nil {
				return Keychain{}, fmt.Errorf("docker config key %q: decoding \"auth\": %w", key, err)
			}
			user, pass, ok := strings.Cut(string(dec), ":")
			if !ok {
				return Keychain{}, fmt.Errorf("docker config key %q: \"auth\" is not base64 of user:password", key)
			}
			cfg.Username, cfg.Password = user, pass
		}
		c, err := parseCredentialKey(key)
		if err != nil {
			return Keychain{}, err
		}
		c.auth = cfg
		c.order = len(k.entries)
		k.entries = append(k.entries, c)
	}
	return k, nil
}

// LoadDockerConfig reads a Docker config.json; a missing file gives an
// empty Keychain. Credential helpers (credsStore, credHelpers) are not run.
func LoadDockerConfig(file string) (Keychain, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return Keychain{}, nil
	}
	if err != nil {
		return Keychain{}, fmt.Errorf("reading docker config: %w", err)
	}
	k, err := ParseDockerConfig(b)
	if err != nil {
		return Keychain{}, fmt.Errorf("%s: %w", file, err)
	}
	return k, nil
}

// NewKeychain merges keychains; on equally specific keys the earlier one
// wins, so pass imagePullSecrets before the Docker config.
func NewKeychain(ks ...Keychain) Keychain {
	var out Keychain
	for _, k := range ks {
		for _, c := range k.entries {
			c.order = len(out.entries)
			out.entries = append(out.entries, c)
		}
	}
	return out
}

func parseCredentialKey(key string) (credential, error) {
	s := key
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return credential{}, fmt.Errorf("docker config key %q: %w", key, err)
	}
	c := credential{host: strings.ToLower(u.Hostname()), port: u.Port(), prefix: strings.Trim(path.Clean("/"+u.Path), "/")}
	if isDockerHub(c.host) {
		// "https://index.docker.io/v1/" names all of Docker Hub.
		c.host, c.prefix = "docker.io", ""
	}
	return c, nil
}

func isDockerHub(host string) bool {
	return host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io"
}

// Resolve implements authn.Keychain.
func (k Keychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	repo := target.String()
	if r, err := name.NewRepository(repo); err == nil {
		repo = repoName(r)
	} else {
		repo = target.RegistryStr()
	}
	host, rest, _ := strings.Cut(repo, "/")
	hostname, port := host, ""
	if h, p, ok := strings.Cut(host, ":"); ok {
		hostname, port = h, p
	}
	hostname = strings.ToLower(hostname)
	if isDockerHub(hostname) {
		hostname = "docker.io"
	}
	var best *credential
	for i := range k.entries {
		c := &k.entries[i]
		if c.port != port || !hostMatches(c.host, hostname) || !prefixMatches(c.prefix, rest) {
			continue
		}
		if best == nil || len(c.prefix) > len(best.prefix) {
			best = c
		}
	}
	if best == nil {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(best.auth), nil
}

// hostMatches matches a host against a key host label by label, each key
// label a glob.
func hostMatches(pattern, host string) bool {
	pl, hl := strings.Split(pattern, "."), strings.Split(host, ".")
	if len(pl) != len(hl) {
		return false
	}
	for i := range pl {
		if ok, _ := path.Match(pl[i], hl[i]); !ok {
			return false
		}
	}
	return true
}

func prefixMatches(prefix, repo string) bool {
	return prefix == "" || repo == prefix || strings.HasPrefix(repo, prefix+"/")
}
