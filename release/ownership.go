package release

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The label and annotations that tie a resource to its release, shared
// with Helm so that a release moves between helm and pkg.
const (
	ManagedByLabel           = "app.kubernetes.io/managed-by"
	ManagedByHelm            = "Helm"
	ReleaseNameAnnotation    = "meta.helm.sh/release-name"
	ReleaseNSAnnotation      = "meta.helm.sh/release-namespace"
	ResourcePolicyAnnotation = "helm.sh/resource-policy"
	// KeepPolicy keeps a resource when its release drops or deletes it.
	KeepPolicy = "keep"
)

// setOwnership stamps every resource with the release's label and
// annotations.
func setOwnership(list ResourceList, name, namespace string) {
	for _, r := range list {
		lbs := r.Object.GetLabels()
		if lbs == nil {
			lbs = map[string]string{}
		}
		lbs[ManagedByLabel] = ManagedByHelm
		r.Object.SetLabels(lbs)
		ann := r.Object.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[ReleaseNameAnnotation] = name
		ann[ReleaseNSAnnotation] = namespace
		r.Object.SetAnnotations(ann)
	}
}

// adoptable checks the resources of list that already exist: each must
// belong to the release (or takeOwnership is set), else the install stops
// with Helm's message naming the resource and the metadata at fault. It
// returns the existing ones, which the caller updates instead of creating.
func adoptable(ctx context.Context, t Target, list ResourceList, name, namespace string, takeOwnership bool) (ResourceList, error) {
	live, err := t.Get(ctx, list)
	if err != nil {
		return nil, err
	}
	var existing ResourceList
	for i, obj := range live {
		if obj == nil {
			continue
		}
		if !takeOwnership {
			if err := checkOwnership(obj, name, namespace); err != nil {
				return nil, fmt.Errorf("%s exists and cannot be imported into the current release: %w", list[i], err)
			}
		}
		existing = append(existing, list[i])
	}
	return existing, nil
}

// checkOwnership says why obj does not belong to the release, or nil.
func checkOwnership(obj *unstructured.Unstructured, name, namespace string) error {
	var problems []string
	if p := requireValue(obj.GetLabels(), ManagedByLabel, ManagedByHelm); p != "" {
		problems = append(problems, "label validation error: "+p)
	}
	ann := obj.GetAnnotations()
	if p := requireValue(ann, ReleaseNameAnnotation, name); p != "" {
		problems = append(problems, "annotation validation error: "+p)
	}
	if p := requireValue(ann, ReleaseNSAnnotation, namespace); p != "" {
		problems = append(problems, "annotation validation error: "+p)
	}
	if len(problems) == 0 {
		return nil
	}
	msg := "invalid ownership metadata"
	for _, p := range problems {
		msg += "; " + p
	}
	return errors.New(msg)
}

func requireValue(m map[string]string, k, v string) string {
	got, ok := m[k]
	if !ok {
		return fmt.Sprintf("missing key %q: must be set to %q", k, v)
	}
	if got != v {
		return fmt.Sprintf("key %q must equal %q: current value is %q", k, v, got)
	}
	return ""
}

// keepPolicy tells whether a resource is annotated to survive its release.
func keepPolicy(r *Resource) bool {
	return strings.ToLower(strings.TrimSpace(r.Object.GetAnnotations()[ResourcePolicyAnnotation])) == KeepPolicy
}

// splitKept separates the resources a release deletion must keep.
func splitKept(list ResourceList) (del, kept ResourceList) {
	for _, r := range list {
		if keepPolicy(r) {
			kept = append(kept, r)
		} else {
			del = append(del, r)
		}
	}
	return del, kept
}

// sortedLabelKeys lists m's keys in order.
func sortedLabelKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
