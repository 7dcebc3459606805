package release

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// MemoryDriver keeps records in memory, per namespace, for tests and for
// HELM_DRIVER=memory.
type MemoryDriver struct {
	mu        sync.RWMutex
	namespace string
	records   map[string]map[string]*memRecord // namespace → key → record
}

type memRecord struct {
	body   string
	labels map[string]string
}

var _ Driver = (*MemoryDriver)(nil)

// NewMemoryDriver returns an empty driver working in namespace ("" lists
// every namespace).
func NewMemoryDriver(namespace string) *MemoryDriver {
	return &MemoryDriver{namespace: namespace, records: map[string]map[string]*memRecord{}}
}

// InNamespace returns a driver over the same records working in another
// namespace.
func (m *MemoryDriver) InNamespace(ns string) *MemoryDriver {
	m.mu.Lock()
	defer m.mu.Unlock()
	return &MemoryDriver{namespace: ns, records: m.records}
}

// Name returns "memory".
func (m *MemoryDriver) Name() string { return "memory" }

// Get reads one record.
func (m *MemoryDriver) Get(_ context.Context, key string) (*Release, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for ns, recs := range m.records {
		if m.namespace != "" && ns != m.namespace {
			continue
		}
		if rec, ok := recs[key]; ok {
			return m.decode(rec)
		}
	}
	return nil, fmt.Errorf("memory %s: %w", key, ErrNotFound)
}

func (m *MemoryDriver) decode(rec *memRecord) (*Release, error) {
	r, err := Decode(rec.body)
	if err != nil {
		return nil, err
	}
	r.Labels = userLabels(rec.labels)
	return r, nil
}

// List reads every record filter accepts, in key order.
func (m *MemoryDriver) List(_ context.Context, filter func(*Release) bool) ([]*Release, error) {
	return m.find(nil, filter)
}

// Query reads the records whose labels match.
func (m *MemoryDriver) Query(_ context.Context, match map[string]string) ([]*Release, error) {
	out, err := m.find(match, nil)
	if err == nil && len(out) == 0 {
		return nil, ErrNotFound
	}
	return out, err
}

func (m *MemoryDriver) find(match map[string]string, filter func(*Release) bool) ([]*Release, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var keys [][2]string
	for ns, recs := range m.records {
		if m.namespace != "" && ns != m.namespace {
			continue
		}
		for k := range recs {
			keys = append(keys, [2]string{ns, k})
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	var out []*Release
next:
	for _, k := range keys {
		rec := m.records[k[0]][k[1]]
		for mk, mv := range match {
			if rec.labels[mk] != mv {
				continue next
			}
		}
		r, err := m.decode(rec)
		if err != nil {
			return nil, err
		}
		if filter == nil || filter(r) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *MemoryDriver) put(key string, r *Release, create bool) error {
	ns := r.Namespace
	if ns == "" {
		ns = m.namespace
	}
	body, err := Encode(r)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	recs := m.records[ns]
	if recs == nil {
		recs = map[string]*memRecord{}
		m.records[ns] = recs
	}
	_, exists := recs[key]
	switch {
	case create && exists:
		return fmt.Errorf("memory %s: %w", key, ErrExists)
	case !create && !exists:
		return fmt.Errorf("memory %s: %w", key, ErrNotFound)
	}
	recs[key] = &memRecord{body: body, labels: storageLabels(r, "", "")}
	return nil
}

// Create writes a new record.
func (m *MemoryDriver) Create(_ context.Context, key string, r *Release) error {
	return m.put(key, r, true)
}

// Update overwrites a record.
func (m *MemoryDriver) Update(_ context.Context, key string, r *Release) error {
	return m.put(key, r, false)
}

// Delete removes a record.
func (m *MemoryDriver) Delete(ctx context.Context, key string) (*Release, error) {
	r, err := m.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for ns, recs := range m.records {
		if m.namespace != "" && ns != m.namespace {
			continue
		}
		delete(recs, key)
	}
	return r, nil
}
