package storage

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testbuild"
	"pkg.dev/pkg/internal/testcluster"
	"pkg.dev/pkg/orchestrator/controllers"
	"pkg.dev/pkg/orchestrator/node"
	"pkg.dev/pkg/orchestrator/runtime"
	"pkg.dev/pkg/orchestrator/scheduler"
)

// TestMain removes the test program the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	testbuild.Cleanup()
	os.Exit(code)
}

// testappImages serves every image as a root filesystem holding the
// static test program (testdata/testapp) as its entrypoint.
type testappImages struct{}

func (testappImages) Prepare(_ context.Context, _ string, _ corev1.PullPolicy, _ [][]byte, dir string) (node.ImageConfig, error) {
	appPath, err := testbuild.Program("testdata/testapp")
	if err != nil {
		return node.ImageConfig{}, err
	}
	bin, err := os.ReadFile(appPath)
	if err != nil {
		return node.ImageConfig{}, err
	}
	for _, d := range []string{"etc", "tmp", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return node.ImageConfig{}, err
		}
	}
	return node.ImageConfig{Entrypoint: []string{"/testapp"}}, os.WriteFile(filepath.Join(dir, "testapp"), bin, 0o755)
}

// TestStatefulSetKeepsItsDataOnProvisionedVolumes runs the whole chain
// with real runc containers: the StatefulSet controller makes a claim
// from its template, the scheduler places the Pod, this controller
// provisions the claim on the Pod's node (WaitForFirstConsumer, the
// default class), the node agent mounts the volume, and the container
// writes to it. Deleted, the Pod comes back on the same claim and finds
// its data. A Pod whose claim does not exist waits in ContainerCreating
// with a FailedMount Event naming it, and starts once the claim is made.
func TestStatefulSetKeepsItsDataOnProvisionedVolumes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs containers with runc")
	}
	dir := t.TempDir()
	drv, err := runtime.NewRuncDriver(filepath.Join(dir, "runc"), "", nil)
	if err != nil {
		if os.Getenv("PKG_REQUIRE_RUNC") == "1" {
			t.Fatalf("runc is required here: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	tc := testcluster.Start(t)
	cs := kubernetes.NewForConfigOrDie(tc.Config)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	run := func(f func(context.Context) error) {
		wg.Add(1)
		go func() { defer wg.Done(); _ = f(ctx) }()
	}
	if err := EnsureDefaultClass(ctx, cs); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("PKG_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	volumes := filepath.Join(dir, "volumes")
	run((&Controller{Client: cs, Dir: volumes, Log: log}).Run)
	run(func(ctx context.Context) error {
		return controllers.Run(ctx, tc.Config, controllers.Options{Controllers: []string{controllers.StatefulSetController}, Logger: log})
	})
	run(scheduler.New(cs, scheduler.Options{Log: log}).Run)
	run((&node.Agent{Config: node.Config{Name: "n1", CPU: resource.MustParse("2"), Memory: resource.MustParse("4Gi"), Pods: 110}, Client: cs, Log: log}).Run)
	run((&node.PodRunner{Node: "n1", Client: cs, Runtime: drv, Images: testappImages{}, Dir: filepath.Join(dir, "node"), BackoffBase: 200 * time.Millisecond, Log: log}).Run)

	one := int32(1)
	labels := map[string]string{"app": "db"}
	set := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: appsv1.StatefulSetSpec{
			Replicas: &one, ServiceName: "db",
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "db", Image: "testapp:1", Args: []string{"-append", "/data/starts", "-sleep", "1h"},
					VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
				}}},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}},
		},
	}
	if _, err := cs.AppsV1().StatefulSets("default").Create(ctx, set, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	running := func(name string, not *corev1.Pod) *corev1.Pod {
		t.Helper()
		var last *corev1.Pod
		for {
			p, err := cs.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
			if err == nil && p.Status.Phase == corev1.PodRunning && (not == nil || p.UID != not.UID) {
				return p
			}
			if err == nil {
				last = p
			}
			if ctx.Err() != nil {
				t.Fatalf("pod %s never Running: %v; last seen %+v", name, err, last)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	starts := func(want string) {
		t.Helper()
		pvc := waitClaim(t, ctx, cs, "data-db-0", "Bound", bound)
		path := filepath.Join(volumes, pvc.Spec.VolumeName, "starts")
		for {
			b, err := os.ReadFile(path)
			if string(b) == want {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("%s = %q, %v; want %q", path, b, err, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	first := running("db-0", nil)
	pvc := waitClaim(t, ctx, cs, "data-db-0", "Bound", bound)
	if pvc.Annotations[AnnSelectedNode] != "n1" {
		t.Errorf("claim's selected node %q, want n1", pvc.Annotations[AnnSelectedNode])
	}
	starts("db-0\n")
	if err := cs.CoreV1().Pods("default").Delete(ctx, "db-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	running("db-0", first)
	// The first Pod stopped gracefully (SIGTERM) before its successor
	// started on the same volume.
	starts("db-0\nterminated\ndb-0\n")
	again := waitClaim(t, ctx, cs, "data-db-0", "Bound", bound)
	if again.UID != pvc.UID || again.Spec.VolumeName != pvc.Spec.VolumeName {
		t.Errorf("the Pod came back on another claim or volume: %s/%s, was %s/%s", again.UID, again.Spec.VolumeName, pvc.UID, pvc.Spec.VolumeName)
	}

	// A Pod whose claim is missing waits, saying why: the scheduler does
	// not place it, and the node agent does not start one bound to its
	// node directly.
	for _, name := range []string{"unplaced", "orphan"} {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "c", Image: "testapp:1", Args: []string{"-append", "/data/starts", "-sleep", "1h"},
					VolumeMounts: []corev1.VolumeMount{{Name: "d", MountPath: "/data"}}}},
				Volumes: []corev1.Volume{{Name: "d", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "later"}}}},
			},
		}
		if name == "orphan" {
			pod.Spec.NodeName = "n1"
		}
		if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for {
		p, _ := cs.CoreV1().Pods("default").Get(ctx, "unplaced", metav1.GetOptions{})
		done := false
		for _, c := range p.Status.Conditions {
			done = done || (c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse &&
				c.Message == `0/1 nodes are available: persistentvolumeclaim "later" not found.`)
		}
		if done {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the scheduler placed a Pod whose claim is missing, or did not say why: %+v", p.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		evs, _ := cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=orphan"})
		found := false
		for _, e := range evs.Items {
			found = found || (e.Reason == "FailedMount" && strings.Contains(e.Message, `persistentvolumeclaim "later" not found`))
		}
		p, _ := cs.CoreV1().Pods("default").Get(ctx, "orphan", metav1.GetOptions{})
		if found && p.Status.Phase == corev1.PodPending && len(p.Status.ContainerStatuses) == 1 &&
			p.Status.ContainerStatuses[0].State.Waiting != nil && p.Status.ContainerStatuses[0].State.Waiting.Reason == "ContainerCreating" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no FailedMount event or not ContainerCreating: %+v %+v", evs.Items, p.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := cs.CoreV1().PersistentVolumeClaims("default").Create(ctx, claim("later", "-", "1Gi"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	running("orphan", nil)
	running("unplaced", nil)
	later := waitClaim(t, ctx, cs, "later", "Bound", bound)
	for {
		b, err := os.ReadFile(filepath.Join(volumes, later.Spec.VolumeName, "starts"))
		if lines := strings.Fields(string(b)); len(lines) == 2 && slices.Contains(lines, "orphan") && slices.Contains(lines, "unplaced") {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the late claim's volume holds %q, %v; want a line from each Pod", b, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
