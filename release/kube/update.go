package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/jsonmergepatch"
	"k8s.io/apimachinery/pkg/util/mergepatch"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/util/retry"

	"pkg.dev/pkg/release"
)

// ResourcePolicyAnnotation is the annotation whose value KeepPolicy keeps
// an object when a release drops or deletes it.
const ResourcePolicyAnnotation = "helm.sh/resource-policy"

// KeepPolicy is the value of ResourcePolicyAnnotation that keeps an object.
const KeepPolicy = "keep"

// recreateTimeout bounds how long a forced update waits for an object it
// deleted to be gone before creating it again.
const recreateTimeout = time.Minute

// Update moves the cluster from original to target as Helm 3 does. Each
// target object that is not live is created (stopping at the first
// failure). Each live one is patched with a three-way merge of its
// original (the previous manifest's object, else the live object), the
// live object and the target: a strategic merge patch for the kinds
// client-go's scheme knows, a JSON merge patch for the others; empty
// patches are not sent. With opts.Force, objects are replaced instead
// (PUT), and deleted and created again when the server refuses the
// replacement (a changed immutable field). Patch failures do not stop the
// other patches; they are returned together, and then nothing is deleted.
// Finally the objects only in original are deleted, unless opts.Keep keeps
// them or they carry helm.sh/resource-policy: keep.
//
// Like Helm, every live target object is listed as updated, changed or not.
func (c *Client) Update(ctx context.Context, original, target release.ResourceList, opts release.UpdateOptions) (*release.ApplyResult, error) {
	res := &release.ApplyResult{}
	var errs []error
	// As Helm's batches: the resources of one kind (consecutive in install
	// order) are applied concurrently, kinds one after another. When every
	// object is live and read ahead (a rollback that only patches), kinds
	// are batched by phase instead (see sameBatch).
	type outcome struct {
		created, updated bool
		err, fatal       error
	}
	// With the live objects read ahead, every patch is computed at once,
	// concurrently, while the first kinds' requests are in flight: a
	// strategic merge of a Deployment costs milliseconds of cpu, which
	// the kinds' turns would otherwise add up.
	var planned []*plannedPatch
	if opts.Live != nil && !opts.Force {
		planned = make([]*plannedPatch, len(target))
		for i, t := range target {
			if i >= len(opts.Live) || opts.Live[i] == nil {
				continue
			}
			p := &plannedPatch{done: make(chan struct{})}
			planned[i] = p
			live := opts.Live[i]
			go func() {
				defer close(p.done)
				p.patch, p.pt, p.skip, p.err = c.computePatch(t, c.mergeBase(original, t, live), live)
			}()
		}
	}
	merge := planned != nil && allLive(target, opts.Live)
	for start := 0; start < len(target); {
		end := batchEnd(target, start, merge)
		batch := target[start:end]
		outs := make([]outcome, len(batch))
		var wg sync.WaitGroup
		sem := make(chan struct{}, parallelRequests)
		for i, t := range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				var live *unstructured.Unstructured
				var err error
				if opts.Live != nil && start+i < len(opts.Live) {
					live = opts.Live[start+i]
				} else if live, err = c.live(ctx, t); err != nil {
					outs[i].fatal = err
					return
				}
				if live == nil {
					err := c.create(ctx, t)
					if err == nil {
						outs[i].created = true
						return
					}
					// Read ahead as missing, but created since: patch it.
					if opts.Live == nil || !apierrors.IsAlreadyExists(err) {
						outs[i].fatal = err
						return
					}
					if live, err = c.live(ctx, t); err != nil || live == nil {
						outs[i].fatal = fmt.Errorf("reading %s after it appeared: %w", t, err)
						return
					}
				}
				var pp *plannedPatch
				if planned != nil && live == opts.Live[start+i] {
					pp = planned[start+i]
				}
				var err2 error
				if pp != nil {
					<-pp.done
					err2 = c.finishPatch(ctx, t, pp.patch, pp.pt, pp.skip, pp.err)
				} else {
					err2 = c.update(ctx, t, c.mergeBase(original, t, live), live, opts.Force)
				}
				if err := err2; err != nil {
					if ctx.Err() != nil {
						outs[i].fatal = err
						return
					}
					outs[i].err = err
				}
				outs[i].updated = true
			}()
		}
		wg.Wait()
		var fatal error
		for i, o := range outs {
			switch {
			case o.fatal != nil:
				if fatal == nil {
					fatal = o.fatal
				}
			case o.created:
				res.Created = append(res.Created, batch[i])
			case o.updated:
				res.Updated = append(res.Updated, batch[i])
			}
			if o.err != nil {
				errs = append(errs, o.err)
			}
		}
		if fatal != nil {
			// Everything the batch created is reported, for cleanup.
			return res, fatal
		}
		start = end
	}
	if len(errs) > 0 {
		return res, errors.Join(errs...)
	}
	for _, o := range original {
		if find(target, o) != nil {
			continue
		}
		if opts.Keep != nil && opts.Keep(o) {
			c.log.Debug("keeping a resource dropped from the release", "resource", o.String())
			continue
		}
		live, err := c.live(ctx, o)
		if err != nil || live == nil {
			c.log.Debug("not deleting a resource dropped from the release: cannot read it", "resource", o.String(), "error", err)
			continue
		}
		if keeps(live) || keeps(o.Object) {
			c.log.Debug("keeping a resource dropped from the release", "resource", o.String(), "annotation", ResourcePolicyAnnotation+"="+KeepPolicy)
			continue
		}
		deleted, err := c.delete(ctx, o, metav1.DeletePropagationBackground)
		if err != nil {
			c.log.Warn("could not delete a resource dropped from the release", "resource", o.String(), "error", err)
			continue
		}
		if deleted {
			res.Deleted = append(res.Deleted, o)
		}
	}
	return res, nil
}

