package release_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/internal/testcluster"
	"pkg.dev/pkg/release"
	"pkg.dev/pkg/release/kube"
)

// world is one test's cluster and the release actions working on it.
type world struct {
	t        *testing.T
	env      *release.Env
	cs       kubernetes.Interface
	mu       sync.Mutex
	progress []string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	if testing.Short() {
		t.Skip("starts an API server; skipped under -short")
	}
	tc := testcluster.Start(t)
	cs, err := kubernetes.NewForConfig(tc.Config)
	if err != nil {
		t.Fatal(err)
	}
	target, err := kube.New(tc.Config, kube.Options{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, cs: cs}
	w.env = &release.Env{
		Storage: release.NewStorage(release.NewSecretsDriver(cs.CoreV1(), "default", time.Now, nil)),
		Target:  target,
		Locker:  &release.LeaseLocker{Leases: cs.CoordinationV1(), Identity: release.NewIdentity()},
		Progress: func(msg string) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.progress = append(w.progress, msg)
		},
	}
	return w
}

func (w *world) said(sub string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.progress {
		if strings.Contains(p, sub) {
			return true
		}
	}
	return false
}

// chartOf writes a chart named name with the given templates and loads it.
func chartOf(t *testing.T, name string, templates map[string]string) *chart.Chart {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(filepath.Join(dir, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	meta := fmt.Sprintf("apiVersion: v2\nname: %s\nversion: 0.1.0\n", name)
	if err := os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	for n, body := range templates {
		p := filepath.Join(dir, "templates", n)
		if strings.HasPrefix(n, "/") {
			p = filepath.Join(dir, n[1:])
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := chart.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func cm(name string, data string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  v: %q\n", name, data)
}

func ctxT(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func (w *world) configMapExists(name string) bool {
	w.t.Helper()
	_, err := w.cs.CoreV1().ConfigMaps("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		w.t.Fatal(err)
	}
	return err == nil
}

func (w *world) records(name string) int {
	w.t.Helper()
	l, err := w.cs.CoreV1().Secrets("default").List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm,name=" + name})
	if err != nil {
		w.t.Fatal(err)
	}
	return len(l.Items)
}

// history returns "VERSION:STATUS" for each revision.
func (w *world) history(name string) string {
	w.t.Helper()
	h, err := w.env.Storage.History(context.Background(), name)
	if errors.Is(err, release.ErrNotFound) {
		return ""
	}
	if err != nil {
		w.t.Fatal(err)
	}
	var parts []string
	for _, r := range h {
		parts = append(parts, fmt.Sprintf("%d:%s", r.Version, r.Info.Status))
	}
	return strings.Join(parts, " ")
}

func install(name string) release.InstallOptions {
	return release.InstallOptions{Name: name, Namespace: "default", ApplyOptions: release.ApplyOptions{Timeout: 10 * time.Second}}
}

func upgrade(name string) release.UpgradeOptions {
	return release.UpgradeOptions{Name: name, Namespace: "default", ApplyOptions: release.ApplyOptions{Timeout: 10 * time.Second}}
}

// TestBadInputAppliesNothing: an invalid name, a chart that fails to
// render and values that fail the schema leave no record and no resource.
func TestBadInputAppliesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	good := chartOf(t, "good", map[string]string{"cm.yaml": cm("good", "1")})
	broken := chartOf(t, "broken", map[string]string{"cm.yaml": cm("broken", "1"), "bad.yaml": "{{ .Values.missing.field }}"})
	schema := chartOf(t, "schema", map[string]string{
		"cm.yaml":             cm("schema", "{{ .Values.replicas }}"),
		"/values.yaml":        "replicas: 1\n",
		"/values.schema.json": `{"type":"object","properties":{"replicas":{"type":"integer"}}}`,
	})
	cases := []struct {
		name string
		c    *chart.Chart
		rel  string
		vals map[string]any
		want string
	}{
		{"invalid name", good, "Bad_Name", nil, `release name "Bad_Name": invalid release name`},
		{"too long", good, strings.Repeat("a", 54), nil, "invalid release name"},
		{"render error", broken, "broken", nil, "bad.yaml:1:10: executing"},
		{"schema", schema, "schema", map[string]any{"replicas": "many"}, "values don't meet the specifications of the schema"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.env.Install(ctxT(t), tc.c, tc.vals, install(tc.rel))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if n := w.records(tc.rel); n != 0 {
				t.Errorf("%d release records written", n)
			}
			for _, name := range []string{"good", "broken", "schema"} {
				if w.configMapExists(name) {
					t.Errorf("ConfigMap %s was applied", name)
				}
			}
		})
	}
}

// halfBad is a chart whose second resource the API server refuses.
func halfBad(t *testing.T, name string) *chart.Chart {
	return chartOf(t, name, map[string]string{
		"a.yaml": cm(name+"-ok", "1"),
		"b.yaml": cm("Not_A_Valid_Name", "1"),
	})
}

// TestFailedApply: an install that fails half-way is recorded failed with
// the resource and the API's message; --atomic uninstalls it. An upgrade
// that fails leaves the previous revision deployed and its resources
// serving; --atomic rolls back to it.
func TestFailedApply(t *testing.T) {
	t.Parallel()
	t.Run("install", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		_, err := w.env.Install(ctxT(t), halfBad(t, "half"), nil, install("half"))
		if err == nil || !strings.Contains(err.Error(), `ConfigMap "Not_A_Valid_Name"`) || !strings.Contains(err.Error(), "Invalid value") {
			t.Fatalf("error %v: want the resource and the API's message", err)
		}
		if h := w.history("half"); h != "1:failed" {
			t.Errorf("history %q, want 1:failed", h)
		}
		// An upgrade after a failed first install works.
		if _, err := w.env.Upgrade(ctxT(t), chartOf(t, "half", map[string]string{"a.yaml": cm("half-ok", "2")}), nil, upgrade("half")); err != nil {
			t.Fatalf("upgrade after a failed install: %v", err)
		}
		if h := w.history("half"); h != "1:superseded 2:deployed" { // as Helm records it
			t.Errorf("history %q, want 1:superseded 2:deployed", h)
		}
	})
	t.Run("install atomic", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		o := install("atom")
		o.Atomic = true
		_, err := w.env.Install(ctxT(t), halfBad(t, "atom"), nil, o)
		if err == nil || !strings.Contains(err.Error(), "has been uninstalled due to atomic being set") {
			t.Fatalf("error %v", err)
		}
		if w.configMapExists("atom-ok") || w.records("atom") != 0 {
			t.Errorf("atomic install left resources or records behind")
		}
	})
	for _, atomic := range []bool{false, true} {
		t.Run(fmt.Sprintf("upgrade atomic=%v", atomic), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			v1 := chartOf(t, "up", map[string]string{"a.yaml": cm("up-ok", "1"), "keep.yaml": cm("up-keep", "1")})
			if _, err := w.env.Install(ctxT(t), v1, nil, install("up")); err != nil {
				t.Fatal(err)
			}
			o := upgrade("up")
			o.Atomic = atomic
			_, err := w.env.Upgrade(ctxT(t), halfBad(t, "up"), nil, o)
			if err == nil || !strings.Contains(err.Error(), `ConfigMap "Not_A_Valid_Name"`) {
				t.Fatalf("error %v", err)
			}
			want := "1:deployed 2:failed"
			if atomic {
				want = "1:superseded 2:failed 3:deployed"
			}
			if h := w.history("up"); h != want {
				t.Errorf("history %q, want %q", h, want)
			}
			if !w.configMapExists("up-ok") {
				t.Error("the previous revision's ConfigMap is gone")
			}
			if atomic && !w.configMapExists("up-keep") {
				t.Error("the rollback did not restore up-keep")
			}
		})
	}
}

// TestConcurrentOperationFailsAtOnce: while one command holds a release,
// a second one fails at once with a clear message and changes nothing.
func TestConcurrentOperationFailsAtOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := chartOf(t, "busy", map[string]string{"a.yaml": cm("busy", "1")})
	if _, err := w.env.Install(ctxT(t), c, nil, install("busy")); err != nil {
		t.Fatal(err)
	}
	other := &release.LeaseLocker{Leases: w.cs.CoordinationV1(), Identity: release.NewIdentity()}
	unlock, err := other.Lock(ctxT(t), "default", "busy")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = w.env.Upgrade(ctxT(t), c, map[string]any{"x": 1}, upgrade("busy"))
	if !errors.Is(err, release.ErrInProgress) || !strings.Contains(err.Error(), "held by pkg/") {
		t.Fatalf("error %v, want ErrInProgress naming the holder", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the second command took %v to fail", d)
	}
	if _, err := w.env.Rollback(ctxT(t), release.RollbackOptions{Name: "busy", Namespace: "default"}); !errors.Is(err, release.ErrInProgress) {
		t.Errorf("rollback: %v, want ErrInProgress", err)
	}
	if h := w.history("busy"); h != "1:deployed" {
		t.Errorf("history %q changed", h)
	}
	unlock()
	if _, err := w.env.Upgrade(ctxT(t), c, map[string]any{"x": 1}, upgrade("busy")); err != nil {
		t.Fatalf("upgrade once the lock is free: %v", err)
	}
}

// TestPendingReleaseIsRecovered: a revision left pending-upgrade by a
// command that died (no live lock) is marked failed by the next upgrade,
// which says so and goes on; rollback recovers the same way.
func TestPendingReleaseIsRecovered(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := ctxT(t)
	c := chartOf(t, "stuck", map[string]string{"a.yaml": cm("stuck", "1")})
	if _, err := w.env.Install(ctx, c, nil, install("stuck")); err != nil {
		t.Fatal(err)
	}
	leave := func(status release.Status) {
		last, err := w.env.Storage.Last(ctx, "stuck")
		if err != nil {
			t.Fatal(err)
		}
		next := *last
		info := *last.Info
		next.Info = &info
		next.Version = last.Version + 1
		next.Info.Status = status
		if err := w.env.Storage.Create(ctx, &next); err != nil {
			t.Fatal(err)
		}
	}
	leave(release.StatusPendingUpgrade)
	if _, err := w.env.Upgrade(ctx, c, map[string]any{"x": 2}, upgrade("stuck")); err != nil {
		t.Fatalf("upgrade over a pending revision: %v", err)
	}
	if h := w.history("stuck"); h != "1:superseded 2:failed 3:deployed" {
		t.Errorf("history %q", h)
	}
	if !w.said("revision 2 was left pending-upgrade") {
		t.Errorf("the recovery was not reported: %q", w.progress)
	}
	leave(release.StatusPendingRollback)
	if _, err := w.env.Rollback(ctx, release.RollbackOptions{Name: "stuck", Namespace: "default", Revision: 3}); err != nil {
		t.Fatalf("rollback over a pending revision: %v", err)
	}
	if h := w.history("stuck"); h != "1:superseded 2:failed 3:superseded 4:failed 5:deployed" {
		t.Errorf("history %q", h)
	}
}

// TestHistoryMaxKeepsDeployed: pruning never deletes the deployed
// revision.
func TestHistoryMaxKeepsDeployed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := ctxT(t)
	w.env.Storage.MaxHistory = 3
	c := chartOf(t, "many", map[string]string{"a.yaml": cm("many", "{{ .Values.v }}"), "/values.yaml": "v: 0\n"})
	if _, err := w.env.Install(ctx, c, nil, install("many")); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		if _, err := w.env.Upgrade(ctx, c, map[string]any{"v": i}, upgrade("many")); err != nil {
			t.Fatal(err)
		}
	}
	if h := w.history("many"); h != "3:superseded 4:superseded 5:deployed" {
		t.Errorf("history %q", h)
	}
	// Failed upgrades pile up; the deployed revision stays.
	for i := 0; i < 3; i++ {
		if _, err := w.env.Upgrade(ctx, halfBad(t, "many"), nil, upgrade("many")); err == nil {
			t.Fatal("upgrade succeeded")
		}
	}
	if h := w.history("many"); h != "5:deployed 7:failed 8:failed" {
		t.Errorf("history %q, want the deployed revision kept", h)
	}
}

