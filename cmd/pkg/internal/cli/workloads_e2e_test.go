package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

// These tests are issue 6's proof with real Pods: the real pkg binary
// installs, upgrades and rolls back the charts in testdata/charts on its
// own two-node cluster (runc containers of the test image), the real
// kubectl drives and reads it, and client-go informers follow the Pods,
// EndpointSlices and Deployments while things happen, so a state that
// lasts one update is seen as well as the end state.

// workloadEnv is a running cluster and the ways the tests reach it.
type workloadEnv struct {
	t       *testing.T
	sb      clusterSandbox
	kubectl func(args ...string) (string, error)
	cs      kubernetes.Interface
}

const workloadNS = "default"

func newWorkloadEnv(t *testing.T) *workloadEnv {
	t.Helper()
	sb, kubectl := podsSandbox(t)
	cfg, err := clientcmd.BuildConfigFromFlags("", sb.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.WarningHandler = rest.NoWarnings{}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &workloadEnv{t: t, sb: sb, kubectl: kubectl, cs: cs}
}

// pkg runs the real pkg binary against the cluster.
func (e *workloadEnv) pkg(args ...string) (string, error) {
	cmd := exec.Command(e.sb.bin, args...)
	cmd.Env = append(e.sb.env(), "KUBECONFIG="+e.sb.kubeconfig)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustKubectl runs kubectl and fails the test if it fails.
func (e *workloadEnv) mustKubectl(args ...string) string {
	e.t.Helper()
	out, err := e.kubectl(args...)
	if err != nil {
		e.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// apply applies a manifest with kubectl.
func (e *workloadEnv) apply(manifest string) {
	e.t.Helper()
	path := filepath.Join(e.t.TempDir(), "manifest.yaml")
	if err := os.WriteFile(path, []byte(manifest), 0o644); err != nil {
		e.t.Fatal(err)
	}
	e.mustKubectl("apply", "-f", path)
}

// waitFor polls cond every 100 ms until it returns "" (done), failing
// with its last answer after timeout.
func (e *workloadEnv) waitFor(what string, timeout time.Duration, cond func() string) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			desc, _ := e.kubectl("get", "pods,deploy,rs,sts,ds,jobs,endpointslices,nodes", "-o", "wide")
			e.t.Fatalf("%s: not after %s: %s\n\nkubectl get:\n%s", what, timeout, msg, desc)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// follow starts an informer over one kind in the test namespace (only the
// objects the label selector matches) and calls onChange, in order, after
// every change the watch delivers, with the informer's whole store as it
// is after that change. It returns once the informer has synced.
func (e *workloadEnv) follow(selector string, pick func(informers.SharedInformerFactory) cache.SharedIndexInformer, onChange func(what string, obj any, store cache.Store)) {
	e.t.Helper()
	f := informers.NewSharedInformerFactoryWithOptions(e.cs, 0, informers.WithNamespace(workloadNS),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = selector }))
	inf := pick(f)
	store := inf.GetStore()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { onChange("added", obj, store) },
		UpdateFunc: func(_, obj any) { onChange("updated", obj, store) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			onChange("deleted", obj, store)
		},
	}); err != nil {
		e.t.Fatal(err)
	}
	stop := make(chan struct{})
	e.t.Cleanup(func() { close(stop) })
	f.Start(stop)
	if !cache.WaitForCacheSync(stop, inf.HasSynced) {
		e.t.Fatal("the informer never synced")
	}
}

// podReady tells whether a Pod counts as available to a Service: Ready
// and not being deleted.
func podReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// history is what a follower saw, for the checks and the failure
// messages.
type history struct {
	mu    sync.Mutex
	lines []string
	bad   []string
}

func (h *history) add(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lines = append(h.lines, time.Now().Format("15:04:05.000 ")+fmt.Sprintf(format, args...))
}

func (h *history) fail(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.bad = append(h.bad, time.Now().Format("15:04:05.000 ")+fmt.Sprintf(format, args...))
}

// check fails the test with everything seen if a rule was broken.
func (h *history) check(t *testing.T, what string) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.bad) > 0 {
		t.Errorf("%s:\n  %s\nall that was seen:\n  %s", what, strings.Join(h.bad, "\n  "), strings.Join(h.lines, "\n  "))
	}
}

func (h *history) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.lines, "\n  ")
}

// endpointWatch follows a Service's EndpointSlices through an informer
// (every change) and samples them through the API every 100 ms, keeping
// the least number of ready endpoints either saw since the last reset.
type endpointWatch struct {
	history
	min      int // least ready endpoints seen since reset; -1 before any
	samples  int
	zeroSeen bool
}

func readyEndpoints(slices []*discoveryv1.EndpointSlice) int {
	n := 0
	for _, s := range slices {
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
				n++
			}
		}
	}
	return n
}