// workloadKinds are the kinds that start Pods, and the autoscaler Helm
// orders among them.
var workloadKinds = map[string]bool{
	"DaemonSet": true, "Pod": true, "ReplicationController": true, "ReplicaSet": true,
	"Deployment": true, "HorizontalPodAutoscaler": true, "StatefulSet": true, "Job": true, "CronJob": true,
}

// barrierKinds are applied on their own even in a patch-only update: what
// follows them may need them changed first (objects in a namespace, custom
// resources of a definition or of an aggregated API).
var barrierKinds = map[string]bool{"Namespace": true, "CustomResourceDefinition": true, "APIService": true}

// mergeable tells whether r's kind may share a batch with other kinds: a
// built-in kind (its group is the core group, a short one such as apps,
// or one under k8s.io) that is no barrier. Custom resources keep a batch
// per kind, as their order among each other may matter.
func mergeable(r *release.Resource) bool {
	g := r.GVK.Group
	builtin := g == "" || !strings.Contains(g, ".") || strings.HasSuffix(g, ".k8s.io")
	return builtin && !barrierKinds[r.GVK.Kind]
}

// sameBatch tells whether b is applied in the same batch as a, which comes
// before it in install order. Objects of one kind always are. With merge
// (a patch-only update), so are neighbouring built-in kinds on the same
// side of the workloads: the patches of a release's ConfigMaps, Secrets
// and Services are sent together, then those of its workloads, then those
// of its Ingresses, so that a Pod started from a changed template still
// finds its configuration changed first.
func sameBatch(a, b *release.Resource, merge bool) bool {
	if a.GVK == b.GVK {
		return true
	}
	return merge && mergeable(a) && mergeable(b) && workloadKinds[a.GVK.Kind] == workloadKinds[b.GVK.Kind]
}

// batchEnd returns where the batch starting at target[start] ends.
func batchEnd(target release.ResourceList, start int, merge bool) int {
	end := start + 1
	for end < len(target) && sameBatch(target[start], target[end], merge) {
		end++
	}
	return end
}

