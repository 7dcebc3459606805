package apiserver

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestListRemainingItemCount(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")
	for i := range 5 {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm%d", i), Labels: map[string]string{"even": fmt.Sprint(i%2 == 0)}}}
		if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	remaining := func(l *corev1.ConfigMapList) string {
		if l.RemainingItemCount == nil {
			return "nil"
		}
		return fmt.Sprint(*l.RemainingItemCount)
	}
	first, err := cms.List(ctx, metav1.ListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Items) != 2 || remaining(first) != "3" {
		t.Errorf("first page: %d items, remainingItemCount %s", len(first.Items), remaining(first))
	}
	// A write between pages does not change the pinned count.
	if err := cms.Delete(ctx, "cm4", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	second, err := cms.List(ctx, metav1.ListOptions{Limit: 2, Continue: first.Continue})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Items) != 2 || remaining(second) != "1" {
		t.Errorf("second page: %d items, remainingItemCount %s", len(second.Items), remaining(second))
	}
	last, err := cms.List(ctx, metav1.ListOptions{Limit: 2, Continue: second.Continue})
	if err != nil {
		t.Fatal(err)
	}
	if len(last.Items) != 1 || last.Continue != "" || remaining(last) != "nil" {
		t.Errorf("last page: %d items, continue %q, remainingItemCount %s", len(last.Items), last.Continue, remaining(last))
	}
	// With a selector the count would not be exact: none is given.
	sel, err := cms.List(ctx, metav1.ListOptions{Limit: 1, LabelSelector: "even=true"})
	if err != nil {
		t.Fatal(err)
	}
	if sel.Continue == "" || remaining(sel) != "nil" {
		t.Errorf("selected page: continue %q, remainingItemCount %s", sel.Continue, remaining(sel))
	}
}