func (w *endpointWatch) record(source string, n int) {
	w.mu.Lock()
	if w.min < 0 || n < w.min {
		w.min = n
	}
	w.samples++
	w.mu.Unlock()
	w.add("%s: %d ready endpoints", source, n)
	if n == 0 {
		w.fail("%s: no ready endpoint", source)
	}
}

// resetMin starts a new window for minReady.
func (w *endpointWatch) resetMin() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.min = -1
}

func (w *endpointWatch) minReady() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.min
}

// watchEndpoints starts following the EndpointSlices of Service svc;
// call it once the Service has ready endpoints.
func (e *workloadEnv) watchEndpoints(svc string) *endpointWatch {
	e.t.Helper()
	w := &endpointWatch{min: -1}
	sel := discoveryv1.LabelServiceName + "=" + svc
	e.follow(sel, func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Discovery().V1().EndpointSlices().Informer()
	}, func(what string, obj any, store cache.Store) {
		var all []*discoveryv1.EndpointSlice
		for _, o := range store.List() {
			all = append(all, o.(*discoveryv1.EndpointSlice))
		}
		w.record("watch ("+what+" "+obj.(*discoveryv1.EndpointSlice).Name+")", readyEndpoints(all))
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			list, err := e.cs.DiscoveryV1().EndpointSlices(workloadNS).List(ctx, metav1.ListOptions{LabelSelector: sel})
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				w.fail("sampling the EndpointSlices: %v", err)
			} else {
				var all []*discoveryv1.EndpointSlice
				for i := range list.Items {
					all = append(all, &list.Items[i])
				}
				w.record("sample", readyEndpoints(all))
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	e.t.Cleanup(func() { cancel(); <-done })
	return w
}

// readyPods lists the Pods a selector matches and counts the ready ones.
func (e *workloadEnv) readyPods(selector string) (ready int, pods []corev1.Pod) {
	e.t.Helper()
	list, err := e.cs.CoreV1().Pods(workloadNS).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		e.t.Fatal(err)
	}
	for i := range list.Items {
		if podReady(&list.Items[i]) {
			ready++
		}
	}
	return ready, list.Items
}