// allLive reports whether every target object was read ahead and exists.
func allLive(target release.ResourceList, live []*unstructured.Unstructured) bool {
	if len(live) != len(target) {
		return false
	}
	for _, l := range live {
		if l == nil {
			return false
		}
	}
	return true
}

// plannedPatch is a patch computed ahead of its kind's turn.
type plannedPatch struct {
	done  chan struct{}
	patch []byte
	pt    types.PatchType
	skip  bool
	err   error
}

// mergeBase is the original of t's three-way merge: its object in the
// previous release, else the live object without what the server fills
// in.
func (c *Client) mergeBase(original release.ResourceList, t *release.Resource, live *unstructured.Unstructured) *unstructured.Unstructured {
	if o := find(original, t); o != nil {
		return o.Object
	}
	c.log.Debug("not in the previous release; the live object is the merge's original", "resource", t.String())
	return baseline(live)
}

// computePatch computes the patch taking live to t; skip says it would
// change nothing.
func (c *Client) computePatch(t *release.Resource, original, live *unstructured.Unstructured) ([]byte, types.PatchType, bool, error) {
	liveJSON, err := json.Marshal(live.Object)
	if err != nil {
		return nil, "", false, fmt.Errorf("encoding the live object: %w", err)
	}
	patch, pt, err := c.threeWayPatch(t, original, liveJSON)
	if err != nil {
		return nil, "", false, err
	}
	skip := len(patch) == 0 || string(patch) == "{}" || noop(t, liveJSON, patch, pt)
	return patch, pt, skip, nil
}

// update brings one live object to the target.
func (c *Client) update(ctx context.Context, t *release.Resource, original, live *unstructured.Unstructured, force bool) error {
	if force {
		return c.replace(ctx, t, live)
	}
	patch, pt, skip, err := c.computePatch(t, original, live)
	return c.finishPatch(ctx, t, patch, pt, skip, err)
}

// finishPatch sends a computed patch, unless it changes nothing.
func (c *Client) finishPatch(ctx context.Context, t *release.Resource, patch []byte, pt types.PatchType, skip bool, err error) error {
	if err != nil {
		return fmt.Errorf("computing the patch of %s: %w", t, err)
	}
	if skip {
		c.log.Debug("no changes", "resource", t.String())
		return nil
	}
	c.log.Debug("patching", "resource", t.String(), "type", string(pt), "patch", string(patch))
	if _, err := c.resourceClient(t).Patch(withSubject(ctx, t), t.Name, pt, patch, metav1.PatchOptions{FieldManager: c.manager}); err != nil {
		// Helm's wording.
		return fmt.Errorf("cannot patch %q with kind %s: %w", t.Name, t.GVK.Kind, err)
	}
	return nil
}

// threeWayPatch computes the patch taking live to target given the
// original (liveJSON is the live object's JSON): strategic for kinds with
// a Go type in client-go's scheme, JSON merge otherwise.
func (c *Client) threeWayPatch(t *release.Resource, original *unstructured.Unstructured, liveJSON []byte) ([]byte, types.PatchType, error) {
	originalJSON, err := json.Marshal(original.Object)
	if err != nil {
		return nil, "", fmt.Errorf("encoding the previous object: %w", err)
	}
	targetJSON, err := json.Marshal(t.Object.Object)
	if err != nil {
		return nil, "", fmt.Errorf("encoding the new object: %w", err)
	}
	if typed, err := scheme.Scheme.New(t.GVK); err == nil {
		pm, err := strategicpatch.NewPatchMetaFromStruct(typed)
		if err != nil {
			return nil, "", fmt.Errorf("reading the patch strategy of %s: %w", t.GVK, err)
		}
		patch, err := strategicpatch.CreateThreeWayMergePatch(originalJSON, targetJSON, liveJSON, pm, true)
		return patch, types.StrategicMergePatchType, err
	}
	patch, err := jsonmergepatch.CreateThreeWayJSONMergePatch(originalJSON, targetJSON, liveJSON,
		mergepatch.RequireKeyUnchanged("apiVersion"),
		mergepatch.RequireKeyUnchanged("kind"),
		mergepatch.RequireMetadataKeyUnchanged("name"),
	)
	if err != nil && mergepatch.IsPreconditionFailed(err) {
		err = fmt.Errorf("%w: apiVersion, kind or name changed", err)
	}
	return patch, types.MergePatchType, err
}

