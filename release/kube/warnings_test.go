package kube

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"pkg.dev/pkg/release"
)

func TestWarningPrinter(t *testing.T) {
	var b strings.Builder
	p := NewWarningPrinter(&b)
	ctx := context.Background()
	r := &release.Resource{GVK: schema.GroupVersionKind{Group: "batch", Version: "v1beta1", Kind: "CronJob"}, Name: "nightly", Namespaced: true, Namespace: "ops"}
	p.HandleWarningHeaderWithContext(ctx, 299, "-", "batch/v1beta1 CronJob is deprecated in v1.21+, unavailable in v1.25+; use batch/v1 CronJob")
	p.HandleWarningHeaderWithContext(withSubject(ctx, r), 299, "-", "unknown field \"spec.schedul\"")
	p.HandleWarningHeaderWithContext(withSubject(ctx, r), 299, "-", "unknown field \"spec.schedul\"")
	r2 := *r
	r2.Source = "ops/templates/cron.yaml"
	p.HandleWarningHeaderWithContext(withSubject(ctx, &r2), 299, "-", "unknown field \"spec.schedul\"")
	p.HandleWarningHeaderWithContext(ctx, 199, "-", "a miscellaneous warning is not Kubernetes'")
	p.HandleWarningHeaderWithContext(ctx, 299, "-", "")
	want := `Warning: batch/v1beta1 CronJob is deprecated in v1.21+, unavailable in v1.25+; use batch/v1 CronJob
Warning: CronJob "nightly" in namespace "ops": unknown field "spec.schedul"
Warning: CronJob "nightly" in namespace "ops" (ops/templates/cron.yaml): unknown field "spec.schedul"
`
	if b.String() != want {
		t.Errorf("printed:\n%s\nwant:\n%s", b.String(), want)
	}
}