// TestWaitTimesOutNamingWhatIsNotReady: with --wait and no controller to
// roll out a Deployment, the install fails when the timeout passes, names
// the Deployment and why, and reports progress while it waits.
func TestWaitTimesOutNamingWhatIsNotReady(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := chartOf(t, "waity", map[string]string{"d.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: busybox
`})
	o := install("waity")
	o.Wait = true
	o.Timeout = 2500 * time.Millisecond
	_, err := w.env.Install(ctxT(t), c, nil, o)
	if err == nil || !strings.Contains(err.Error(), `Deployment "web"`) {
		t.Fatalf("error %v, want it to name the Deployment", err)
	}
	if h := w.history("waity"); h != "1:failed" {
		t.Errorf("history %q", h)
	}
	if !w.said(`waiting for Deployment "web"`) {
		t.Errorf("no progress while waiting: %q", w.progress)
	}
}

// TestInterruptedOperationsAreRecordedFailed: an operation whose context
// ends while it waits (Ctrl-C, SIGTERM) still records its revision as
// failed, and --atomic still rolls back, as Helm does; nothing is left
// pending.
func TestInterruptedOperationsAreRecordedFailed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	plain := chartOf(t, "intr", map[string]string{"cm.yaml": cm("intr-a", "1")})
	never := chartOf(t, "intr", map[string]string{"cm.yaml": cm("intr-a", "2"), "d.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: intr-web
spec:
  replicas: 1
  selector:
    matchLabels: {app: intr-web}
  template:
    metadata:
      labels: {app: intr-web}
    spec:
      containers:
        - name: web
          image: busybox
`})
	if _, err := w.env.Install(ctxT(t), plain, nil, install("intr")); err != nil {
		t.Fatal(err)
	}
	// interrupt runs op with a context cancelled once op says it waits.
	interrupt := func(op func(ctx context.Context) error) error {
		ctx, cancel := context.WithCancel(ctxT(t))
		defer cancel()
		w.mu.Lock()
		w.progress = nil
		w.mu.Unlock()
		go func() {
			for !w.said("waiting for Deployment") && ctx.Err() == nil {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
		}()
		return op(ctx)
	}
	o := upgrade("intr")
	o.Wait = true
	err := interrupt(func(ctx context.Context) error { _, err := w.env.Upgrade(ctx, never, nil, o); return err })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted upgrade: %v", err)
	}
	if h := w.history("intr"); h != "1:deployed 2:failed" {
		t.Errorf("after the interrupted upgrade the history is %q", h)
	}
	if !w.said("interrupted") {
		t.Errorf("no word of the interrupt: %q", w.progress)
	}

	o.Atomic = true
	err = interrupt(func(ctx context.Context) error { _, err := w.env.Upgrade(ctx, never, nil, o); return err })
	if err == nil || !strings.Contains(err.Error(), "has been rolled back") {
		t.Fatalf("interrupted atomic upgrade: %v", err)
	}
	if h := w.history("intr"); h != "1:superseded 2:failed 3:failed 4:deployed" {
		t.Errorf("after the interrupted atomic upgrade the history is %q", h)
	}

	ro := release.RollbackOptions{Name: "intr", Namespace: "default", Revision: 2}
	ro.Wait, ro.Timeout = true, 10*time.Second
	err = interrupt(func(ctx context.Context) error { _, err := w.env.Rollback(ctx, ro); return err })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted rollback: %v", err)
	}
	if h := w.history("intr"); h != "1:superseded 2:failed 3:failed 4:deployed 5:failed" {
		t.Errorf("after the interrupted rollback the history is %q", h)
	}
	// The next command finds nothing to recover and goes on.
	if _, err := w.env.Upgrade(ctxT(t), plain, nil, upgrade("intr")); err != nil {
		t.Fatal(err)
	}
	if w.said("recover") {
		t.Errorf("the next upgrade recovered something: %q", w.progress)
	}
}

