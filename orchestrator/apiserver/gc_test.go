package apiserver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// waitFor polls cond until it holds, failing the test after ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ownedBy returns an ownerReference to an object.
func ownedBy(apiVersion, kind, name string, uid types.UID) []metav1.OwnerReference {
	return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}
}

// chain builds Deployment name -> ReplicaSet name-rs -> Pod name-pod by
// hand in namespace default; the pod gets podFinalizers.
func chain(t *testing.T, ts *testServer, name string, podFinalizers ...string) (*appsv1.Deployment, *appsv1.ReplicaSet, *corev1.Pod) {
	t.Helper()
	ctx := context.Background()
	d, err := ts.client.AppsV1().Deployments("default").Create(ctx, deployment(name, 1), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-rs", OwnerReferences: ownedBy("apps/v1", "Deployment", d.Name, d.UID)},
		Spec: appsv1.ReplicaSetSpec{
			Selector: d.Spec.Selector,
			Template: d.Spec.Template,
		},
	}
	rs, err = ts.client.AppsV1().ReplicaSets("default").Create(ctx, rs, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-pod", Finalizers: podFinalizers, OwnerReferences: ownedBy("apps/v1", "ReplicaSet", rs.Name, rs.UID)},
		Spec:       d.Spec.Template.Spec,
	}
	pod, err = ts.client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d, rs, pod
}

func TestFinalizers(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "held", Finalizers: []string{"example.com/hold"}}}
	if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "held", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := cms.Get(ctx, "held", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("object with a finalizer removed at once: %v", err)
	}
	if got.DeletionTimestamp == nil || got.DeletionGracePeriodSeconds == nil || *got.DeletionGracePeriodSeconds != 0 {
		t.Fatalf("deletion not marked: %+v", got.ObjectMeta)
	}
	// Deleting again changes nothing.
	if err := cms.Delete(ctx, "held", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	got.Finalizers = append(got.Finalizers, "example.com/more")
	if _, err := cms.Update(ctx, got, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "no new finalizers can be added if the object is being deleted") {
		t.Fatalf("adding a finalizer while deleting: %v", err)
	}
	got.Finalizers = nil
	if _, err := cms.Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Get(ctx, "held", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("emptying the finalizers did not remove the object: %v", err)
	}
}

func TestPropagationPolicies(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	deploys := ts.client.AppsV1().Deployments("default")
	rss := ts.client.AppsV1().ReplicaSets("default")
	pods := ts.client.CoreV1().Pods("default")
	gone := func(get func() error) func() bool {
		return func() bool { return apierrors.IsNotFound(get()) }
	}
	rsGone := func(name string) func() bool {
		return gone(func() error { _, err := rss.Get(ctx, name, metav1.GetOptions{}); return err })
	}
	podGone := func(name string) func() bool {
		return gone(func() error { _, err := pods.Get(ctx, name, metav1.GetOptions{}); return err })
	}

	t.Run("background", func(t *testing.T) {
		d, rs, pod := chain(t, ts, "bg")
		if err := deploys.Delete(ctx, d.Name, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)}); err != nil {
			t.Fatal(err)
		}
		if _, err := deploys.Get(ctx, d.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("owner not deleted at once: %v", err)
		}
		waitFor(t, "the replicaset", rsGone(rs.Name))
		waitFor(t, "the pod", podGone(pod.Name))
	})
	t.Run("default is background", func(t *testing.T) {
		d, rs, pod := chain(t, ts, "def")
		if err := deploys.Delete(ctx, d.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the replicaset", rsGone(rs.Name))
		waitFor(t, "the pod", podGone(pod.Name))
	})
	t.Run("orphan", func(t *testing.T) {
		d, rs, pod := chain(t, ts, "or")
		if err := deploys.Delete(ctx, d.Name, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationOrphan)}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the deployment", gone(func() error { _, err := deploys.Get(ctx, d.Name, metav1.GetOptions{}); return err }))
		got, err := rss.Get(ctx, rs.Name, metav1.GetOptions{})
		if err != nil || len(got.OwnerReferences) != 0 {
			t.Fatalf("replicaset not orphaned: %v %+v", err, got)
		}
		p, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil || len(p.OwnerReferences) != 1 {
			t.Fatalf("pod: %v %+v", err, p)
		}
		time.Sleep(100 * time.Millisecond)
		if _, err := rss.Get(ctx, rs.Name, metav1.GetOptions{}); err != nil {
			t.Fatalf("orphaned replicaset collected: %v", err)
		}
	})
	t.Run("foreground", func(t *testing.T) {
		d, rs, pod := chain(t, ts, "fg", "example.com/hold")
		if err := deploys.Delete(ctx, d.Name, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationForeground)}); err != nil {
			t.Fatal(err)
		}
		got, err := deploys.Get(ctx, d.Name, metav1.GetOptions{})
		if err != nil || got.DeletionTimestamp == nil || len(got.Finalizers) != 1 || got.Finalizers[0] != metav1.FinalizerDeleteDependents {
			t.Fatalf("owner not marked for foreground deletion: %v %+v", err, got)
		}
		waitFor(t, "the pod to be marked", func() bool {
			p, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
			return err == nil && p.DeletionTimestamp != nil
		})
		// The pod holds the chain: owner and replicaset wait for it.
		time.Sleep(100 * time.Millisecond)
		if r, err := rss.Get(ctx, rs.Name, metav1.GetOptions{}); err != nil || r.DeletionTimestamp == nil {
			t.Fatalf("replicaset: %v %+v", err, r)
		}
		if _, err := deploys.Get(ctx, d.Name, metav1.GetOptions{}); err != nil {
			t.Fatalf("owner deleted before its dependents: %v", err)
		}
		waitFor(t, "the pod's finalizer to be removed", func() bool {
			p, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
			if err != nil {
				return false
			}
			p.Finalizers = nil
			_, err = pods.Update(ctx, p, metav1.UpdateOptions{})
			return err == nil
		})
		waitFor(t, "the pod", podGone(pod.Name))
		waitFor(t, "the replicaset", rsGone(rs.Name))
		waitFor(t, "the deployment", gone(func() error { _, err := deploys.Get(ctx, d.Name, metav1.GetOptions{}); return err }))
	})
}