// killContainer SIGKILLs a container's process from the host, finding its
// pid through runc's state in the node agent's runc root.
func (e *workloadEnv) killContainer(pod *corev1.Pod) {
	e.t.Helper()
	if len(pod.Status.ContainerStatuses) == 0 {
		e.t.Fatalf("pod %s has no container status", pod.Name)
	}
	id, ok := strings.CutPrefix(pod.Status.ContainerStatuses[0].ContainerID, "runc://")
	if !ok {
		e.t.Fatalf("pod %s: container id %q is not runc's", pod.Name, pod.Status.ContainerStatuses[0].ContainerID)
	}
	root := filepath.Join(e.sb.data, "nodes", pod.Spec.NodeName, "runc", "state")
	out, err := exec.Command("runc", "--root", root, "state", id).Output()
	if err != nil {
		e.t.Fatalf("runc --root %s state %s: %v", root, id, err)
	}
	var st struct {
		Pid    int    `json:"pid"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(out, &st); err != nil || st.Pid <= 0 || st.Status != "running" {
		e.t.Fatalf("runc state of %s: %v\n%s", id, err, out)
	}
	if err := syscall.Kill(st.Pid, syscall.SIGKILL); err != nil {
		e.t.Fatalf("kill -9 %d (pod %s): %v", st.Pid, pod.Name, err)
	}
}

// TestWorkloadDeploymentSurvivesKilledPod: `pkg install --wait` of a
// 3-replica Deployment and its Service returns once all three Pods are
// Ready (maxUnavailable 0, so Helm's rule asks for all three), within a
// poll of the third becoming Ready; then one Pod's process is killed from
// the host (its container is restarted in place) and another Pod is
// deleted at once (the ReplicaSet brings up a new Pod), and through both
// the Service's ready endpoints, followed by a watch and sampled every
// 100 ms, dip to two and never to zero.
func TestWorkloadDeploymentSurvivesKilledPod(t *testing.T) {
	e := newWorkloadEnv(t)
	const rel, sel = "web", "app.kubernetes.io/instance=web"

	var thirdReady time.Time
	var mu sync.Mutex
	e.follow(sel, func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Core().V1().Pods().Informer()
	}, func(_ string, _ any, store cache.Store) {
		n := 0
		for _, o := range store.List() {
			if podReady(o.(*corev1.Pod)) {
				n++
			}
		}
		mu.Lock()
		if n >= 3 && thirdReady.IsZero() {
			thirdReady = time.Now()
		}
		mu.Unlock()
	})

	out, err := e.pkg("install", rel, filepath.Join(localCharts(t), "webapp"), "--wait", "--timeout", "60s", "--set", "strategy.maxUnavailable=0")
	returned := time.Now()
	if err != nil {
		t.Fatalf("pkg install --wait: %v\n%s", err, out)
	}
	ready, pods := e.readyPods(sel)
	if ready != 3 || len(pods) != 3 {
		t.Fatalf("right after pkg install --wait: %d of %d Pods ready, want 3 of 3", ready, len(pods))
	}
	dep, err := e.cs.AppsV1().Deployments(workloadNS).Get(context.Background(), rel, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if dep.Status.ReadyReplicas != 3 || dep.Status.AvailableReplicas != 3 || dep.Status.ObservedGeneration != dep.Generation {
		t.Errorf("right after pkg install --wait the Deployment's status is %+v", dep.Status)
	}
	mu.Lock()
	late := returned.Sub(thirdReady)
	mu.Unlock()
	// pkg, as Helm, checks every 2 s; the rest is slack for a busy
	// machine.
	if late > 5*time.Second {
		t.Errorf("pkg install --wait returned %s after the third Pod became Ready", late)
	}
	if got := e.mustKubectl("rollout", "status", "deployment/"+rel, "--timeout=5s"); !strings.Contains(got, "successfully rolled out") {
		t.Errorf("kubectl rollout status after install: %q", got)
	}

	eps := e.watchEndpoints(rel)
	e.waitFor("3 ready endpoints", 10*time.Second, func() string {
		if n := eps.minReady(); n != 3 {
			return fmt.Sprintf("%d ready", n)
		}
		return ""
	})

	t.Run("kill a container's process", func(t *testing.T) {
		victim := pods[0]
		eps.resetMin()
		e.killContainer(&victim)
		e.waitFor("the killed container restarts and is Ready again", 40*time.Second, func() string {
			p, err := e.cs.CoreV1().Pods(workloadNS).Get(context.Background(), victim.Name, metav1.GetOptions{})
			if err != nil {
				return err.Error()
			}
			if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].RestartCount < 1 || !podReady(p) {
				return fmt.Sprintf("pod %s: ready %v, container statuses %+v", p.Name, podReady(p), p.Status.ContainerStatuses)
			}
			return ""
		})
		e.waitFor("3 ready endpoints again", 10*time.Second, func() string {
			if r, _ := e.readyPods(sel); r != 3 {
				return fmt.Sprintf("%d ready Pods", r)
			}
			return ""
		})
		if m := eps.minReady(); m != 2 {
			t.Errorf("while the container was down the Service had at least %d ready endpoints, want exactly 2 (its Pod not ready, the others ready):\n  %s", m, eps.String())
		}
		eps.check(t, "the Service lost all its ready endpoints")
	})

	t.Run("delete a Pod at once", func(t *testing.T) {
		_, before := e.readyPods(sel)
		victim := before[1].Name
		eps.resetMin()
		e.mustKubectl("delete", "pod", victim, "--grace-period=0", "--force")
		e.waitFor("a new Pod replaces the deleted one", 30*time.Second, func() string {
			r, now := e.readyPods(sel)
			names := []string{}
			for _, p := range now {
				names = append(names, p.Name)
			}
			if r != 3 || len(now) != 3 || slices.Contains(names, victim) {
				return fmt.Sprintf("%d ready of %v", r, names)
			}
			return ""
		})
		if m := eps.minReady(); m > 2 {
			t.Errorf("the deleted Pod's endpoint never left the Service (least ready %d):\n  %s", m, eps.String())
		}
		eps.check(t, "the Service lost all its ready endpoints")
	})
}

// rolloutWatch follows a Deployment's Pods and its status while it rolls
// and checks the rolling update's bounds after every change: never fewer
// than replicas-maxUnavailable Pods ready (not being deleted), never more
// than replicas+maxSurge Pods not being deleted, and the Deployment's
// availableReplicas never under replicas-maxUnavailable once reported.
type rolloutWatch struct {
	history
	created map[string]bool // Pods seen, by name
}

func (e *workloadEnv) watchRollout(name, selector string, replicas, maxSurge, maxUnavailable int) *rolloutWatch {
	e.t.Helper()
	w := &rolloutWatch{created: map[string]bool{}}
	e.follow(selector, func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Core().V1().Pods().Informer()
	}, func(what string, obj any, store cache.Store) {
		ready, live := 0, 0
		var states []string
		for _, o := range store.List() {
			p := o.(*corev1.Pod)
			if p.DeletionTimestamp == nil {
				live++
			}
			if podReady(p) {
				ready++
			}
			states = append(states, fmt.Sprintf("%s(%s ready=%v deleting=%v)", p.Name, p.Labels[appsv1.DefaultDeploymentUniqueLabelKey], podReady(p), p.DeletionTimestamp != nil))
		}
		slices.Sort(states)
		p := obj.(*corev1.Pod)
		w.mu.Lock()
		w.created[p.Name] = true
		w.mu.Unlock()
		w.add("pod %s %s: %d ready, %d not deleting: %s", what, p.Name, ready, live, strings.Join(states, " "))
		if ready < replicas-maxUnavailable {
			w.fail("only %d Pods ready (%s %s), want at least %d", ready, what, p.Name, replicas-maxUnavailable)
		}
		if live > replicas+maxSurge {
			w.fail("%d Pods not being deleted (%s %s), want at most %d", live, what, p.Name, replicas+maxSurge)
		}
	})
	e.follow("", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Apps().V1().Deployments().Informer()
	}, func(what string, obj any, _ cache.Store) {
		d := obj.(*appsv1.Deployment)
		if d.Name != name {
			return
		}
		s := d.Status
		w.add("deployment %s: generation %d observed %d, replicas %d updated %d ready %d available %d", what, d.Generation, s.ObservedGeneration, s.Replicas, s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas)
		if what != "deleted" && int(s.AvailableReplicas) < replicas-maxUnavailable {
			w.fail("the Deployment reports %d available, want at least %d", s.AvailableReplicas, replicas-maxUnavailable)
		}
	})
	return w
}

func (w *rolloutWatch) podsSeen() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.created)
}

// replicaSets lists the Deployment's ReplicaSets by pod-template-hash.
func (e *workloadEnv) replicaSets(selector string) map[string]appsv1.ReplicaSet {
	e.t.Helper()
	list, err := e.cs.AppsV1().ReplicaSets(workloadNS).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]appsv1.ReplicaSet{}
	for _, rs := range list.Items {
		out[rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]] = rs
	}
	return out
}

// TestWorkloadUpgradeRollsAndRollbackRestores: `pkg upgrade --wait` to a
// new Pod template (an argument and an annotation) rolls the 3-replica
// Deployment with maxSurge 1 and maxUnavailable 1, never more than one
// Pod down and never more than four Pods, checked on every Pod change and
// Deployment status the watch delivers; it returns when Helm's rule is
// met (the new ReplicaSet has replicas-maxUnavailable ready). `pkg
// rollback --wait` then brings back the very ReplicaSet of before the
// upgrade (same name, uid and pod-template-hash) scaled up again, as
// revision 3, within the same bounds, and `kubectl rollout status` and
// `kubectl rollout history` agree.
func TestWorkloadUpgradeRollsAndRollbackRestores(t *testing.T) {
	e := newWorkloadEnv(t)
	const rel, sel = "web", "app.kubernetes.io/instance=web"
	chart := filepath.Join(localCharts(t), "webapp")
	if out, err := e.pkg("install", rel, chart, "--wait", "--timeout", "60s"); err != nil {
		t.Fatalf("pkg install --wait: %v\n%s", err, out)
	}
	e.mustKubectl("rollout", "status", "deployment/"+rel, "--timeout=60s")
	before := e.replicaSets(sel)
	if len(before) != 1 {
		t.Fatalf("after the install the Deployment has ReplicaSets %v, want one", slices.Collect(maps.Keys(before)))
	}
	var oldHash string
	var oldRS appsv1.ReplicaSet
	for h, rs := range before {
		oldHash, oldRS = h, rs
	}
	rw := e.watchRollout(rel, sel, 3, 1, 1)

	// newReady checks Helm's rule right after --wait returns: the
	// ReplicaSet of the Deployment's template has at least
	// replicas-maxUnavailable ready.
	newReady := func(step, note string) appsv1.ReplicaSet {
		t.Helper()
		dep, err := e.cs.AppsV1().Deployments(workloadNS).Get(context.Background(), rel, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := dep.Spec.Template.Annotations["webapp/note"]; got != note {
			t.Fatalf("after %s the Deployment's template has note %q, want %q", step, got, note)
		}
		for _, rs := range e.replicaSets(sel) {
			if rs.Spec.Template.Annotations["webapp/note"] == note {
				if rs.Status.ReadyReplicas < 2 {
					t.Errorf("%s --wait returned with %d Pods of ReplicaSet %s ready, want at least 2 (replicas - maxUnavailable)", step, rs.Status.ReadyReplicas, rs.Name)
				}
				return rs
			}
		}
		t.Fatalf("after %s no ReplicaSet has note %q", step, note)
		return appsv1.ReplicaSet{}
	}
	// settled waits for kubectl rollout status, then checks that all
	// three Pods are the given ReplicaSet's and ready.
	settled := func(step string, rs appsv1.ReplicaSet) {
		t.Helper()
		if got := e.mustKubectl("rollout", "status", "deployment/"+rel, "--timeout=60s"); !strings.Contains(got, "successfully rolled out") {
			t.Errorf("kubectl rollout status after %s: %q", step, got)
		}
		hash := rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		e.waitFor("only the new ReplicaSet's Pods after "+step, 20*time.Second, func() string {
			ready, pods := e.readyPods(sel)
			var bad []string
			for _, p := range pods {
				if p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash {
					bad = append(bad, p.Name)
				}
			}
			if ready != 3 || len(pods) != 3 || len(bad) > 0 {
				return fmt.Sprintf("%d ready of %d Pods, not of %s: %v", ready, len(pods), hash, bad)
			}
			return ""
		})
		for h, other := range e.replicaSets(sel) {
			want := int32(0)
			if h == hash {
				want = 3
			}
			if other.Spec.Replicas == nil || *other.Spec.Replicas != want {
				t.Errorf("after %s ReplicaSet %s wants %v replicas, want %d", step, other.Name, other.Spec.Replicas, want)
			}
		}
	}

	out, err := e.pkg("upgrade", rel, chart, "--set", "note=v2", "--wait", "--timeout", "60s")
	if err != nil {
		t.Fatalf("pkg upgrade --wait: %v\n%s", err, out)
	}
	newRS := newReady("pkg upgrade", "v2")
	newHash := newRS.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
	if newHash == oldHash || newRS.Name == oldRS.Name {
		t.Fatalf("the upgrade made no new ReplicaSet: %s (%s)", newRS.Name, newHash)
	}
	if !slices.Contains(newRS.Spec.Template.Spec.Containers[0].Args, "v2") {
		t.Errorf("the new ReplicaSet runs %v", newRS.Spec.Template.Spec.Containers[0].Args)
	}
	settled("pkg upgrade", newRS)
	if n := rw.podsSeen(); n < 6 {
		t.Errorf("the watch saw %d Pods during the upgrade, want the 3 old and 3 new:\n  %s", n, rw.String())
	}
	rw.check(t, "the upgrade broke the rolling update's bounds")

	out, err = e.pkg("rollback", rel, "1", "--wait", "--timeout", "60s")
	if err != nil {
		t.Fatalf("pkg rollback --wait: %v\n%s", err, out)
	}
	back := newReady("pkg rollback", "v1")
	if back.Name != oldRS.Name || back.UID != oldRS.UID || back.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != oldHash {
		t.Errorf("the rollback runs ReplicaSet %s (uid %s), want the one of before the upgrade, %s (uid %s)", back.Name, back.UID, oldRS.Name, oldRS.UID)
	}
	settled("pkg rollback", back)
	if n := rw.podsSeen(); n < 9 {
		t.Errorf("the watch saw %d Pods through the upgrade and the rollback, want 9:\n  %s", n, rw.String())
	}
	rw.check(t, "the rollback broke the rolling update's bounds")
	rss := e.replicaSets(sel)
	if got := rss[oldHash].Annotations["deployment.kubernetes.io/revision"]; got != "3" {
		t.Errorf("the restored ReplicaSet is revision %q, want 3", got)
	}
	hist := e.mustKubectl("rollout", "history", "deployment/"+rel)
	if !strings.Contains(hist, "\n2 ") || !strings.Contains(hist, "\n3 ") || strings.Contains(hist, "\n1 ") {
		t.Errorf("kubectl rollout history, want revisions 2 and 3:\n%s", hist)
	}
	if st, _ := e.pkg("status", rel); !strings.Contains(st, "REVISION: 3") || !strings.Contains(st, "STATUS: deployed") {
		t.Errorf("pkg status after the rollback:\n%s", st)
	}
}

// TestWorkloadStatefulSetKeepsData: `pkg install --wait` of a 2-replica
// StatefulSet with a volumeClaimTemplate gives each Pod its own
// PersistentVolumeClaim (the default StorageClass provisions them); every
// start appends the Pod's uid to a file on the volume. Deleting NAME-0
// brings up a new NAME-0 only once the old one is gone (checked on every
// Pod event), bound to the same claim, and it reads the old Pod's line
// back, while NAME-1's volume holds only its own.
func TestWorkloadStatefulSetKeepsData(t *testing.T) {
	e := newWorkloadEnv(t)
	const rel, sel = "db", "app.kubernetes.io/instance=db"
	if out, err := e.pkg("install", rel, filepath.Join(localCharts(t), "datastore"), "--wait", "--timeout", "60s"); err != nil {
		t.Fatalf("pkg install --wait: %v\n%s", err, out)
	}
	ready, pods := e.readyPods(sel)
	if ready != 2 || len(pods) != 2 {
		t.Fatalf("right after pkg install --wait: %d of %d Pods ready, want 2 of 2", ready, len(pods))
	}
	uids := map[string]string{}
	for _, p := range pods {
		uids[p.Name] = string(p.UID)
	}
	if uids["db-0"] == "" || uids["db-1"] == "" {
		t.Fatalf("the StatefulSet's Pods are %v, want db-0 and db-1", slices.Collect(maps.Keys(uids)))
	}
	claims := map[string]string{}
	for _, name := range []string{"data-db-0", "data-db-1"} {
		pvc, err := e.cs.CoreV1().PersistentVolumeClaims(workloadNS).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("the claim of the volumeClaimTemplate: %v", err)
		}
		if pvc.Status.Phase != corev1.ClaimBound || pvc.Spec.VolumeName == "" {
			t.Fatalf("claim %s is %s (volume %q), want Bound", name, pvc.Status.Phase, pvc.Spec.VolumeName)
		}
		claims[name] = string(pvc.UID)
	}
	read := func(pod string) []string {
		t.Helper()
		kubectl, err := exec.LookPath("kubectl")
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.sb.execOut(kubectl, pod, "--", "/testapp", "-cat", "/data/starts")
		if err != nil {
			t.Fatalf("kubectl exec %s: %v", pod, err)
		}
		return strings.Fields(out)
	}
	if got := read("db-0"); !slices.Equal(got, []string{uids["db-0"]}) {
		t.Fatalf("db-0's volume holds %q, want its uid %s", got, uids["db-0"])
	}

	// Follow db-0 through its deletion: the new one may appear only
	// after the old one is gone.
	var h history
	var mu sync.Mutex
	current := map[string]bool{}
	e.follow(sel, func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Core().V1().Pods().Informer()
	}, func(what string, obj any, _ cache.Store) {
		p := obj.(*corev1.Pod)
		if p.Name != "db-0" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if what == "deleted" {
			delete(current, string(p.UID))
		} else {
			current[string(p.UID)] = true
		}
		h.add("%s db-0 uid %s (ready %v)", what, p.UID, podReady(p))
		if len(current) > 1 {
			h.fail("two db-0 Pods at once: %v", slices.Collect(maps.Keys(current)))
		}
	})
	e.mustKubectl("delete", "pod", "db-0", "--wait=false")
	var newUID string
	e.waitFor("a new db-0 Ready", 40*time.Second, func() string {
		p, err := e.cs.CoreV1().Pods(workloadNS).Get(context.Background(), "db-0", metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		if string(p.UID) == uids["db-0"] || !podReady(p) {
			return fmt.Sprintf("db-0 uid %s ready %v", p.UID, podReady(p))
		}
		newUID = string(p.UID)
		for _, v := range p.Spec.Volumes {
			if v.Name == "data" && (v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != "data-db-0") {
				t.Errorf("the new db-0 mounts %+v, want claim data-db-0", v.VolumeSource)
			}
		}
		return ""
	})
	h.check(t, "the StatefulSet ran two db-0 at once")
	// The old Pod wrote its uid, then "terminated" on SIGTERM; the new one
	// its uid.
	if got, want := read("db-0"), []string{uids["db-0"], "terminated", newUID}; !slices.Equal(got, want) {
		t.Errorf("db-0's volume after the deletion holds %q, want %q", got, want)
	}
	if got := read("db-1"); !slices.Equal(got, []string{uids["db-1"]}) {
		t.Errorf("db-1's volume holds %q, want only its uid %s", got, uids["db-1"])
	}
	pvc, err := e.cs.CoreV1().PersistentVolumeClaims(workloadNS).Get(context.Background(), "data-db-0", metav1.GetOptions{})
	if err != nil || string(pvc.UID) != claims["data-db-0"] {
		t.Errorf("claim data-db-0 after the deletion: %v (uid %v, before %s)", err, pvc.GetUID(), claims["data-db-0"])
	}
}

// podsByNode maps node name to the daemon Pods on it.
func (e *workloadEnv) podsByNode(selector string) map[string][]corev1.Pod {
	e.t.Helper()
	_, pods := e.readyPods(selector)
	out := map[string][]corev1.Pod{}
	for _, p := range pods {
		out[p.Spec.NodeName] = append(out[p.Spec.NodeName], p)
	}
	return out
}

// TestWorkloadDaemonSetFollowsNodes: a DaemonSet applied with kubectl
// runs one Pod on each of the two nodes. A NoSchedule taint on pkg-node-2
// leaves its running Pod alone (counted as misscheduled), as in
// Kubernetes. A NoExecute taint (the node leaves the set the DaemonSet
// may use) removes its Pod and leaves the other untouched; removing the
// taint brings one back.
// Deleting the Node object removes its Pod; the node agent registers the
// node again when it starts (here: `pkg cluster down` and `up`; a running
// agent also re-registers a deleted node at its next status update, up to
// a minute later), and the DaemonSet places a Pod on it again.
func TestWorkloadDaemonSetFollowsNodes(t *testing.T) {
	e := newWorkloadEnv(t)
	const sel = "app=agent"
	e.apply(`apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - {name: main, image: pkg.dev/testapp:latest, imagePullPolicy: IfNotPresent, args: ["-sleep", "1h"]}
`)
	var node1UID string
	// onEach waits for one ready daemon Pod on each named node and
	// none elsewhere.
	onEach := func(what string, nodes ...string) map[string][]corev1.Pod {
		t.Helper()
		var by map[string][]corev1.Pod
		e.waitFor(what, 40*time.Second, func() string {
			by = e.podsByNode(sel)
			var got []string
			ok := len(by) == len(nodes)
			for n, ps := range by {
				for _, p := range ps {
					got = append(got, fmt.Sprintf("%s on %s ready=%v deleting=%v", p.Name, n, podReady(&p), p.DeletionTimestamp != nil))
				}
				if len(ps) != 1 || !podReady(&ps[0]) || !slices.Contains(nodes, n) {
					ok = false
				}
			}
			if !ok {
				return fmt.Sprintf("want one ready Pod on each of %v, have %v", nodes, got)
			}
			return ""
		})
		return by
	}
	desired := func(want int32) {
		t.Helper()
		e.waitFor(fmt.Sprintf("the DaemonSet wants %d", want), 10*time.Second, func() string {
			ds, err := e.cs.AppsV1().DaemonSets(workloadNS).Get(context.Background(), "agent", metav1.GetOptions{})
			if err != nil {
				return err.Error()
			}
			s := ds.Status
			if s.DesiredNumberScheduled != want || s.NumberReady != want || s.CurrentNumberScheduled != want {
				return fmt.Sprintf("status %+v", s)
			}
			return ""
		})
	}
	by := onEach("a daemon Pod on each node", "pkg-node-1", "pkg-node-2")
	desired(2)
	node1UID = string(by["pkg-node-1"][0].UID)
	node2UID := string(by["pkg-node-2"][0].UID)
	var h history
	e.follow(sel, func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Core().V1().Pods().Informer()
	}, func(what string, obj any, _ cache.Store) {
		p := obj.(*corev1.Pod)
		h.add("%s %s on %s", what, p.Name, p.Spec.NodeName)
		if string(p.UID) == node1UID && (what == "deleted" || p.DeletionTimestamp != nil) {
			h.fail("the Pod on pkg-node-1, which stayed, was deleted")
		}
	})

	// A NoSchedule taint keeps new daemon Pods away but leaves the
	// running one, which the status counts as misscheduled.
	var h2 history
	e.follow(sel, func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Core().V1().Pods().Informer()
	}, func(what string, obj any, _ cache.Store) {
		p := obj.(*corev1.Pod)
		if string(p.UID) == node2UID && (what == "deleted" || p.DeletionTimestamp != nil) {
			h2.fail("the Pod on pkg-node-2 was deleted for a NoSchedule taint")
		}
	})
	e.mustKubectl("taint", "nodes", "pkg-node-2", "example.com/maintenance=now:NoSchedule")
	e.waitFor("the DaemonSet counts the tainted node's Pod as misscheduled", 10*time.Second, func() string {
		ds, err := e.cs.AppsV1().DaemonSets(workloadNS).Get(context.Background(), "agent", metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		if s := ds.Status; s.DesiredNumberScheduled != 1 || s.NumberMisscheduled != 1 {
			return fmt.Sprintf("status %+v", s)
		}
		return ""
	})
	e.mustKubectl("taint", "nodes", "pkg-node-2", "example.com/maintenance=now:NoSchedule-")
	desired(2)
	if by := e.podsByNode(sel); len(by["pkg-node-2"]) != 1 || string(by["pkg-node-2"][0].UID) != node2UID {
		t.Errorf("after a NoSchedule taint came and went, pkg-node-2 runs %v, want its first Pod", by["pkg-node-2"])
	}
	h2.check(t, "a NoSchedule taint removed a running daemon Pod")

	// A NoExecute taint removes it.
	e.mustKubectl("taint", "nodes", "pkg-node-2", "example.com/leaving=now:NoExecute")
	onEach("the tainted node's Pod removed", "pkg-node-1")
	desired(1)
	e.mustKubectl("taint", "nodes", "pkg-node-2", "example.com/leaving=now:NoExecute-")
	by = onEach("a Pod back on the untainted node", "pkg-node-1", "pkg-node-2")
	desired(2)
	if string(by["pkg-node-2"][0].UID) == node2UID {
		t.Errorf("the Pod on pkg-node-2 was never replaced")
	}
	h.check(t, "the untouched node's Pod went")

	e.mustKubectl("delete", "node", "pkg-node-2")
	// The agent may register the node again on its own before the
	// check below; what must not stay is the Pod of the deleted Node.
	gone := string(by["pkg-node-2"][0].UID)
	e.waitFor("the deleted node's Pod removed", 20*time.Second, func() string {
		_, pods := e.readyPods(sel)
		for _, p := range pods {
			if string(p.UID) == gone {
				return "pod " + p.Name + " of the deleted node still exists"
			}
		}
		return ""
	})
	if out, errOut, err := e.sb.pkg(t, "down"); err != nil {
		t.Fatalf("pkg cluster down: %v\n%s%s", err, out, errOut)
	}
	if out, errOut, err := e.sb.pkg(t, "up", "--port", strconv.Itoa(e.sb.port), "--nodes", "2"); err != nil {
		t.Fatalf("pkg cluster up: %v\n%s%s", err, out, errOut)
	}
	by = onEach("a daemon Pod on the node that joined again", "pkg-node-1", "pkg-node-2")
	desired(2)
	// pkg-node-1 only restarted (as a rebooted node): its Pod is kept,
	// as Kubernetes keeps it.
	if got := string(by["pkg-node-1"][0].UID); got != node1UID {
		t.Errorf("the restart replaced the Pod of pkg-node-1 (uid %s, was %s)", got, node1UID)
	}
	if nodes := e.mustKubectl("get", "nodes", "--no-headers"); strings.Count(nodes, " Ready ") != 2 {
		t.Errorf("after the restart kubectl get nodes shows:\n%s", nodes)
	}
}

// TestWorkloadJobRetriesToBackoffLimit: a Job whose Pod exits 1, with
// backoffLimit 2, runs three Pods one after the other, each replaced
// after Kubernetes' back-off (10 s, then 20 s), and then fails with the
// condition BackoffLimitExceeded, which kubectl wait sees; no fourth Pod.
func TestWorkloadJobRetriesToBackoffLimit(t *testing.T) {
	e := newWorkloadEnv(t)
	const sel = "batch.kubernetes.io/job-name=fails"
	var h history
	var mu sync.Mutex
	e.follow(sel, func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Core().V1().Pods().Informer()
	}, func(what string, obj any, store cache.Store) {
		mu.Lock()
		defer mu.Unlock()
		active := 0
		for _, o := range store.List() {
			p := o.(*corev1.Pod)
			if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodFailed && p.Status.Phase != corev1.PodSucceeded {
				active++
			}
		}
		p := obj.(*corev1.Pod)
		h.add("%s %s phase %s: %d active", what, p.Name, p.Status.Phase, active)
		if active > 1 {
			h.fail("%d Pods active at once, parallelism is 1", active)
		}
	})
	e.apply(`apiVersion: batch/v1
kind: Job
metadata: {name: fails}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: pkg.dev/testapp:latest, imagePullPolicy: IfNotPresent, args: ["-exit", "1"]}
`)
	if out, err := e.kubectl("wait", "--for=condition=Failed", "job/fails", "--timeout=60s"); err != nil {
		t.Fatalf("kubectl wait --for=condition=Failed: %v\n%s\nseen:\n  %s", err, out, h.String())
	}
	job, err := e.cs.BatchV1().Jobs(workloadNS).Get(context.Background(), "fails", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var failed *batchv1.JobCondition
	for i, c := range job.Status.Conditions {
		if c.Type == batchv1.JobFailed {
			failed = &job.Status.Conditions[i]
		}
	}
	if failed == nil || failed.Status != corev1.ConditionTrue || failed.Reason != "BackoffLimitExceeded" {
		t.Errorf("the Job's Failed condition is %+v, want True with reason BackoffLimitExceeded", failed)
	}
	if job.Status.Failed != 3 || job.Status.Active != 0 || job.Status.Succeeded != 0 {
		t.Errorf("the Job's status counts failed %d, active %d, succeeded %d; want 3, 0, 0", job.Status.Failed, job.Status.Active, job.Status.Succeeded)
	}
	// No fourth Pod comes later.
	time.Sleep(2 * time.Second)
	_, pods := e.readyPods(sel)
	if len(pods) != 3 {
		t.Fatalf("the Job made %d Pods, want 3 (the first and two retries)\nseen:\n  %s", len(pods), h.String())
	}
	slices.SortFunc(pods, func(a, b corev1.Pod) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
	for i, p := range pods {
		cs := p.Status.ContainerStatuses
		if p.Status.Phase != corev1.PodFailed || len(cs) != 1 || cs[0].State.Terminated == nil || cs[0].State.Terminated.ExitCode != 1 {
			t.Errorf("pod %s: phase %s, statuses %+v; want Failed with exit code 1", p.Name, p.Status.Phase, cs)
			continue
		}
		if i == 0 {
			continue
		}
		// The back-off counts from the previous Pod's end; timestamps
		// have whole seconds.
		prev := pods[i-1].Status.ContainerStatuses
		if len(prev) != 1 || prev[0].State.Terminated == nil {
			continue
		}
		gap := p.CreationTimestamp.Sub(prev[0].State.Terminated.FinishedAt.Time)
		if want := 10 * time.Second << (i - 1); gap < want-time.Second {
			t.Errorf("pod %s came %s after the previous one ended, want the back-off of %s", p.Name, gap, want)
		}
	}
	h.check(t, "the Job ran Pods in parallel")
	if desc := e.mustKubectl("describe", "job", "fails"); !strings.Contains(desc, "BackoffLimitExceeded") {
		t.Errorf("kubectl describe job lacks BackoffLimitExceeded:\n%s", desc)
	}
}
