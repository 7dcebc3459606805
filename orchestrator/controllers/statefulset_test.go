package controllers

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/kube"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	cliresource "k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes"
)

var stsControllers = Options{Controllers: []string{StatefulSetController}}

func newStatefulSet(name string, replicas int32) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr(replicas),
			ServiceName: name,
			Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template:    podTemplate(name, "db:1"),
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}},
		},
	}
}

func getSTS(t *testing.T, client kubernetes.Interface, ns, name string) *appsv1.StatefulSet {
	t.Helper()
	s, err := client.AppsV1().StatefulSets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func podNames(t *testing.T, client kubernetes.Interface, ns, selector string) []string {
	t.Helper()
	var out []string
	for _, p := range listPods(t, client, ns, selector) {
		out = append(out, p.Name)
	}
	slices.Sort(out)
	return out
}

func helmSTSReady(t *testing.T, client kubernetes.Interface, ns, name string) bool {
	t.Helper()
	rc := kube.NewReadyChecker(client, nil)
	ok, err := rc.IsReady(context.Background(), &cliresource.Info{Name: name, Namespace: ns, Object: &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}})
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestStatefulSetOrderedWithClaims(t *testing.T) {
	t.Parallel()
	client, ns := start(t, stsControllers)
	ctx := context.Background()
	if _, err := client.AppsV1().StatefulSets(ns).Create(ctx, newStatefulSet("db", 3), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	k := newKubelet(client, ns)
	for i := range 3 {
		name := fmt.Sprintf("db-%d", i)
		eventually(t, 5*time.Second, name, func() (bool, error) {
			return slices.Equal(podNames(t, client, ns, "app=db"), []string{"db-0", "db-1", "db-2"}[:i+1]), nil
		})
		if helmSTSReady(t, client, ns, "db") {
			t.Fatalf("helm ready with %d of 3 pods ready", i)
		}
		p, err := client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Spec.Hostname != name || p.Spec.Subdomain != "db" || p.Labels[stsPodNameLabel] != name || p.Labels[stsPodIndexLabel] != fmt.Sprint(i) ||
			len(p.Spec.Volumes) != 1 || p.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "data-"+name {
			t.Errorf("pod %s: hostname %q subdomain %q labels %v volumes %+v", name, p.Spec.Hostname, p.Spec.Subdomain, p.Labels, p.Spec.Volumes)
		}
		if _, err := client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-"+name, metav1.GetOptions{}); err != nil {
			t.Errorf("claim of %s: %v", name, err)
		}
		time.Sleep(50 * time.Millisecond)
		if n := len(podNames(t, client, ns, "app=db")); n != i+1 {
			t.Fatalf("%d pods before %s is ready", n, name)
		}
		k.ready(t, name, true)
	}
	eventually(t, 5*time.Second, "helm ready", func() (bool, error) { return helmSTSReady(t, client, ns, "db"), nil })
	s := getSTS(t, client, ns, "db").Status
	if s.Replicas != 3 || s.ReadyReplicas != 3 || s.AvailableReplicas != 3 || s.CurrentRevision == "" || s.CurrentRevision != s.UpdateRevision || s.UpdatedReplicas != 3 || s.CurrentReplicas != 3 {
		t.Errorf("status %+v", s)
	}

	// A deleted Pod comes back under its name, on its claim.
	pvc, err := client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-db-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	old, err := client.CoreV1().Pods(ns).Get(ctx, "db-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.CoreV1().Pods(ns).Delete(ctx, "db-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "db-1 again", func() (bool, error) {
		p, err := client.CoreV1().Pods(ns).Get(ctx, "db-1", metav1.GetOptions{})
		return err == nil && p.UID != old.UID, nil
	})
	again, err := client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-db-1", metav1.GetOptions{})
	if err != nil || again.UID != pvc.UID {
		t.Errorf("claim of db-1 replaced: %v", err)
	}
	k.ready(t, "db-1", true)

	// Scaling down removes the highest ordinals first and keeps claims.
	// The bundled server has answered a watch without resourceVersion
	// with "Too large resource version" under concurrent writes: retry.
	var w watch.Interface
	eventually(t, 5*time.Second, "a pod watch", func() (bool, error) {
		var err error
		w, err = client.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{LabelSelector: "app=db"})
		return err == nil, err
	})
	defer w.Stop()
	eventually(t, 5*time.Second, "scaling to 1", func() (bool, error) {
		set := getSTS(t, client, ns, "db")
		set.Spec.Replicas = ptr(int32(1))
		_, err := client.AppsV1().StatefulSets(ns).Update(ctx, set, metav1.UpdateOptions{})
		return err == nil, err
	})
	var deleted []string
	timeout := time.After(5 * time.Second)
	for len(deleted) < 2 {
		select {
		case ev := <-w.ResultChan():
			if ev.Type == watch.Deleted {
				deleted = append(deleted, ev.Object.(*corev1.Pod).Name)
			}
		case <-timeout:
			t.Fatalf("deleted only %v", deleted)
		}
	}
	if !slices.Equal(deleted, []string{"db-2", "db-1"}) {
		t.Errorf("deletion order %v, want db-2 then db-1", deleted)
	}
	for _, n := range []string{"data-db-1", "data-db-2"} {
		if _, err := client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, n, metav1.GetOptions{}); err != nil {
			t.Errorf("claim %s after scale down: %v", n, err)
		}
	}
}

