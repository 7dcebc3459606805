package apiserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"pkg.dev/pkg/orchestrator/store"
)

// gcSettle is how long the collector lets a burst of writes settle before
// it acts on them.
const gcSettle = 20 * time.Millisecond

// DefaultGCResyncPeriod is how often the collector re-reads the whole
// store when Config.GCResyncPeriod is 0.
const DefaultGCResyncPeriod = 5 * time.Minute

// collector is the garbage collector and namespace controller: a
// goroutine that keeps an index of the store from a watch and, after each
// burst of changes, carries on the deletions kube-controller-manager
// would for the objects the changes concern.
type collector struct {
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// prepareControllers sets up the Service allocator from the stored
// Services, before anything is created.
func (s *Server) prepareControllers(ctx context.Context) error {
	cidr := s.cfg.ServiceCIDR
	if cidr == "" {
		cidr = DefaultServiceCIDR
	}
	a, err := newServiceAllocator(cidr)
	if err != nil {
		return err
	}
	s.alloc = a
	return s.rebuildAllocations(ctx)
}

// startControllers creates the kubernetes Service and starts the
// collector, which runs until ctx is done, the store closes or Close is
// called.
func (s *Server) startControllers(ctx context.Context) error {
	if err := s.bootstrapKubernetesService(ctx); err != nil {
		return err
	}
	r := &gcRun{s: s, dirty: keySet{}}
	if err := r.rebuild(ctx); err != nil {
		return err
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, cancel)
	s.gc = &collector{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.gc.done)
		defer stop()
		r.run(cctx)
	}()
	return nil
}

// Close stops the collector and waits for it. The Server keeps serving
// requests; deletions that wait on the collector no longer progress.
func (s *Server) Close() error {
	if s.gc == nil {
		return nil
	}
	s.gc.once.Do(s.gc.cancel)
	<-s.gc.done
	return nil
}

// gcRun is the state of the collector goroutine: the index, the watch
// that keeps it, and the keys waiting to be looked at.
type gcRun struct {
	s          *Server
	x          *gcIndex
	w          *store.Watcher
	dirty      keySet
	kubernetes bool // the kubernetes Service may have to be put back
}

// rebuild lists the store into a new index, watches from the list's
// revision and marks every object that may have work pending.
func (r *gcRun) rebuild(ctx context.Context) error {
	x, err := r.s.buildGCIndex(ctx)
	if err != nil {
		return err
	}
	w, err := r.s.cfg.Store.Watch(ctx, "/registry/", x.rev)
	if err != nil {
		return err
	}
	if r.w != nil {
		r.w.Stop()
	}
	r.x, r.w = x, w
	for key, e := range x.objs {
		if e.deleting || len(e.owners) > 0 {
			r.dirty[key] = struct{}{}
		}
	}
	r.kubernetes = true
	return nil
}

// run applies watch events to the index and, once a burst has settled,
// looks at the objects they concern; it re-reads everything every resync
// period and whenever the watch ends.
func (r *gcRun) run(ctx context.Context) {
	defer func() { r.w.Stop() }()
	period := r.s.cfg.GCResyncPeriod
	if period <= 0 {
		period = DefaultGCResyncPeriod
	}
	resync := time.NewTicker(period)
	defer resync.Stop()
	timer := time.NewTimer(0)
	defer timer.Stop()
	armed := true
	arm := func(d time.Duration) {
		if !armed && (len(r.dirty) > 0 || r.kubernetes) {
			armed = true
			timer.Reset(d)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-r.w.Events():
			if ok && ev.Type != store.EventError {
				r.apply(ev)
				arm(gcSettle)
				continue
			}
			if ok {
				r.s.log.Warn("garbage collector watch ended", "err", ev.Err)
				if errors.Is(ev.Err, store.ErrClosed) {
					return
				}
			}
			if !r.relist(ctx) {
				return
			}
			arm(gcSettle)
		case <-resync.C:
			if !r.relist(ctx) {
				return
			}
			arm(gcSettle)
		case <-timer.C:
			armed = false
			err := r.work(ctx)
			if err != nil && ctx.Err() == nil {
				if errors.Is(err, store.ErrClosed) {
					return
				}
				r.s.log.Warn("garbage collection", "err", err)
				arm(time.Second)
			}
		}
	}
}

