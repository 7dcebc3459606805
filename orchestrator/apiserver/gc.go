package apiserver

import (
	"bytes"
	"context"
	"errors"
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
// it sweeps.
const gcSettle = 20 * time.Millisecond

// collector is the garbage collector and namespace controller: a
// goroutine that, after each burst of changes in the store, sweeps every
// object and carries on the deletions kube-controller-manager would.
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
	w, err := s.cfg.Store.Watch(ctx, "/registry/", s.cfg.Store.Revision())
	if err != nil {
		return err
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, cancel)
	s.gc = &collector{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.gc.done)
		defer stop()
		s.collect(cctx, w)
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

// collect sweeps once, then again after every burst of store events.
func (s *Server) collect(ctx context.Context, w *store.Watcher) {
	defer w.Stop()
	dirty := true
	pause := gcSettle
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events():
			if !ok {
				return
			}
			if ev.Type == store.EventError {
				s.log.Warn("garbage collector watch ended", "err", ev.Err)
				if !s.rewatch(ctx, &w) {
					return
				}
			}
			if !dirty && needsSweep(ev) {
				dirty = true
				timer.Reset(pause)
			}
		case <-timer.C:
			if !dirty {
				continue
			}
			dirty = false
			began := time.Now()
			err := s.sweep(ctx)
			// Sweeps read everything: under a stream of writes they are
			// spaced so that they take at most a fifth of the time.
			pause = max(gcSettle, 4*time.Since(began))
			if err != nil && ctx.Err() == nil {
				if errors.Is(err, store.ErrClosed) {
					return
				}
				s.log.Warn("garbage collection", "err", err)
				dirty = true
				timer.Reset(time.Second)
			}
		}
	}
}

// needsSweep reports whether a change may give the collector work: a
// deletion (its dependents may be orphaned), or an object with owners or
// being deleted. Values the store seals cannot be read and always count.
func needsSweep(ev store.Event) bool {
	if ev.Type == store.EventDeleted || ev.Type == store.EventError {
		return true
	}
	v := ev.Object.Value
	if len(v) == 0 || v[0] != '{' {
		return ev.Type != store.EventBookmark
	}
	return bytes.Contains(v, []byte(`"ownerReferences"`)) || bytes.Contains(v, []byte(`"deletionTimestamp"`))
}

// rewatch replaces an ended watch with one from the current revision.
func (s *Server) rewatch(ctx context.Context, w **store.Watcher) bool {
	(*w).Stop()
	nw, err := s.cfg.Store.Watch(ctx, "/registry/", s.cfg.Store.Revision())
	if err != nil {
		return false
	}
	*w = nw
	return true
}

// gcItem is one object seen by a sweep.
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

// sweep reads every object and moves each pending deletion on (and puts
// back a deleted kubernetes Service): namespaces
// being terminated are emptied then removed, owners deleted with the
// Orphan policy release their dependents, owners deleted with the
// Foreground policy have their dependents deleted first, and objects
// whose owners are all gone are deleted.
func (s *Server) sweep(ctx context.Context) error {
	var items []gcItem
	uids := map[string]bool{}
	all := s.allResources()
	for i := range all {
		res := &all[i]
		page, err := s.list(ctx, res, "", nil, 0, "")
		if err != nil {
			return err
		}
		for _, o := range page.items {
			items = append(items, gcItem{res, o})
			uids[str(o, "metadata", "uid")] = true
		}
	}
	haveKubernetes := false
	for _, it := range items {
		if isServices(it.res) && str(it.o, "metadata", "namespace") == "default" && str(it.o, "metadata", "name") == "kubernetes" {
			haveKubernetes = true
		}
	}
	var errs []error
	if !haveKubernetes {
		// kube-apiserver puts it back when it is deleted.
		errs = append(errs, s.bootstrapKubernetesService(ctx))
	}
	dependents := map[string][]gcItem{}
	for _, it := range items {
		for _, r := range ownerRefs(it.o) {
			dependents[r.uid] = append(dependents[r.uid], it)
		}
	}
	for _, it := range items {
		var err error
		switch {
		case isNamespaces(it.res) && deleting(it.o):
			err = s.drainNamespace(ctx, it)
		case deleting(it.o) && slices.Contains(finalizers(it.o), metav1.FinalizerOrphanDependents):
			err = s.orphanDependents(ctx, it, dependents[str(it.o, "metadata", "uid")])
		case deleting(it.o) && slices.Contains(finalizers(it.o), metav1.FinalizerDeleteDependents):
			err = s.deleteDependentsFirst(ctx, it, dependents[str(it.o, "metadata", "uid")])
		}
		if err == nil && len(ownerRefs(it.o)) > 0 && !deleting(it.o) {
			err = s.collectIfOrphaned(ctx, it, uids)
		}
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
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
// removes the namespace when it has no other finalizers.
func (s *Server) drainNamespace(ctx context.Context, it gcItem) error {
	ns := str(it.o, "metadata", "name")
	if err := s.emptyNamespace(ctx, ns); err != nil {
		return err
	}
	all := s.allResources()
	for i := range all {
		res := &all[i]
		if !res.Namespaced {
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
// some. Owners missing from the sweep are looked up again before anything
// is deleted, so that an owner created during the sweep is not missed.
func (s *Server) collectIfOrphaned(ctx context.Context, it gcItem, uids map[string]bool) error {
	refs := ownerRefs(it.o)
	var gone []string
	for _, r := range refs {
		if uids[r.uid] || s.ownerExists(ctx, it, r) {
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
		if res.Group != gv.Group || res.Kind != r.kind {
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
