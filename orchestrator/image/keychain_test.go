package image

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

func TestKeychainResolve(t *testing.T) {
	t.Parallel()
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	config := `{"auths": {
		"https://index.docker.io/v1/": {"auth": "` + b64("hub:hubpw") + `"},
		"registry.example.com": {"username": "plain", "password": "pw"},
		"registry.example.com/team": {"username": "team", "password": "pw"},
		"*.corp.example": {"username": "glob", "password": "pw"},
		"localhost:5000": {"identitytoken": "tok"}
	}}`
	legacy := `{"legacy.example": {"auth": "` + b64("old:pw") + `", "email": "x@y"}}`
	k1, err := ParseDockerConfig([]byte(config))
	if err != nil {
		t.Fatal(err)
	}
	k2, err := ParseDockerConfig([]byte(legacy))
	if err != nil {
		t.Fatal(err)
	}
	k := NewKeychain(k2, k1)
	tests := []struct{ repo, user string }{
		{"nginx", "hub"},
		{"index.docker.io/library/nginx", "hub"},
		{"registry.example.com/other/app", "plain"},
		{"registry.example.com/team/app", "team"},
		{"registry.example.com/teamster/app", "plain"},
		{"a.corp.example/app", "glob"},
		{"a.b.corp.example/app", ""},
		{"legacy.example/app", "old"},
		{"localhost:5000/app", ""}, // identity token, no user
		{"localhost:5001/app", ""},
		{"elsewhere.example/app", ""},
	}
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			r, err := name.NewRepository(tt.repo)
			if err != nil {
				t.Fatal(err)
			}
			a, err := k.Resolve(r)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := a.Authorization()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Username != tt.user {
				t.Errorf("user = %q, want %q", cfg.Username, tt.user)
			}
		})
	}
	r, _ := name.NewRepository("localhost:5000/app")
	a, _ := k.Resolve(r)
	if cfg, _ := a.Authorization(); cfg.IdentityToken != "tok" {
		t.Errorf("identity token = %q", cfg.IdentityToken)
	}
	if a, _ := (Keychain{}).Resolve(r); a != authn.Anonymous {
		t.Error("empty keychain is not anonymous")
	}
}

func TestDockerConfigErrors(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`not json`:                                   "parsing docker config",
		`{"auths": {"r": {"auth": "%%%"}}}`:          "decoding",
		`{"auths": {"r": {"auth": "bm9jb2xvbg=="}}}`: "not base64 of user:password",
	} {
		if _, err := ParseDockerConfig([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDockerConfig(%s) = %v, want %q", in, err, want)
		}
	}
	k, err := LoadDockerConfig(filepath.Join(t.TempDir(), "missing.json"))
	if err != nil || len(k.entries) != 0 {
		t.Errorf("missing file: %v, %v", k, err)
	}
	bad := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(bad, []byte("{"), 0o600)
	if _, err := LoadDockerConfig(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad file: %v, want the path in the error", err)
	}
}