// relist rebuilds the index, retrying until it succeeds; it returns false
// when the collector should stop.
func (r *gcRun) relist(ctx context.Context) bool {
	pause := 10 * time.Millisecond
	for {
		err := r.rebuild(ctx)
		if err == nil {
			return true
		}
		if ctx.Err() != nil || errors.Is(err, store.ErrClosed) {
			return false
		}
		r.s.log.Warn("garbage collector relist", "err", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// mark queues key to be looked at.
func (r *gcRun) mark(key string) { r.dirty[key] = struct{}{} }

// markUID queues the object with uid, if it is known.
func (r *gcRun) markUID(uid string) {
	if key, ok := r.x.byUID[uid]; ok {
		r.mark(key)
	}
}

// markNamespace queues namespace ns if it is being terminated.
func (r *gcRun) markNamespace(ns string) {
	if ns == "" {
		return
	}
	key := r.s.byGV["v1"]["namespaces"].key("", ns)
	if e := r.x.objs[key]; e != nil && e.deleting {
		r.mark(key)
	}
}

// apply records one change in the index and queues the objects it may
// give work: the object itself, its owners (a foreground deletion may be
// waiting for it), the dependents of a deleted object, and a Terminating
// namespace it is in.
func (r *gcRun) apply(ev store.Event) {
	if ev.Rev <= r.x.rev { // already in the list the index was built from
		return
	}
	key := ev.Object.Key
	switch ev.Type {
	case store.EventAdded, store.EventModified:
		e := r.x.entry(r.s, ev.Object)
		if e == nil {
			return
		}
		if old := r.x.remove(key); old != nil {
			for _, u := range old.owners {
				r.markUID(u)
			}
		}
		r.x.put(key, e)
		if e.deleting || len(e.owners) > 0 {
			r.mark(key)
		}
		for _, u := range e.owners {
			r.markUID(u)
		}
		r.markNamespace(e.ns)
	case store.EventDeleted:
		old := r.x.remove(key)
		if old == nil {
			return
		}
		for dep := range r.x.deps[old.uid] {
			r.mark(dep)
		}
		for _, u := range old.owners {
			r.markUID(u)
		}
		r.markNamespace(old.ns)
		if isServices(old.res) && old.ns == "default" && old.name == "kubernetes" {
			r.kubernetes = true
		}
	}
}

// work looks at every queued object and moves its pending deletion on:
// namespaces being terminated are emptied then removed, owners deleted
// with the Orphan policy release their dependents, owners deleted with
// the Foreground policy have their dependents deleted first, and objects
// whose owners are all gone are deleted. Keys that fail stay queued.
func (r *gcRun) work(ctx context.Context) error {
	var errs []error
	if r.kubernetes {
		// kube-apiserver puts it back when it is deleted.
		if err := r.s.bootstrapKubernetesService(ctx); err != nil {
			errs = append(errs, err)
		} else {
			r.kubernetes = false
		}
	}
	todo := r.dirty
	r.dirty = keySet{}
	for key := range todo {
		if ctx.Err() != nil {
			r.dirty[key] = struct{}{}
			continue
		}
		err := r.look(ctx, key)
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			r.dirty[key] = struct{}{}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// look moves on what is pending for the object under key.
func (r *gcRun) look(ctx context.Context, key string) error {
	e := r.x.objs[key]
	if e == nil {
		return nil
	}
	if !e.deleting && !slices.ContainsFunc(e.owners, func(u string) bool { return !r.x.has(u) }) {
		return nil // every owner is there: nothing to do without reading it
	}
	it, ok, err := r.load(ctx, key, e)
	if !ok || err != nil {
		return err
	}
	uid := str(it.o, "metadata", "uid")
	switch {
	case e.namespace && deleting(it.o):
		err = r.s.drainNamespace(ctx, it, r.x.byNS[e.name], r.x.objs)
	case deleting(it.o) && slices.Contains(finalizers(it.o), metav1.FinalizerOrphanDependents):
		var deps []gcItem
		if deps, err = r.dependents(ctx, uid); err == nil {
			err = r.s.orphanDependents(ctx, it, deps)
		}
	case deleting(it.o) && slices.Contains(finalizers(it.o), metav1.FinalizerDeleteDependents):
		var deps []gcItem
		if deps, err = r.dependents(ctx, uid); err == nil {
			err = r.s.deleteDependentsFirst(ctx, it, deps)
		}
	}
	if err == nil && len(ownerRefs(it.o)) > 0 && !deleting(it.o) {
		err = r.s.collectIfOrphaned(ctx, it, r.x.has)
	}
	return err
}

// load reads the object under key from the store.
func (r *gcRun) load(ctx context.Context, key string, e *gcEntry) (gcItem, bool, error) {
	kv, err := r.s.cfg.Store.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return gcItem{}, false, nil
	}
	if err != nil {
		return gcItem{}, false, err
	}
	o, err := fromKV(kv)
	if err != nil {
		return gcItem{}, false, err
	}
	return gcItem{e.res, o}, true, nil
}

// dependents reads the objects the index lists as dependents of uid.
func (r *gcRun) dependents(ctx context.Context, uid string) ([]gcItem, error) {
	keys := slices.Sorted(maps.Keys(r.x.deps[uid]))
	out := make([]gcItem, 0, len(keys))
	for _, key := range keys {
		it, ok, err := r.load(ctx, key, r.x.objs[key])
		if err != nil {
			return nil, err
		}
		if ok && slices.ContainsFunc(ownerRefs(it.o), func(o ownerRef) bool { return o.uid == uid }) {
			out = append(out, it)
		}
	}
	return out, nil
}

// gcItem is one object the collector acts on.
type gcItem struct {
	res *Resource
	o   object
}

// ownerRef is the part of an ownerReference the collector uses.
type ownerRef struct {
	apiVersion, kind, name, uid string
	block                       bool
}

// ownerRefs returns the object's ownerReferences.
func ownerRefs(o object) []ownerRef {
	var out []ownerRef
	for _, r := range slice(o, "metadata", "ownerReferences") {
		b, _ := get(r, "blockOwnerDeletion").(bool)
		out = append(out, ownerRef{apiVersion: str(r, "apiVersion"), kind: str(r, "kind"), name: str(r, "name"), uid: str(r, "uid"), block: b})
	}
	return out
}

// rewrite applies change to the stored object through the update path,
// which removes the object when its last finalizer goes.
func (s *Server) rewrite(ctx context.Context, it gcItem, sub string, change func(object)) error {
	next := deepCopy(it.o)
	change(next)
	if equalJSON(next, it.o) {
		return nil
	}
	_, err := s.update(ctx, request{res: it.res, ns: str(it.o, "metadata", "namespace"), name: str(it.o, "metadata", "name"), sub: sub}, next)
	return err
}

// dropFinalizer removes finalizer f from the object.
func (s *Server) dropFinalizer(ctx context.Context, it gcItem, f string) error {
	return s.rewrite(ctx, it, "", func(o object) {
		setFinalizers(o, slices.DeleteFunc(finalizers(o), func(x string) bool { return x == f }))
	})
}

// drainNamespace deletes what a Terminating namespace holds; once it is
// empty the kubernetes finalizer is removed from spec.finalizers, which
// removes the namespace when it has no other finalizers. held is what the
// collector's index has in the namespace: while it is not empty, the
// objects not yet being deleted are deleted and the namespace waits; once
// it is, the store is read to confirm.
func (s *Server) drainNamespace(ctx context.Context, it gcItem, held keySet, objs map[string]*gcEntry) error {
	ns := str(it.o, "metadata", "name")
	if len(held) > 0 {
		var todo []*gcEntry
		for key := range held {
			if e := objs[key]; e != nil && !e.deleting {
				todo = append(todo, e)
			}
		}
		// In the order of the resources, as a full pass would.
		slices.SortFunc(todo, func(a, b *gcEntry) int {
			return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.name, b.name))
		})
		for _, e := range todo {
			if _, err := s.delete(ctx, e.res, ns, e.name, nil, false); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("emptying namespace %s: %w", ns, err)
			}
		}
		return nil // the deletions bring the namespace back
	}
	if err := s.emptyNamespace(ctx, ns); err != nil {
		return err
	}
	all := s.allResources()
	for i := range all {
		res := &all[i]
		if !res.Namespaced || res.storedElsewhere() {
			continue
		}
		page, err := s.list(ctx, res, ns, nil, 1, "")
		if err != nil {
			return err
		}
		if len(page.items) > 0 {
			return nil // wait for their finalizers
		}
	}
	return s.rewrite(ctx, it, "finalize", func(o object) {
		spec := mapOf(o, "spec")
		fs := slices.DeleteFunc(specFinalizers(o), func(x string) bool { return x == namespaceFinalizer })
		if len(fs) == 0 {
			delete(spec, "finalizers")
			return
		}
		list := make([]any, len(fs))
		for i, f := range fs {
			list[i] = f
		}
		spec["finalizers"] = list
	})
}

// orphanDependents removes the owner from its dependents' ownerReferences,
// then its orphan finalizer.
func (s *Server) orphanDependents(ctx context.Context, owner gcItem, deps []gcItem) error {
	uid := str(owner.o, "metadata", "uid")
	for _, d := range deps {
		err := s.rewrite(ctx, d, "", func(o object) {
			refs := slice(o, "metadata", "ownerReferences")
			refs = slices.DeleteFunc(refs, func(r any) bool { return str(r, "uid") == uid })
			if len(refs) == 0 {
				delete(meta(o), "ownerReferences")
			} else {
				meta(o)["ownerReferences"] = refs
			}
		})
		if err != nil {
			return err
		}
	}
	return s.dropFinalizer(ctx, owner, metav1.FinalizerOrphanDependents)
}

// deleteDependentsFirst deletes an owner's dependents, in the foreground
// those that block its deletion, and removes its foregroundDeletion
// finalizer once no blocking dependent is left.
func (s *Server) deleteDependentsFirst(ctx context.Context, owner gcItem, deps []gcItem) error {
	uid := str(owner.o, "metadata", "uid")
	blocked := false
	for _, d := range deps {
		block := false
		for _, r := range ownerRefs(d.o) {
			if r.uid == uid && r.block {
				block = true
			}
		}
		blocked = blocked || block
		if deleting(d.o) {
			continue
		}
		policy := metav1.DeletePropagationBackground
		if block {
			policy = metav1.DeletePropagationForeground
		}
		_, err := s.delete(ctx, d.res, str(d.o, "metadata", "namespace"), str(d.o, "metadata", "name"),
			&metav1.DeleteOptions{PropagationPolicy: &policy, Preconditions: &metav1.Preconditions{UID: uidOf(d.o)}}, false)
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return err
		}
	}
	if blocked {
		return nil // the deletions above bring the next sweep
	}
	return s.dropFinalizer(ctx, owner, metav1.FinalizerDeleteDependents)
}

