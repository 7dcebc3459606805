package storage

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testcluster"
)

// startController serves an API server, creates the default class and
// runs the controller until the test ends.
func startController(t *testing.T) (kubernetes.Interface, string, context.Context) {
	t.Helper()
	cs, dir, ctx, _ := startControllerKube(t)
	return cs, dir, ctx
}

// startControllerKube is startController that also returns the path of
// a kubeconfig for the real kubectl.
func startControllerKube(t *testing.T) (kubernetes.Interface, string, context.Context, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts an API server")
	}
	tc := testcluster.Start(t)
	cs := kubernetes.NewForConfigOrDie(tc.Config)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	dir := t.TempDir()
	if err := EnsureDefaultClass(ctx, cs); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	c := &Controller{Client: cs, Dir: dir}
	go func() {
		if err := c.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return cs, dir, ctx, tc.Kubeconfig
}

func claim(name, class string, size string, modes ...corev1.PersistentVolumeAccessMode) *corev1.PersistentVolumeClaim {
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: modes,
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
		},
	}
	if class != "-" {
		pvc.Spec.StorageClassName = &class
	}
	return pvc
}

func waitClaim(t *testing.T, ctx context.Context, cs kubernetes.Interface, name, what string, ok func(*corev1.PersistentVolumeClaim) bool) *corev1.PersistentVolumeClaim {
	t.Helper()
	for {
		pvc, err := cs.CoreV1().PersistentVolumeClaims("default").Get(ctx, name, metav1.GetOptions{})
		if err == nil && ok(pvc) {
			return pvc
		}
		if ctx.Err() != nil {
			t.Fatalf("timed out waiting for claim %s %s: %+v", name, what, pvc)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func bound(pvc *corev1.PersistentVolumeClaim) bool {
	return pvc.Status.Phase == corev1.ClaimBound && pvc.Spec.VolumeName != ""
}

func hasEvent(ctx context.Context, cs kubernetes.Interface, name, reason string) bool {
	evs, err := cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		return false
	}
	for _, e := range evs.Items {
		if e.InvolvedObject.Name == name && e.Reason == reason {
			return true
		}
	}
	return false
}

// TestDefaultClassImmediateProvisioningAndReclaim: the default class
// exists and is annotated as the default; a claim without a class gets
// it; a claim of an Immediate class is provisioned and bound at once
// with Kubernetes' annotations on both sides and its directory made;
// deleting it deletes the volume and the directory under Delete, and
// keeps both (Released) under Retain.
func TestDefaultClassImmediateProvisioningAndReclaim(t *testing.T) {
	t.Parallel()
	cs, dir, ctx, kubeconfig := startControllerKube(t)
	sc, err := cs.StorageV1().StorageClasses().Get(ctx, DefaultClassName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Annotations[AnnDefaultClass] != "true" || sc.Provisioner != ProvisionerName || *sc.VolumeBindingMode != storagev1.VolumeBindingWaitForFirstConsumer {
		t.Errorf("default class %+v", sc)
	}
	if err := EnsureDefaultClass(ctx, cs); err != nil {
		t.Errorf("EnsureDefaultClass twice: %v", err)
	}
	if _, err := exec.LookPath("kubectl"); err == nil {
		out, err := exec.CommandContext(ctx, "kubectl", "--kubeconfig", kubeconfig, "get", "storageclass").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "pkg-local (default)") || !strings.Contains(string(out), "WaitForFirstConsumer") {
			t.Errorf("kubectl get storageclass: %v\n%s", err, out)
		}
	}
	immediate := storagev1.VolumeBindingImmediate
	for name, policy := range map[string]corev1.PersistentVolumeReclaimPolicy{"now-delete": corev1.PersistentVolumeReclaimDelete, "now-retain": corev1.PersistentVolumeReclaimRetain} {
		p := policy
		if _, err := cs.StorageV1().StorageClasses().Create(ctx, &storagev1.StorageClass{
			ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: ProvisionerName, ReclaimPolicy: &p, VolumeBindingMode: &immediate,
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// No class: the default one is assigned, and the claim waits for a
	// consumer.
	if _, err := cs.CoreV1().PersistentVolumeClaims("default").Create(ctx, claim("plain", "-", "1Gi"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitClaim(t, ctx, cs, "plain", "gets the default class", func(p *corev1.PersistentVolumeClaim) bool {
		return p.Spec.StorageClassName != nil && *p.Spec.StorageClassName == DefaultClassName
	})
	for !hasEvent(ctx, cs, "plain", "WaitForFirstConsumer") {
		if ctx.Err() != nil {
			t.Fatal("no WaitForFirstConsumer event")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if p, _ := cs.CoreV1().PersistentVolumeClaims("default").Get(ctx, "plain", metav1.GetOptions{}); p.Status.Phase == corev1.ClaimBound {
		t.Errorf("a WaitForFirstConsumer claim without a Pod was bound")
	}

	for _, tc := range []struct {
		class string
		keep  bool
	}{{"now-delete", false}, {"now-retain", true}} {
		name := "data-" + tc.class
		if _, err := cs.CoreV1().PersistentVolumeClaims("default").Create(ctx, claim(name, tc.class, "2Gi"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		pvc := waitClaim(t, ctx, cs, name, "Bound", bound)
		if _, err := exec.LookPath("kubectl"); err == nil {
			out, err := exec.CommandContext(ctx, "kubectl", "--kubeconfig", kubeconfig, "get", "pvc", name, "--no-headers").CombinedOutput()
			if f := strings.Fields(string(out)); err != nil || len(f) < 6 || f[1] != "Bound" || f[2] != pvc.Spec.VolumeName || f[3] != "2Gi" || f[4] != "RWO" || f[5] != tc.class {
				t.Errorf("kubectl get pvc %s: %v\n%s", name, err, out)
			}
		}
		if pvc.Annotations[AnnBindCompleted] != "yes" || pvc.Annotations[AnnBoundByController] != "yes" || pvc.Annotations[AnnStorageProvisioner] != ProvisionerName {
			t.Errorf("%s: claim annotations %v", name, pvc.Annotations)
		}
		if q := pvc.Status.Capacity[corev1.ResourceStorage]; q.String() != "2Gi" || len(pvc.Status.AccessModes) != 1 {
			t.Errorf("%s: claim status %+v", name, pvc.Status)
		}
		pv, err := cs.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if pv.Name != "pvc-"+string(pvc.UID) || pv.Spec.ClaimRef == nil || pv.Spec.ClaimRef.UID != pvc.UID || pv.Annotations[AnnProvisionedBy] != ProvisionerName {
			t.Errorf("%s: volume %+v", name, pv.ObjectMeta)
		}
		for pv.Status.Phase != corev1.VolumeBound {
			time.Sleep(20 * time.Millisecond)
			if pv, err = cs.CoreV1().PersistentVolumes().Get(ctx, pv.Name, metav1.GetOptions{}); err != nil || ctx.Err() != nil {
				t.Fatalf("%s: volume never Bound: %v", name, err)
			}
		}
		path := filepath.Join(dir, pv.Name)
		if pv.Spec.HostPath == nil || pv.Spec.HostPath.Path != path {
			t.Fatalf("%s: volume source %+v, want hostPath %s", name, pv.Spec.PersistentVolumeSource, path)
		}
		if err := os.WriteFile(filepath.Join(path, "f"), []byte("x"), 0o644); err != nil {
			t.Fatalf("%s: the volume's directory: %v", name, err)
		}
		if err := cs.CoreV1().PersistentVolumeClaims("default").Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		for {
			cur, err := cs.CoreV1().PersistentVolumes().Get(ctx, pv.Name, metav1.GetOptions{})
			_, dirErr := os.Stat(filepath.Join(path, "f"))
			if tc.keep && err == nil && cur.Status.Phase == corev1.VolumeReleased {
				if dirErr != nil {
					t.Errorf("%s: Retain lost the data: %v", name, dirErr)
				}
				break
			}
			if !tc.keep && err != nil && os.IsNotExist(dirErr) {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("%s: after the claim's deletion: volume %v %v, data %v", name, cur.Status, err, dirErr)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestStaticVolumesAndWaitForFirstConsumer: a claim binds to the smallest
// static volume of its class that has its access modes and size, never
// to one too small or of another mode; a WaitForFirstConsumer claim is
// provisioned only once a Pod using it is on a node, on that node.
func TestStaticVolumesAndWaitForFirstConsumer(t *testing.T) {
	t.Parallel()
	cs, _, ctx := startController(t)
	static := func(name, size string, modes ...corev1.PersistentVolumeAccessMode) {
		t.Helper()
		_, err := cs.CoreV1().PersistentVolumes().Create(ctx, &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PersistentVolumeSpec{
				Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}, AccessModes: modes,
				StorageClassName:       "manual",
				PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/" + name}},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	static("small", "1Gi", corev1.ReadWriteOnce)
	static("big", "10Gi", corev1.ReadWriteOnce)
	static("fit", "5Gi", corev1.ReadWriteOnce, corev1.ReadOnlyMany)
	static("many", "5Gi", corev1.ReadWriteMany)
	if _, err := cs.CoreV1().PersistentVolumeClaims("default").Create(ctx, claim("want4", "manual", "4Gi"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := waitClaim(t, ctx, cs, "want4", "Bound", bound).Spec.VolumeName; got != "fit" {
		t.Errorf("4Gi RWO claim bound to %s, want fit (the smallest that holds it)", got)
	}
	if _, err := cs.CoreV1().PersistentVolumeClaims("default").Create(ctx, claim("rwx", "manual", "1Gi", corev1.ReadWriteMany), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := waitClaim(t, ctx, cs, "rwx", "Bound", bound).Spec.VolumeName; got != "many" {
		t.Errorf("RWX claim bound to %s, want many", got)
	}
	pv, err := cs.CoreV1().PersistentVolumes().Get(ctx, "fit", metav1.GetOptions{})
	if err != nil || pv.Annotations[AnnBoundByController] != "yes" || pv.Spec.ClaimRef == nil || pv.Spec.ClaimRef.Name != "want4" {
		t.Errorf("static volume after binding: %v %+v", err, pv)
	}
	if _, err := cs.CoreV1().PersistentVolumeClaims("default").Create(ctx, claim("toobig", "manual", "50Gi"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// WaitForFirstConsumer: nothing until a Pod using the claim is on a
	// node.
	if _, err := cs.CoreV1().PersistentVolumeClaims("default").Create(ctx, claim("late", DefaultClassName, "1Gi"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "user", Namespace: "default"},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "c", Image: "x"}},
			Volumes:    []corev1.Volume{{Name: "d", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "late"}}}},
		},
	}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if p, _ := cs.CoreV1().PersistentVolumeClaims("default").Get(ctx, "late", metav1.GetOptions{}); p.Spec.VolumeName != "" || p.Annotations[AnnSelectedNode] != "" {
		t.Fatalf("claim provisioned before its Pod was scheduled: %+v", p)
	}
	if err := cs.CoreV1().Pods("default").Bind(ctx, &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: "user", Namespace: "default"},
		Target:     corev1.ObjectReference{Kind: "Node", Name: "node-7"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	late := waitClaim(t, ctx, cs, "late", "Bound", bound)
	if late.Annotations[AnnSelectedNode] != "node-7" {
		t.Errorf("selected node %q", late.Annotations[AnnSelectedNode])
	}
	pv, err = cs.CoreV1().PersistentVolumes().Get(ctx, late.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if na := pv.Spec.NodeAffinity; na == nil || na.Required == nil || na.Required.NodeSelectorTerms[0].MatchExpressions[0].Values[0] != "node-7" {
		t.Errorf("provisioned volume's node affinity %+v", pv.Spec.NodeAffinity)
	}
	if p, _ := cs.CoreV1().PersistentVolumeClaims("default").Get(ctx, "toobig", metav1.GetOptions{}); p.Status.Phase == corev1.ClaimBound {
		t.Errorf("a 50Gi claim was bound to %s", p.Spec.VolumeName)
	}
	// A static Retain volume of another class with no claim stays
	// Available.
	big, _ := cs.CoreV1().PersistentVolumes().Get(ctx, "big", metav1.GetOptions{})
	if big.Status.Phase != corev1.VolumeAvailable || big.Spec.ClaimRef != nil {
		t.Errorf("unclaimed volume: %+v %+v", big.Status, big.Spec.ClaimRef)
	}
}

// TestClaimInUseIsProtected: a claim carries the pvc-protection
// finalizer; deleted while a Pod uses it, it stays (Terminating) with its
// volume until the Pod is gone, then goes, and its volume with it.
func TestClaimInUseIsProtected(t *testing.T) {
	t.Parallel()
	cs, dir, ctx := startController(t)
	immediate := storagev1.VolumeBindingImmediate
	if _, err := cs.StorageV1().StorageClasses().Create(ctx, &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{Name: "now"}, Provisioner: ProvisionerName, VolumeBindingMode: &immediate,
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().PersistentVolumeClaims("default").Create(ctx, claim("kept", "now", "1Gi"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pvc := waitClaim(t, ctx, cs, "kept", "Bound and protected", func(p *corev1.PersistentVolumeClaim) bool {
		return bound(p) && len(p.Finalizers) == 1 && p.Finalizers[0] == FinalizerPVCProtection
	})
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "user", Namespace: "default"},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "c", Image: "x"}},
			Volumes:    []corev1.Volume{{Name: "d", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "kept"}}}},
		},
	}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().PersistentVolumeClaims("default").Delete(ctx, "kept", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	cur, err := cs.CoreV1().PersistentVolumeClaims("default").Get(ctx, "kept", metav1.GetOptions{})
	if err != nil || cur.DeletionTimestamp == nil {
		t.Fatalf("a claim in use: %v, %+v", err, cur)
	}
	if _, err := os.Stat(filepath.Join(dir, pvc.Spec.VolumeName)); err != nil {
		t.Errorf("the volume of a claim in use went: %v", err)
	}
	if err := cs.CoreV1().Pods("default").Delete(ctx, "user", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := cs.CoreV1().PersistentVolumeClaims("default").Get(ctx, "kept", metav1.GetOptions{})
		_, dirErr := os.Stat(filepath.Join(dir, pvc.Spec.VolumeName))
		if err != nil && os.IsNotExist(dirErr) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("once its Pod went, the claim (%v) or its volume (%v) stayed", err, dirErr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNoDefaultClass: without a default class, a claim without a class
// keeps none and binds to a static volume of no class.
func TestNoDefaultClass(t *testing.T) {
	t.Parallel()
	cs, _, ctx := startController(t)
	if err := cs.StorageV1().StorageClasses().Delete(ctx, DefaultClassName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().PersistentVolumes().Create(ctx, &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "plain"},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/plain"}},
		},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the controller's cache has seen the class go
	if _, err := cs.CoreV1().PersistentVolumeClaims("default").Create(ctx, claim("classless", "-", "1Gi"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pvc := waitClaim(t, ctx, cs, "classless", "Bound", bound)
	if pvc.Spec.VolumeName != "plain" || pvc.Spec.StorageClassName != nil {
		t.Errorf("claim bound to %q with class %v; want plain and no class", pvc.Spec.VolumeName, pvc.Spec.StorageClassName)
	}
}
