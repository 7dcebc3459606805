package image

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Reference is an image reference in the normalized form the store keys
// by: "docker.io/library/nginx:latest", "localhost:5000/app@sha256:...".
type Reference struct {
	Repo   string // registry and repository: "docker.io/library/nginx"
	Tag    string // "latest"; empty for a reference by digest
	Digest string // "sha256:..."; empty for a reference by tag
}

// ParseReference parses a reference as Docker and Kubernetes write it: a
// missing registry means docker.io, a missing tag "latest".
func ParseReference(s string) (Reference, error) {
	r, err := name.ParseReference(s)
	if err != nil {
		return Reference{}, fmt.Errorf("parsing image reference %q: %w", s, err)
	}
	return fromName(r), nil
}

func fromName(r name.Reference) Reference {
	ref := Reference{Repo: repoName(r.Context())}
	switch v := r.(type) {
	case name.Tag:
		ref.Tag = v.TagStr()
	case name.Digest:
		ref.Digest = v.DigestStr()
	}
	return ref
}

// repoName spells a repository as containerd and crictl do: docker.io
// rather than index.docker.io.
func repoName(r name.Repository) string {
	reg := r.RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	return reg + "/" + r.RepositoryStr()
}

// String returns the normalized reference.
func (r Reference) String() string {
	if r.Digest != "" {
		return r.Repo + "@" + r.Digest
	}
	return r.Repo + ":" + r.Tag
}

// WithDigest returns the reference to digest d in the same repository.
func (r Reference) WithDigest(d string) Reference {
	return Reference{Repo: r.Repo, Digest: d}
}

// registryHost returns the registry part of a normalized repository.
func registryHost(repo string) string {
	host, _, _ := strings.Cut(repo, "/")
	return host
}
