package apiserver

import (
	"context"
	"encoding/json"
	"strings"

	"pkg.dev/pkg/orchestrator/store"
)

// gcEntry is what the collector's index keeps of one stored object.
type gcEntry struct {
	res       *Resource
	rank      int // the place of res in Server.allResources
	uid       string
	ns, name  string
	owners    []string // uids of its ownerReferences
	deleting  bool
	namespace bool // the object is a Namespace
}

// gcMeta is the part of a stored object the index reads.
type gcMeta struct {
	Metadata struct {
		UID               string `json:"uid"`
		Namespace         string `json:"namespace"`
		Name              string `json:"name"`
		DeletionTimestamp any    `json:"deletionTimestamp"`
		OwnerReferences   []struct {
			UID string `json:"uid"`
		} `json:"ownerReferences"`
	} `json:"metadata"`
}

// keySet is a set of storage keys.
type keySet = map[string]struct{}

// gcIndex is the collector's view of the store, kept from a list and then
// a watch: objects by key, keys by uid, dependents by owner uid and
// namespaced objects by namespace. Only the collector goroutine uses it.
type gcIndex struct {
	objs   map[string]*gcEntry
	byUID  map[string]string
	deps   map[string]keySet
	byNS   map[string]keySet
	rev    int64 // the revision of the list it was built from
	plural map[string]*Resource
	rank   map[*Resource]int
	nres   int
}

// newGCIndex returns an empty index.
func newGCIndex() *gcIndex {
	return &gcIndex{objs: map[string]*gcEntry{}, byUID: map[string]string{}, deps: map[string]keySet{}, byNS: map[string]keySet{}}
}

// resolve finds the resource, namespace and name a storage key belongs
// to; ok is false for keys that hold no served object.
func (x *gcIndex) resolve(s *Server, key string) (res *Resource, ns, name string, ok bool) {
	rest, found := strings.CutPrefix(key, "/registry/")
	if !found {
		return nil, "", "", false
	}
	parts := strings.Split(rest, "/")
	for attempt := range 2 {
		if attempt == 1 {
			all := s.allResources()
			if len(all) == x.nres && x.plural != nil {
				break
			}
			x.plural = make(map[string]*Resource, len(all))
			x.rank = make(map[*Resource]int, len(all))
			x.nres = len(all)
			for i := range all {
				r := &all[i]
				if r.storedElsewhere() {
					// Its objects belong to the storage version.
					continue
				}
				x.plural[strings.TrimSuffix(r.keyPrefix(""), "/")] = r
				x.rank[r] = i
			}
		}
		for n := 2; n >= 1; n-- {
			if len(parts) <= n {
				continue
			}
			r := x.plural["/registry/"+strings.Join(parts[:n], "/")]
			if r == nil {
				continue
			}
			tail := parts[n:]
			switch {
			case r.Namespaced && len(tail) == 2:
				return r, tail[0], tail[1], true
			case !r.Namespaced && len(tail) == 1:
				return r, "", tail[0], true
			}
		}
	}
	return nil, "", "", false
}

// entry reads the index entry of a stored object.
func (x *gcIndex) entry(s *Server, kv store.KV) *gcEntry {
	res, ns, name, ok := x.resolve(s, kv.Key)
	if !ok {
		return nil
	}
	e := &gcEntry{res: res, rank: x.rank[res], ns: ns, name: name, namespace: isNamespaces(res)}
	var m gcMeta
	if err := json.Unmarshal(kv.Value, &m); err == nil {
		e.uid = m.Metadata.UID
		e.deleting = m.Metadata.DeletionTimestamp != nil && m.Metadata.DeletionTimestamp != ""
		for _, r := range m.Metadata.OwnerReferences {
			e.owners = append(e.owners, r.UID)
		}
	}
	return e
}

// put records e under key, replacing what was there.
func (x *gcIndex) put(key string, e *gcEntry) {
	x.remove(key)
	x.objs[key] = e
	if e.uid != "" {
		x.byUID[e.uid] = key
	}
	for _, u := range e.owners {
		addKey(x.deps, u, key)
	}
	if e.ns != "" {
		addKey(x.byNS, e.ns, key)
	}
}

// remove forgets key and returns what was recorded for it.
func (x *gcIndex) remove(key string) *gcEntry {
	e := x.objs[key]
	if e == nil {
		return nil
	}
	delete(x.objs, key)
	if x.byUID[e.uid] == key {
		delete(x.byUID, e.uid)
	}
	for _, u := range e.owners {
		dropKey(x.deps, u, key)
	}
	if e.ns != "" {
		dropKey(x.byNS, e.ns, key)
	}
	return e
}

// has reports whether an object with uid is in the index.
func (x *gcIndex) has(uid string) bool {
	_, ok := x.byUID[uid]
	return ok
}

// addKey adds key to the set m[k].
func addKey(m map[string]keySet, k, key string) {
	set := m[k]
	if set == nil {
		set = keySet{}
		m[k] = set
	}
	set[key] = struct{}{}
}

// dropKey removes key from the set m[k].
func dropKey(m map[string]keySet, k, key string) {
	if set := m[k]; set != nil {
		delete(set, key)
		if len(set) == 0 {
			delete(m, k)
		}
	}
}

// buildGCIndex lists the whole store into a new index.
func (s *Server) buildGCIndex(ctx context.Context) (*gcIndex, error) {
	x := newGCIndex()
	var opts store.ListOptions
	for {
		page, err := s.cfg.Store.List(ctx, "/registry/", opts)
		if err != nil {
			return nil, err
		}
		if x.rev == 0 {
			x.rev = page.Rev
		}
		for _, kv := range page.Items {
			if e := x.entry(s, kv); e != nil {
				x.put(kv.Key, e)
			}
		}
		if page.Continue == "" {
			return x, nil
		}
		opts.Continue = page.Continue
	}
}