// TestRollbackRecreatePods: with RecreatePods a rollback deletes the
// Pods of the release's workloads, even where it changed nothing.
func TestRollbackRecreatePods(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := chartOf(t, "rc", map[string]string{"d.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: rc-web
spec:
  selector:
    matchLabels: {app: rc-web}
  template:
    metadata:
      labels: {app: rc-web}
    spec:
      containers:
        - name: web
          image: busybox
`})
	for _, op := range []func() error{
		func() error { _, err := w.env.Install(ctxT(t), c, nil, install("rc")); return err },
		func() error { _, err := w.env.Upgrade(ctxT(t), c, nil, upgrade("rc")); return err },
	} {
		if err := op(); err != nil {
			t.Fatal(err)
		}
	}
	pods := w.cs.CoreV1().Pods("default")
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "rc-web-1", Labels: map[string]string{"app": "rc-web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "busybox"}}}}
	if _, err := pods.Create(ctxT(t), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.env.Rollback(ctxT(t), release.RollbackOptions{Name: "rc", Namespace: "default"}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Get(ctxT(t), "rc-web-1", metav1.GetOptions{}); err != nil {
		t.Fatalf("a rollback without RecreatePods touched the Pod: %v", err)
	}
	if _, err := w.env.Rollback(ctxT(t), release.RollbackOptions{Name: "rc", Namespace: "default", RecreatePods: true}); err != nil {
		t.Fatal(err)
	}
	if p, err := pods.Get(ctxT(t), "rc-web-1", metav1.GetOptions{}); !apierrors.IsNotFound(err) && (err != nil || p.DeletionTimestamp == nil) {
		t.Errorf("the Pod survived a rollback with RecreatePods: %v", err)
	}
}

// TestUnservedKindsOfTheDeployedRevision: a deployed revision holding an
// object of a kind the cluster no longer serves (an API removed by a
// Kubernetes upgrade) does not block the next upgrade or the uninstall,
// where Helm stops ("unable to build kubernetes objects from current
// release manifest"); the object is left out with a word. A revision to
// apply must still map.
func TestUnservedKindsOfTheDeployedRevision(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := chartOf(t, "gone", map[string]string{"cm.yaml": cm("gone-cm", "1")})
	if _, err := w.env.Install(ctxT(t), c, nil, install("gone")); err != nil {
		t.Fatal(err)
	}
	const unserved = "---\n# Source: gone/templates/gadget.yaml\napiVersion: legacy.example.com/v1beta1\nkind: Gadget\nmetadata:\n  name: old\n"
	// As if the chart had a Gadget when it was installed, and the
	// cluster has dropped that API since.
	addUnserved := func(version int) {
		r, err := w.env.Storage.Get(ctxT(t), "gone", version)
		if err != nil {
			t.Fatal(err)
		}
		r.Manifest += unserved
		if err := w.env.Storage.Update(ctxT(t), r); err != nil {
			t.Fatal(err)
		}
	}
	addUnserved(1)
	c2 := chartOf(t, "gone", map[string]string{"cm.yaml": cm("gone-cm", "2")})
	if _, err := w.env.Upgrade(ctxT(t), c2, nil, upgrade("gone")); err != nil {
		t.Fatalf("upgrade over a revision with an unserved kind: %v", err)
	}
	if !w.said(`Gadget "old" of legacy.example.com/v1beta1 is left out`) {
		t.Errorf("no word of the object left out: %q", w.progress)
	}
	got, err := w.cs.CoreV1().ConfigMaps("default").Get(ctxT(t), "gone-cm", metav1.GetOptions{})
	if err != nil || got.Data["v"] != "2" {
		t.Fatalf("the upgrade did not apply: %v %v", err, got)
	}
	// Rolling back to revision 1 would apply the Gadget: refused.
	if _, err := w.env.Rollback(ctxT(t), release.RollbackOptions{Name: "gone", Namespace: "default", Revision: 1}); err == nil || !strings.Contains(err.Error(), `no matches for kind "Gadget"`) {
		t.Errorf("rollback to a revision with an unserved kind: %v", err)
	}
	addUnserved(2)
	if _, err := w.env.Uninstall(ctxT(t), "default", "gone", release.UninstallOptions{}); err != nil {
		t.Fatalf("uninstall of a revision with an unserved kind: %v", err)
	}
	if w.configMapExists("gone-cm") {
		t.Error("the uninstall left the ConfigMap")
	}
}

// TestMovedAPIOfTheDeployedRevision: an object the deployed revision
// wrote in an API version the cluster has dropped for a later one
// (apps/v1beta2 for apps/v1, extensions/v1beta1 Ingress for
// networking.k8s.io/v1) is read in the served version, so that an
// upgrade that drops it from the chart deletes it, as after
// helm-mapkubeapis.
func TestMovedAPIOfTheDeployedRevision(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	deploy := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: moved-web
spec:
  selector:
    matchLabels: {app: moved-web}
  template:
    metadata:
      labels: {app: moved-web}
    spec:
      containers:
        - name: web
          image: busybox
`
	ingress := `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: moved-web
spec:
  defaultBackend:
    service: {name: moved-web, port: {number: 80}}
`
	c := chartOf(t, "moved", map[string]string{"cm.yaml": cm("moved-cm", "1"), "d.yaml": deploy, "ing.yaml": ingress})
	if _, err := w.env.Install(ctxT(t), c, nil, install("moved")); err != nil {
		t.Fatal(err)
	}
	// As if revision 1 had been installed on an older Kubernetes.
	r, err := w.env.Storage.Get(ctxT(t), "moved", 1)
	if err != nil {
		t.Fatal(err)
	}
	r.Manifest = strings.Replace(r.Manifest, "apiVersion: apps/v1\n", "apiVersion: apps/v1beta2\n", 1)
	r.Manifest = strings.Replace(r.Manifest, "apiVersion: networking.k8s.io/v1\n", "apiVersion: extensions/v1beta1\n", 1)
	if !strings.Contains(r.Manifest, "apps/v1beta2") || !strings.Contains(r.Manifest, "extensions/v1beta1") {
		t.Fatalf("manifest not rewritten:\n%s", r.Manifest)
	}
	if err := w.env.Storage.Update(ctxT(t), r); err != nil {
		t.Fatal(err)
	}
	c2 := chartOf(t, "moved", map[string]string{"cm.yaml": cm("moved-cm", "2")})
	if _, err := w.env.Upgrade(ctxT(t), c2, nil, upgrade("moved")); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	for _, want := range []string{`Deployment "moved-web" of apps/v1beta2 is read as apps/v1`, `Ingress "moved-web" of extensions/v1beta1 is read as networking.k8s.io/v1`} {
		if !w.said(want) {
			t.Errorf("no word %q: %q", want, w.progress)
		}
	}
	if _, err := w.cs.AppsV1().Deployments("default").Get(ctxT(t), "moved-web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the Deployment dropped from the chart is still there: %v", err)
	}
	if _, err := w.cs.NetworkingV1().Ingresses("default").Get(ctxT(t), "moved-web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the Ingress dropped from the chart is still there: %v", err)
	}
}

