package kube

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"pkg.dev/pkg/release"
)

func TestCreateInOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// The ConfigMap lives in the Namespace created just before it.
	list := e.create(`apiVersion: v1
kind: Namespace
metadata: {name: team}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: team}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b, namespace: team}
`)
	got := e.logs.matching("creating")
	if len(got) != 3 {
		t.Fatalf("logged %d creations: %q", len(got), got)
	}
	// Kinds go in order; the ConfigMaps of one batch in any order.
	if !strings.Contains(got[0], list[0].String()) {
		t.Errorf("creation 0 = %q, want %s first", got[0], list[0])
	}
	for _, r := range list {
		if e.get(r) == nil {
			t.Errorf("%s was not created", r)
		}
	}
}

func TestCreateStopsAtFirstError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: taken}\n")
	list := e.build(`apiVersion: v1
kind: ConfigMap
metadata: {name: first}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: taken}
---
apiVersion: v1
kind: Secret
metadata: {name: never}
`)
	res, err := e.client.Create(ctx(t), list)
	if err == nil {
		t.Fatal("Create succeeded over an existing object")
	}
	for _, w := range []string{`failed to create resource: configmaps "taken" already exists`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if names(res.Created) != "ConfigMap/first" {
		t.Errorf("created %q, want ConfigMap/first", names(res.Created))
	}
	if e.get(list[2]) != nil {
		t.Error("the kind after the failure was created")
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	list := e.create(`apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
apiVersion: v1
kind: Secret
metadata: {name: b}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
`)
	// b is already gone: skipped, not an error.
	if err := e.typed.CoreV1().Secrets("default").Delete(ctx(t), "b", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	res, errs := e.client.Delete(ctx(t), list, release.DeleteOptions{Propagation: "Foreground"})
	if len(errs) != 0 {
		t.Fatalf("Delete: %v", errs)
	}
	if got := names(res.Deleted); got != "ConfigMap/c ConfigMap/a" {
		t.Errorf("deleted %q, want reverse order without the missing one", got)
	}
	got := e.logs.matching("deleting")
	want := []string{`"c"`, `"b"`, `"a"`}
	if len(got) != 3 {
		t.Fatalf("logged %q", got)
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) || !strings.Contains(got[i], "propagation=Foreground") {
			t.Errorf("deletion %d = %q, want %s with Foreground", i, got[i], w)
		}
	}
	if err := e.client.WaitForDelete(ctx(t), list, 5e9); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteReportsEveryError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	list := e.create("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")
	_, errs := e.client.Delete(ctx(t), list, release.DeleteOptions{Propagation: "Sideways"})
	if len(errs) != 2 {
		t.Fatalf("got %d errors (%v), want 2", len(errs), errs)
	}
	if !strings.Contains(errs[0].Error(), `deleting ConfigMap "b" in namespace "default"`) {
		t.Errorf("first error %q", errs[0])
	}
}

func TestEnsureNamespaceAndGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for range 2 {
		if err := e.client.EnsureNamespace(ctx(t), "made"); err != nil {
			t.Fatal(err)
		}
	}
	ns, err := e.typed.CoreV1().Namespaces().Get(ctx(t), "made", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ns.Labels["name"] != "made" {
		t.Errorf("labels %v, want name=made as Helm sets", ns.Labels)
	}
	list := e.build("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: here, namespace: made}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: missing}\n")
	if _, err := e.client.Create(ctx(t), list[:1]); err != nil {
		t.Fatal(err)
	}
	objs, err := e.client.Get(ctx(t), list)
	if err != nil {
		t.Fatal(err)
	}
	if objs[0] == nil || objs[0].GetUID() == "" || objs[1] != nil {
		t.Errorf("Get = %v, want the live first and nil second", objs)
	}
}
