package release

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// Storage keeps the history of releases over a Driver: revisions by
// number, the deployed one, and pruning to a maximum history.
type Storage struct {
	Driver Driver
	// MaxHistory is how many revisions Create keeps per release (0: all).
	// The deployed revision is never pruned.
	MaxHistory int
}

// NewStorage returns a Storage over d.
func NewStorage(d Driver) *Storage { return &Storage{Driver: d} }

// Get reads one revision.
func (s *Storage) Get(ctx context.Context, name string, version int) (*Release, error) {
	r, err := s.Driver.Get(ctx, Key(name, version))
	if errors.Is(err, ErrNotFound) {
		// Helm's message, which scripts match: "release: not found".
		return nil, ErrNotFound
	}
	return r, err
}

// Create writes a new revision, first pruning the oldest revisions so that
// at most MaxHistory remain with the new one.
func (s *Storage) Create(ctx context.Context, r *Release) error {
	if s.MaxHistory > 0 {
		h, err := s.History(ctx, r.Name)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return s.CreateAfter(ctx, r, h)
	}
	return s.Driver.Create(ctx, Key(r.Name, r.Version), r)
}

// CreateAfter is Create for a caller that has just read the release's
// history h (oldest first) under the release's lock: it prunes from h
// instead of reading the history again.
func (s *Storage) CreateAfter(ctx context.Context, r *Release, h []*Release) error {
	if s.MaxHistory > 0 {
		if err := s.prune(ctx, h, s.MaxHistory-1); err != nil {
			return err
		}
	}
	return s.Driver.Create(ctx, Key(r.Name, r.Version), r)
}

// Update overwrites a revision.
func (s *Storage) Update(ctx context.Context, r *Release) error {
	return s.Driver.Update(ctx, Key(r.Name, r.Version), r)
}

// Delete removes a revision.
func (s *Storage) Delete(ctx context.Context, name string, version int) (*Release, error) {
	return s.Driver.Delete(ctx, Key(name, version))
}

// remover is implemented by drivers that can delete a record without
// reading it first.
type remover interface {
	remove(ctx context.Context, key string) error
}

// remove deletes a revision without returning it.
func (s *Storage) remove(ctx context.Context, name string, version int) error {
	if rm, ok := s.Driver.(remover); ok {
		return rm.remove(ctx, Key(name, version))
	}
	_, err := s.Driver.Delete(ctx, Key(name, version))
	return err
}

// History returns every revision of a release, oldest first; ErrNotFound
// when there is none.
func (s *Storage) History(ctx context.Context, name string) ([]*Release, error) {
	rs, err := s.Driver.Query(ctx, map[string]string{"name": name, "owner": "helm"})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	SortByRevision(rs)
	return rs, nil
}

// lastReader is implemented by drivers that can read the newest revision
// without decoding the others.
type lastReader interface {
	last(ctx context.Context, name string) (*Release, error)
}

// Last returns the newest revision of a release, whatever its status.
func (s *Storage) Last(ctx context.Context, name string) (*Release, error) {
	if lr, ok := s.Driver.(lastReader); ok {
		return lr.last(ctx, name)
	}
	h, err := s.History(ctx, name)
	if err != nil {
		return nil, err
	}
	return h[len(h)-1], nil
}

// Deployed returns the newest deployed revision; ErrNoDeployed if none.
func (s *Storage) Deployed(ctx context.Context, name string) (*Release, error) {
	rs, err := s.Driver.Query(ctx, map[string]string{"name": name, "owner": "helm", "status": StatusDeployed.String()})
	if err != nil || len(rs) == 0 {
		if err == nil || errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%q %w", name, ErrNoDeployed)
		}
		return nil, err
	}
	SortByRevision(rs)
	return rs[len(rs)-1], nil
}

// prune deletes the oldest revisions of h until at most keep remain,
// never deleting the newest deployed one.
func (s *Storage) prune(ctx context.Context, h []*Release, keep int) error {
	if len(h) <= keep {
		return nil
	}
	deployed := -1
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Info != nil && h[i].Info.Status == StatusDeployed {
			deployed = h[i].Version
			break
		}
	}
	excess := len(h) - keep
	for _, r := range h {
		if excess == 0 {
			break
		}
		if r.Version == deployed {
			continue
		}
		if err := s.remove(ctx, r.Name, r.Version); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("pruning revision %d of %q: %w", r.Version, r.Name, err)
		}
		excess--
	}
	return nil
}

// lastDeployed returns the newest deployed revision of h, or nil.
func lastDeployed(h []*Release) *Release {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Info != nil && h[i].Info.Status == StatusDeployed {
			return h[i]
		}
	}
	return nil
}

// SortByRevision orders revisions oldest first.
func SortByRevision(rs []*Release) {
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Version < rs[j].Version })
}
