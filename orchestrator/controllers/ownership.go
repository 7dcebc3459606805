package controllers

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// owner is a controller object that claims dependents by selector.
type owner struct {
	meta     metav1.Object
	gvk      schema.GroupVersionKind
	selector labels.Selector
	// fresh fetches the owner from the API, bypassing the cache, so that
	// adoption is decided on its current uid and deletion state.
	fresh func(ctx context.Context) (metav1.Object, error)
}

// ref returns the controller ownerReference that points at o.
func (o *owner) ref() metav1.OwnerReference {
	t := true
	return metav1.OwnerReference{
		APIVersion:         o.gvk.GroupVersion().String(),
		Kind:               o.gvk.Kind,
		Name:               o.meta.GetName(),
		UID:                o.meta.GetUID(),
		Controller:         &t,
		BlockOwnerDeletion: &t,
	}
}

// patcher applies a strategic merge patch to one dependent.
type patcher func(ctx context.Context, name string, patch []byte) error

// claim returns the dependents o controls after adopting the orphans its
// selector matches and releasing those it controls but no longer matches,
// as Kubernetes' ControllerRefManager does. Dependents that vanish while
// being adopted or released are left out without error.
func claim[T metav1.Object](ctx context.Context, o *owner, objs []T, patch patcher) ([]T, error) {
	var out []T
	checked := false
	var firstErr error
	for _, obj := range objs {
		ref := metav1.GetControllerOfNoCopy(obj)
		match := o.selector.Matches(labels.Set(obj.GetLabels()))
		if ref != nil {
			if ref.UID != o.meta.GetUID() {
				continue
			}
			if match {
				out = append(out, obj)
				continue
			}
			if o.meta.GetDeletionTimestamp() != nil || obj.GetDeletionTimestamp() != nil {
				continue
			}
			if err := patch(ctx, obj.GetName(), releasePatch(o.meta.GetUID(), obj.GetUID())); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsInvalid(err) {
				firstErr = keepFirst(firstErr, fmt.Errorf("releasing %s: %w", obj.GetName(), err))
			}
			continue
		}
		if !match || o.meta.GetDeletionTimestamp() != nil || obj.GetDeletionTimestamp() != nil || obj.GetNamespace() != o.meta.GetNamespace() {
			continue
		}
		if !checked {
			cur, err := o.fresh(ctx)
			if err != nil {
				return out, fmt.Errorf("checking %s %s before adopting: %w", o.gvk.Kind, o.meta.GetName(), err)
			}
			if cur.GetUID() != o.meta.GetUID() || cur.GetDeletionTimestamp() != nil {
				return out, nil
			}
			checked = true
		}
		p, err := adoptPatch(o.ref(), obj.GetUID())
		if err != nil {
			return out, err
		}
		if err := patch(ctx, obj.GetName(), p); err != nil {
			if !apierrors.IsNotFound(err) {
				firstErr = keepFirst(firstErr, fmt.Errorf("adopting %s: %w", obj.GetName(), err))
			}
			continue
		}
		out = append(out, obj)
	}
	return out, firstErr
}

func keepFirst(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// adoptPatch adds ref to a dependent's ownerReferences, on the condition
// that its uid is still uid.
func adoptPatch(ref metav1.OwnerReference, uid types.UID) ([]byte, error) {
	return json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": []metav1.OwnerReference{ref},
		"uid":             uid,
	}})
}

// releasePatch removes the ownerReference to ownerUID from a dependent
// whose uid is uid.
func releasePatch(ownerUID, uid types.UID) []byte {
	b, _ := json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": []map[string]any{{"$patch": "delete", "uid": ownerUID}},
		"uid":             uid,
	}})
	return b
}
