package kube

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"pkg.dev/pkg/release"
)

// TestBatches: an update applies one kind at a time, as Helm does; a
// patch-only one (every object live and read ahead) batches neighbouring
// built-in kinds on the same side of the workloads, and keeps namespaces,
// custom resource definitions and custom resources on their own.
func TestBatches(t *testing.T) {
	t.Parallel()
	kinds := []string{
		"/Namespace", "/Secret", "/Secret", "/ConfigMap", "apiextensions.k8s.io/CustomResourceDefinition",
		"rbac.authorization.k8s.io/Role", "/Service", "apps/Deployment", "autoscaling/HorizontalPodAutoscaler",
		"apps/StatefulSet", "networking.k8s.io/Ingress", "example.com/Widget", "serving.knative.dev/Service",
	}
	var target release.ResourceList
	for _, k := range kinds {
		g, kind, _ := strings.Cut(k, "/")
		target = append(target, &release.Resource{GVK: schema.GroupVersionKind{Group: g, Version: "v1", Kind: kind}})
	}
	show := func(merge bool) string {
		var out []string
		for start := 0; start < len(target); {
			end := batchEnd(target, start, merge)
			var b []string
			for _, r := range target[start:end] {
				b = append(b, r.GVK.Kind)
			}
			out = append(out, strings.Join(b, "+"))
			start = end
		}
		return strings.Join(out, " | ")
	}
	for _, c := range []struct {
		merge bool
		want  string
	}{
		{false, "Namespace | Secret+Secret | ConfigMap | CustomResourceDefinition | Role | Service | Deployment | HorizontalPodAutoscaler | StatefulSet | Ingress | Widget | Service"},
		{true, "Namespace | Secret+Secret+ConfigMap | CustomResourceDefinition | Role+Service | Deployment+HorizontalPodAutoscaler+StatefulSet | Ingress | Widget | Service"},
	} {
		if got := show(c.merge); got != c.want {
			t.Errorf("merge=%v:\n got %s\nwant %s", c.merge, got, c.want)
		}
	}
}