func TestGarbageCollectsOrphans(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")
	owner, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name string, refs []metav1.OwnerReference) {
		t.Helper()
		if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, OwnerReferences: refs}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mk("dangling", ownedBy("v1", "ConfigMap", "ghost", "no-such-uid"))
	mk("owned", ownedBy("v1", "ConfigMap", "owner", owner.UID))
	mk("stale-uid", ownedBy("v1", "ConfigMap", "owner", "old-uid"))
	mk("half", append(ownedBy("v1", "ConfigMap", "owner", owner.UID), ownedBy("v1", "ConfigMap", "ghost", "no-such-uid")...))
	for _, name := range []string{"dangling", "stale-uid"} {
		waitFor(t, name+" to be collected", func() bool {
			_, err := cms.Get(ctx, name, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		})
	}
	waitFor(t, "the dangling reference to be dropped", func() bool {
		h, err := cms.Get(ctx, "half", metav1.GetOptions{})
		return err == nil && len(h.OwnerReferences) == 1 && h.OwnerReferences[0].UID == owner.UID
	})
	if _, err := cms.Get(ctx, "owned", metav1.GetOptions{}); err != nil {
		t.Fatalf("object with a live owner collected: %v", err)
	}
	if err := cms.Delete(ctx, "owner", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"owned", "half"} {
		waitFor(t, name+" to follow its owner", func() bool {
			_, err := cms.Get(ctx, name, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		})
	}
}

func TestNamespaceDeletion(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	nss := ts.client.CoreV1().Namespaces()
	ns, err := nss.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ns.Spec.Finalizers) != 1 || ns.Spec.Finalizers[0] != corev1.FinalizerKubernetes {
		t.Fatalf("spec.finalizers %v", ns.Spec.Finalizers)
	}
	cms := ts.client.CoreV1().ConfigMaps("x")
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "held", Finalizers: []string{"example.com/hold"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.client.AppsV1().Deployments("x").Create(ctx, deployment("d", 1), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.client.CoreV1().ConfigMaps("nope").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, metav1.CreateOptions{}); !apierrors.IsNotFound(err) || err.Error() != `namespaces "nope" not found` {
		t.Fatalf("create in a missing namespace: %v", err)
	}
	if err := nss.Delete(ctx, "x", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := nss.Get(ctx, "x", metav1.GetOptions{})
	if err != nil || got.DeletionTimestamp == nil || got.Status.Phase != corev1.NamespaceTerminating {
		t.Fatalf("namespace not terminating: %v %+v", err, got)
	}
	_, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "late"}}, metav1.CreateOptions{})
	want := `configmaps "late" is forbidden: unable to create new content in namespace x because it is being terminated`
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Fatalf("create in a terminating namespace: %v\nwant %s", err, want)
	}
	waitFor(t, "the deployment", func() bool {
		_, err := ts.client.AppsV1().Deployments("x").Get(ctx, "d", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	held, err := cms.Get(ctx, "held", metav1.GetOptions{})
	if err != nil || held.DeletionTimestamp == nil {
		t.Fatalf("held configmap: %v %+v", err, held)
	}
	if _, err := nss.Get(ctx, "x", metav1.GetOptions{}); err != nil {
		t.Fatalf("namespace went before its content: %v", err)
	}
	held.Finalizers = nil
	if _, err := cms.Update(ctx, held, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the namespace", func() bool {
		_, err := nss.Get(ctx, "x", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
}

func TestKubectlDeleteNamespace(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real kubectl; skipped with -short")
	}
	if _, err := os.Stat(kubectlPath); err != nil {
		if os.Getenv("PKG_REQUIRE_KUBECTL") == "1" {
			t.Fatalf("kubectl not found at %s: %v", kubectlPath, err)
		}
		t.Skipf("kubectl not found at %s: %v", kubectlPath, err)
	}
	ts := newTestServer(t)
	dir := t.TempDir()
	kubeconfig := "apiVersion: v1\nkind: Config\nclusters:\n- name: pkg\n  cluster:\n    server: " + ts.http.URL +
		"\ncontexts:\n- name: pkg\n  context:\n    cluster: pkg\n    namespace: default\ncurrent-context: pkg\n"
	if err := os.WriteFile(filepath.Join(dir, "kubeconfig"), []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		args []string
		want string
		fail bool
	}{
		{[]string{"create", "namespace", "x"}, "namespace/x created", false},
		{[]string{"-n", "x", "create", "configmap", "c", "--from-literal=a=b"}, "configmap/c created", false},
		{[]string{"-n", "x", "create", "deployment", "d", "--image=nginx"}, "deployment.apps/d created", false},
		{[]string{"-n", "x", "create", "service", "nodeport", "web", "--tcp=80:8080"}, "service/web created", false},
		{[]string{"get", "svc", "kubernetes"}, "10.96.0.1", false},
		{[]string{"delete", "ns", "x"}, `namespace "x" deleted`, false},
		{[]string{"create", "deployment", "fg", "--image=nginx"}, "deployment.apps/fg created", false},
		{[]string{"delete", "deployment", "fg", "--cascade=foreground"}, `deployment.apps "fg" deleted`, false},
		{[]string{"create", "deployment", "or", "--image=nginx"}, "deployment.apps/or created", false},
		{[]string{"delete", "deployment", "or", "--cascade=orphan"}, `deployment.apps "or" deleted`, false},
		{[]string{"get", "deploy"}, "No resources found", false},
		{[]string{"create", "configmap", "held"}, "configmap/held created", false},
		{[]string{"patch", "configmap", "held", "--type=merge", "-p", `{"metadata":{"finalizers":["example.com/hold"]}}`}, "configmap/held patched", false},
		{[]string{"delete", "configmap", "held", "--wait=false"}, `configmap "held" deleted`, false},
		{[]string{"get", "configmap", "held", "-o", "jsonpath={.metadata.deletionTimestamp}"}, "T", false},
		{[]string{"patch", "configmap", "held", "--type=merge", "-p", `{"metadata":{"finalizers":null}}`}, "configmap/held patched", false},
		{[]string{"get", "configmap", "held"}, `Error from server (NotFound): configmaps "held" not found`, true},
		{[]string{"get", "ns", "x"}, `Error from server (NotFound): namespaces "x" not found`, true},
		{[]string{"-n", "x", "get", "cm", "c"}, `Error from server (NotFound)`, true},
	}
	for _, st := range steps {
		out, err := ts.kubectl(t, dir, st.args...)
		if (err != nil) != st.fail || !strings.Contains(out, st.want) {
			t.Fatalf("kubectl %s: %v\n%s\nwant %q", strings.Join(st.args, " "), err, out, st.want)
		}
	}
}

func TestDeleteOptionsValidation(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err := cms.Delete(ctx, "a", metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletionPropagation("Sideways"))})
	want := `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil"`
	if !apierrors.IsInvalid(err) || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if _, err := cms.Get(ctx, "a", metav1.GetOptions{}); err != nil {
		t.Fatalf("refused delete removed the object: %v", err)
	}
}