// collectIfOrphaned deletes an object none of whose owners exists any
// more, and drops the references to missing owners of one that still has
// some. Owners known reports missing are looked up in the store before
// anything is deleted, so that an owner the index has not seen yet is not
// missed.
func (s *Server) collectIfOrphaned(ctx context.Context, it gcItem, known func(uid string) bool) error {
	refs := ownerRefs(it.o)
	var gone []string
	for _, r := range refs {
		if known(r.uid) || s.ownerExists(ctx, it, r) {
			continue
		}
		gone = append(gone, r.uid)
	}
	switch {
	case len(gone) == 0:
		return nil
	case len(gone) < len(refs):
		return s.rewrite(ctx, it, "", func(o object) {
			meta(o)["ownerReferences"] = slices.DeleteFunc(slice(o, "metadata", "ownerReferences"), func(r any) bool {
				return slices.Contains(gone, str(r, "uid"))
			})
		})
	}
	policy := metav1.DeletePropagationBackground
	_, err := s.delete(ctx, it.res, str(it.o, "metadata", "namespace"), str(it.o, "metadata", "name"),
		&metav1.DeleteOptions{PropagationPolicy: &policy, Preconditions: &metav1.Preconditions{UID: uidOf(it.o)}}, false)
	return err
}

// ownerExists looks an owner up in the store: it exists if an object of
// its kind and name has its uid. An owner of a kind the server does not
// serve cannot be checked and counts as existing, so that its dependents
// are kept.
func (s *Server) ownerExists(ctx context.Context, dep gcItem, r ownerRef) bool {
	gv, err := schema.ParseGroupVersion(r.apiVersion)
	if err != nil {
		return true
	}
	all := s.allResources()
	for i := range all {
		res := &all[i]
		if res.Group != gv.Group || res.Kind != r.kind || res.storedElsewhere() {
			continue
		}
		ns := ""
		if res.Namespaced {
			ns = str(dep.o, "metadata", "namespace")
		}
		o, _, err := s.getObject(ctx, res, ns, r.name)
		return err == nil && str(o, "metadata", "uid") == r.uid
	}
	return true
}

// uidOf returns the object's uid as a precondition value.
func uidOf(o object) *types.UID {
	u := types.UID(str(o, "metadata", "uid"))
	return &u
}
