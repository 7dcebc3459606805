package repo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Entry is one repository of the repositories file, with Helm's keys.
type Entry struct {
	Name                  string `json:"name"`
	URL                   string `json:"url"`
	Username              string `json:"username"`
	Password              string `json:"password"`
	CertFile              string `json:"certFile"`
	KeyFile               string `json:"keyFile"`
	CAFile                string `json:"caFile"`
	InsecureSkipTLSVerify bool   `json:"insecure_skip_tls_verify"`
	// PassCredentials sends the username and password to every host a
	// download is redirected or pointed to, not only the repository's.
	PassCredentials bool `json:"pass_credentials_all"`
}

// File is the repositories file (repositories.yaml).
type File struct {
	APIVersion   string    `json:"apiVersion"`
	Generated    time.Time `json:"generated"`
	Repositories []*Entry  `json:"repositories"`
}

// NewFile returns an empty repositories file.
func NewFile(now time.Time) *File {
	return &File{APIVersion: APIVersionV1, Generated: now, Repositories: []*Entry{}}
}

// LoadFile reads a repositories file. A missing file is an error that
// satisfies errors.Is(err, fs.ErrNotExist), returned with an empty File
// so callers that treat "missing" as "empty" can carry on.
func LoadFile(path string) (*File, error) {
	f := &File{}
	b, err := os.ReadFile(path)
	if err != nil {
		return f, &Error{Op: OpLoadRepoFile, URL: path, Err: err}
	}
	if err := yaml.Unmarshal(b, f); err != nil {
		return f, &Error{Op: OpLoadRepoFile, URL: path, Err: err}
	}
	return f, nil
}

// LoadFileOrEmpty reads a repositories file, treating a missing one as
// empty.
func LoadFileOrEmpty(path string) (*File, error) {
	f, err := LoadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	return f, err
}

// Get returns the repository called name, or nil.
func (f *File) Get(name string) *Entry {
	for _, e := range f.Repositories {
		if e != nil && e.Name == name {
			return e
		}
	}
	return nil
}

// Has reports whether a repository called name is configured.
func (f *File) Has(name string) bool { return f.Get(name) != nil }

// Update replaces the repository of the same name, or appends e.
func (f *File) Update(e *Entry) {
	for i, r := range f.Repositories {
		if r != nil && r.Name == e.Name {
			f.Repositories[i] = e
			return
		}
	}
	f.Repositories = append(f.Repositories, e)
}

// Remove deletes the repository called name (and any null entries) and
// reports whether it was there.
func (f *File) Remove(name string) bool {
	kept := f.Repositories[:0:0]
	found := false
	for _, r := range f.Repositories {
		switch {
		case r == nil:
		case r.Name == name:
			found = true
		default:
			kept = append(kept, r)
		}
	}
	f.Repositories = kept
	return found
}

// WriteFile writes the repositories file atomically with mode perm (Helm
// uses 0600: it may hold passwords), creating its directory if needed.
func (f *File) WriteFile(path string, perm fs.FileMode) error {
	b, err := yaml.Marshal(f)
	if err != nil {
		return &Error{Op: OpWriteRepoFile, URL: path, Err: err}
	}
	if err := writeFileAtomic(path, b, perm); err != nil {
		return &Error{Op: OpWriteRepoFile, URL: path, Err: err}
	}
	return nil
}

// CheckName reports whether name can be a repository name: not empty and
// without "/", which separates the repository from the chart in
// references.
func CheckName(name string) error {
	if strings.Contains(name, "/") {
		return nameError(fmt.Sprintf("repository name (%s) contains '/', please specify a different name without '/'", name))
	}
	if name == "" {
		return nameError("repository name is empty")
	}
	return nil
}

// nameError is an invalid repository name, worded as Helm words it.
type nameError string

func (e nameError) Error() string { return string(e) }
func (e nameError) Unwrap() error { return ErrInvalidName }