// TestRollbackToAFailedRevisionWarns: a rollback whose target failed
// when it was applied goes on, as Helm's, and names the last revision
// that succeeded.
func TestRollbackToAFailedRevisionWarns(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	good := chartOf(t, "warned", map[string]string{"cm.yaml": cm("warned-cm", "1")})
	if _, err := w.env.Install(ctxT(t), good, nil, install("warned")); err != nil {
		t.Fatal(err)
	}
	// Revision 2 fails: its ConfigMap is invalid.
	bad := chartOf(t, "warned", map[string]string{"cm.yaml": cm("warned-cm", "2"), "bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_A_Valid_Name\n"})
	if _, err := w.env.Upgrade(ctxT(t), bad, nil, upgrade("warned")); err == nil {
		t.Fatal("the bad upgrade succeeded")
	}
	if _, err := w.env.Upgrade(ctxT(t), good, nil, upgrade("warned")); err != nil {
		t.Fatal(err)
	}
	if h := w.history("warned"); h != "1:superseded 2:failed 3:deployed" {
		t.Fatalf("history %q", h)
	}
	// The default target, the one before the last, is revision 2, which
	// fails again.
	if _, err := w.env.Rollback(ctxT(t), release.RollbackOptions{Name: "warned", Namespace: "default"}); err == nil || !strings.Contains(err.Error(), "Not_A_Valid_Name") {
		t.Errorf("rollback to the failed revision: %v", err)
	}
	if !w.said("revision 2 failed when it was applied") || !w.said("the last earlier revision that succeeded is 1: pkg rollback warned 1") {
		t.Errorf("no warning: %q", w.progress)
	}
}