func TestStatefulSetRollingUpdateWithPartitionAndUndo(t *testing.T) {
	t.Parallel()
	client, ns := start(t, stsControllers)
	ctx := context.Background()
	set := newStatefulSet("db", 3)
	set.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
		RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(1))}}
	if _, err := client.AppsV1().StatefulSets(ns).Create(ctx, set, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	k := newKubelet(client, ns)
	k.auto(t, 10*time.Millisecond)
	eventually(t, 10*time.Second, "3 ready", func() (bool, error) {
		return getSTS(t, client, ns, "db").Status.ReadyReplicas == 3, nil
	})
	rev1 := getSTS(t, client, ns, "db").Status.CurrentRevision
	image := func(name string) string {
		p, err := client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return ""
		}
		return p.Spec.Containers[0].Image
	}
	eventually(t, 5*time.Second, "new image", func() (bool, error) {
		s := getSTS(t, client, ns, "db")
		s.Spec.Template.Spec.Containers[0].Image = "db:2"
		_, err := client.AppsV1().StatefulSets(ns).Update(ctx, s, metav1.UpdateOptions{})
		return err == nil, err
	})
	eventually(t, 10*time.Second, "partitioned rollout", func() (bool, error) {
		s := getSTS(t, client, ns, "db").Status
		return image("db-2") == "db:2" && image("db-1") == "db:2" && s.UpdatedReplicas == 2 && s.ReadyReplicas == 3, nil
	})
	time.Sleep(100 * time.Millisecond)
	if image("db-0") != "db:1" {
		t.Errorf("db-0 below the partition was updated")
	}
	s := getSTS(t, client, ns, "db")
	if s.Status.CurrentRevision != rev1 || s.Status.UpdateRevision == rev1 {
		t.Errorf("revisions current %s update %s", s.Status.CurrentRevision, s.Status.UpdateRevision)
	}
	if !helmSTSReady(t, client, ns, "db") {
		t.Error("helm not ready once the partitioned rollout is done")
	}
	eventually(t, 5*time.Second, "partition 0", func() (bool, error) {
		s := getSTS(t, client, ns, "db")
		s.Spec.UpdateStrategy.RollingUpdate.Partition = ptr(int32(0))
		_, err := client.AppsV1().StatefulSets(ns).Update(ctx, s, metav1.UpdateOptions{})
		return err == nil, err
	})
	eventually(t, 10*time.Second, "full rollout", func() (bool, error) {
		s := getSTS(t, client, ns, "db").Status
		return image("db-0") == "db:2" && s.CurrentRevision == s.UpdateRevision && s.UpdatedReplicas == 3 && s.ReadyReplicas == 3, nil
	})
	rev2 := getSTS(t, client, ns, "db").Status.CurrentRevision

	// kubectl rollout undo applies the previous revision's data as a
	// strategic merge patch; the old revision comes back renumbered.
	r1, err := client.AppsV1().ControllerRevisions(ns).Get(ctx, rev1, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.AppsV1().StatefulSets(ns).Patch(ctx, "db", types.StrategicMergePatchType, r1.Data.Raw, metav1.PatchOptions{}); err != nil {
		t.Fatalf("rollout undo: %v", err)
	}
	eventually(t, 10*time.Second, "rolled back", func() (bool, error) {
		s := getSTS(t, client, ns, "db").Status
		return s.CurrentRevision == rev1 && s.UpdateRevision == rev1 && image("db-0") == "db:1" && s.ReadyReplicas == 3, nil
	})
	r1, err = client.AppsV1().ControllerRevisions(ns).Get(ctx, rev1, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := client.AppsV1().ControllerRevisions(ns).Get(ctx, rev2, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r1.Revision != 3 || r2.Revision != 2 {
		t.Errorf("revision numbers %d and %d, want 3 and 2", r1.Revision, r2.Revision)
	}
}

func TestStatefulSetParallelOnDeleteAndRetention(t *testing.T) {
	t.Parallel()
	client, ns := start(t, stsControllers)
	ctx := context.Background()
	set := newStatefulSet("cache", 3)
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	set.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	set.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
		WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
		WhenScaled:  appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
	}
	if _, err := client.AppsV1().StatefulSets(ns).Create(ctx, set, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Parallel: all three at once, none ready.
	eventually(t, 5*time.Second, "3 pods at once", func() (bool, error) {
		return len(podNames(t, client, ns, "app=cache")) == 3, nil
	})
	k := newKubelet(client, ns)
	k.auto(t, 0)
	eventually(t, 5*time.Second, "new image", func() (bool, error) {
		s := getSTS(t, client, ns, "cache")
		s.Spec.Template.Spec.Containers[0].Image = "db:2"
		_, err := client.AppsV1().StatefulSets(ns).Update(ctx, s, metav1.UpdateOptions{})
		return err == nil, err
	})
	time.Sleep(200 * time.Millisecond)
	for _, p := range listPods(t, client, ns, "app=cache") {
		if p.Spec.Containers[0].Image != "db:1" {
			t.Errorf("OnDelete updated %s", p.Name)
		}
	}
	if err := client.CoreV1().Pods(ns).Delete(ctx, "cache-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "cache-1 on the new template", func() (bool, error) {
		p, err := client.CoreV1().Pods(ns).Get(ctx, "cache-1", metav1.GetOptions{})
		return err == nil && p.Spec.Containers[0].Image == "db:2", nil
	})
	eventually(t, 5*time.Second, "scale to 1", func() (bool, error) {
		s := getSTS(t, client, ns, "cache")
		s.Spec.Replicas = ptr(int32(1))
		_, err := client.AppsV1().StatefulSets(ns).Update(ctx, s, metav1.UpdateOptions{})
		return err == nil, err
	})
	eventually(t, 5*time.Second, "scaled down with claims deleted", func() (bool, error) {
		_, e1 := client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-cache-1", metav1.GetOptions{})
		_, e2 := client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-cache-2", metav1.GetOptions{})
		return slices.Equal(podNames(t, client, ns, "app=cache"), []string{"cache-0"}) && apierrors.IsNotFound(e1) && apierrors.IsNotFound(e2), nil
	})
	if _, err := client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-cache-0", metav1.GetOptions{}); err != nil {
		t.Errorf("claim of cache-0: %v", err)
	}
}