// noop tells whether applying patch to the live object (liveJSON) would
// change nothing: a three-way patch may carry only ordering directives or
// deletions of fields already gone, which need no request.
func noop(t *release.Resource, liveJSON, patch []byte, pt types.PatchType) bool {
	var before, after map[string]any
	if json.Unmarshal(liveJSON, &before) != nil {
		return false
	}
	switch pt {
	case types.StrategicMergePatchType:
		typed, err := scheme.Scheme.New(t.GVK)
		if err != nil {
			return false
		}
		var p map[string]any
		// The merge works on its own decoded copy of the live object.
		if json.Unmarshal(patch, &p) != nil || json.Unmarshal(liveJSON, &after) != nil {
			return false
		}
		if after, err = strategicpatch.StrategicMergeMapPatch(after, p, typed); err != nil {
			return false
		}
	case types.MergePatchType:
		out, err := jsonpatch.MergePatch(liveJSON, patch)
		if err != nil || json.Unmarshal(out, &after) != nil {
			return false
		}
	default:
		return false
	}
	return reflect.DeepEqual(before, after)
}

// replace puts the target in place of the live object (retrying when the
// object changed meanwhile); when the server refuses the replacement (an
// immutable field changed), it deletes the object, waits for it to be gone
// and creates it again.
func (c *Client) replace(ctx context.Context, t *release.Resource, live *unstructured.Unstructured) error {
	rv := live.GetResourceVersion()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj := t.Object.DeepCopy()
		obj.SetResourceVersion(rv)
		_, err := c.resourceClient(t).Update(withSubject(ctx, t), obj, metav1.UpdateOptions{FieldManager: c.manager})
		if apierrors.IsConflict(err) {
			if fresh, gerr := c.live(ctx, t); gerr == nil && fresh != nil {
				rv = fresh.GetResourceVersion()
			}
		}
		return err
	})
	if err == nil {
		c.log.Debug("replaced", "resource", t.String())
		return nil
	}
	if !apierrors.IsInvalid(err) {
		return fmt.Errorf("replacing %s: %w", t, err)
	}
	c.log.Debug("replacement refused; deleting and creating again", "resource", t.String(), "error", err)
	if _, err := c.delete(ctx, t, metav1.DeletePropagationBackground); err != nil {
		return fmt.Errorf("recreating %s: %w", t, err)
	}
	if err := c.waitForDelete(ctx, release.ResourceList{t}, recreateTimeout); err != nil {
		return fmt.Errorf("recreating %s: %w", t, err)
	}
	return c.create(ctx, t)
}

// find returns the resource of list that is the same object as r (same
// group, kind, namespace and name), nil if none.
func find(list release.ResourceList, r *release.Resource) *release.Resource {
	for _, x := range list {
		if x.GVK.Group == r.GVK.Group && x.GVK.Kind == r.GVK.Kind && x.Namespace == r.Namespace && x.Name == r.Name {
			return x
		}
	}
	return nil
}

// keeps tells whether obj carries helm.sh/resource-policy: keep.
func keeps(obj *unstructured.Unstructured) bool {
	return obj != nil && obj.GetAnnotations()[ResourcePolicyAnnotation] == KeepPolicy
}

// baseline is the live object as the original of a merge when the
// previous release did not have it: without the fields the server fills
// in, which a patch must not try to remove.
func baseline(live *unstructured.Unstructured) *unstructured.Unstructured {
	b := live.DeepCopy()
	for _, f := range []string{"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink"} {
		unstructured.RemoveNestedField(b.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(b.Object, "status")
	return b
}
