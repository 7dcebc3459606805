package controllers

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/kube"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
)

var jobControllers = Options{Controllers: []string{JobController}, JobBackoff: 20 * time.Millisecond}

func newJob(name string, completions, parallelism, backoffLimit int32) *batchv1.Job {
	tmpl := podTemplate(name, "task:1")
	tmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: batchv1.JobSpec{
			Completions:  ptr(completions),
			Parallelism:  ptr(parallelism),
			BackoffLimit: ptr(backoffLimit),
			Template:     tmpl,
		},
	}
}

func getJob(t *testing.T, client kubernetes.Interface, ns, name string) *batchv1.Job {
	t.Helper()
	j, err := client.BatchV1().Jobs(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("getting job: %v", err)
	}
	return j
}

// jobPodsByPhase lists the names of the Job's Pods in a phase.
func jobPodsByPhase(t *testing.T, client kubernetes.Interface, ns, job string, phase corev1.PodPhase) []string {
	t.Helper()
	var out []string
	for _, p := range listPods(t, client, ns, "batch.kubernetes.io/job-name="+job) {
		if p.Status.Phase == phase && p.DeletionTimestamp == nil {
			out = append(out, p.Name)
		}
	}
	slices.Sort(out)
	return out
}

func hasJobCondition(j *batchv1.Job, typ batchv1.JobConditionType, reason string) bool {
	c := jobCondition(&j.Status, typ)
	return c != nil && c.Reason == reason
}

func helmJobReady(t *testing.T, client kubernetes.Interface, ns, name string) (bool, error) {
	t.Helper()
	rc := kube.NewReadyChecker(client, nil, kube.CheckJobs(true))
	return rc.IsReady(context.Background(), &resource.Info{Name: name, Namespace: ns, Object: &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}})
}

func TestJobCompletes(t *testing.T) {
	t.Parallel()
	client, ns := start(t, jobControllers)
	ctx := context.Background()
	if _, err := client.BatchV1().Jobs(ns).Create(ctx, newJob("task", 3, 2, 6), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	k := newKubelet(client, ns)
	finished := 0
	for finished < 3 {
		var pending []string
		eventually(t, 5*time.Second, "pods to run", func() (bool, error) {
			pending = jobPodsByPhase(t, client, ns, "task", corev1.PodPending)
			want := min(2, 3-finished)
			return len(pending) == want, nil
		})
		if len(pending)+finished > 3 {
			t.Fatalf("%d pods pending with %d done of 3", len(pending), finished)
		}
		if ok, err := helmJobReady(t, client, ns, "task"); ok || err != nil {
			t.Fatalf("helm ready %v, %v before completion", ok, err)
		}
		k.ready(t, pending[0], true)
		k.finish(t, pending[0], corev1.PodSucceeded)
		finished++
		eventually(t, 5*time.Second, "success counted", func() (bool, error) {
			return getJob(t, client, ns, "task").Status.Succeeded == int32(finished), nil
		})
	}
	eventually(t, 5*time.Second, "Complete", func() (bool, error) {
		j := getJob(t, client, ns, "task")
		return hasJobCondition(j, batchv1.JobComplete, "CompletionsReached") && hasJobCondition(j, batchv1.JobSuccessCriteriaMet, "CompletionsReached") && j.Status.CompletionTime != nil, nil
	})
	j := getJob(t, client, ns, "task")
	if j.Status.Active != 0 || j.Status.Failed != 0 || j.Status.StartTime == nil {
		t.Errorf("status %+v", j.Status)
	}
	if ok, err := helmJobReady(t, client, ns, "task"); !ok || err != nil {
		t.Errorf("helm ready %v, %v after completion", ok, err)
	}
	for _, p := range listPods(t, client, ns, "batch.kubernetes.io/job-name=task") {
		if slices.Contains(p.Finalizers, jobTrackingFinalizer) {
			t.Errorf("pod %s keeps the tracking finalizer", p.Name)
		}
	}
	eventually(t, 5*time.Second, "events", func() (bool, error) {
		ev := strings.Join(eventsFor(t, client, ns, "task"), "\n")
		return strings.Contains(ev, "SuccessfulCreate: Created pod: task-") && strings.Contains(ev, "Completed: Job completed"), nil
	})
}

func TestJobBackoffLimit(t *testing.T) {
	t.Parallel()
	client, ns := start(t, jobControllers)
	ctx := context.Background()
	if _, err := client.BatchV1().Jobs(ns).Create(ctx, newJob("flaky", 1, 1, 2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	k := newKubelet(client, ns)
	var seen []string
	for i := range 3 {
		var pending []string
		eventually(t, 5*time.Second, "a pod to fail", func() (bool, error) {
			pending = jobPodsByPhase(t, client, ns, "flaky", corev1.PodPending)
			return len(pending) == 1, nil
		})
		if slices.Contains(seen, pending[0]) {
			t.Fatalf("pod %s reused", pending[0])
		}
		seen = append(seen, pending[0])
		k.finish(t, pending[0], corev1.PodFailed)
		eventually(t, 5*time.Second, "failure counted", func() (bool, error) {
			return getJob(t, client, ns, "flaky").Status.Failed == int32(i+1), nil
		})
	}
	eventually(t, 5*time.Second, "Failed", func() (bool, error) {
		j := getJob(t, client, ns, "flaky")
		return hasJobCondition(j, batchv1.JobFailed, "BackoffLimitExceeded") && hasJobCondition(j, batchv1.JobFailureTarget, "BackoffLimitExceeded"), nil
	})
	time.Sleep(100 * time.Millisecond)
	if p := jobPodsByPhase(t, client, ns, "flaky", corev1.PodPending); len(p) != 0 {
		t.Errorf("pods created after the job failed: %v", p)
	}
	if _, err := helmJobReady(t, client, ns, "flaky"); err == nil || !strings.Contains(err.Error(), "job is failed") {
		t.Errorf("helm ready error %v", err)
	}
	if c := jobCondition(&getJob(t, client, ns, "flaky").Status, batchv1.JobFailed); c.Message != "Job has reached the specified backoff limit" {
		t.Errorf("message %q", c.Message)
	}
}

func TestJobDeadlineAndTTL(t *testing.T) {
	t.Parallel()
	client, ns := start(t, jobControllers)
	ctx := context.Background()
	j := newJob("slow", 1, 1, 6)
	j.Spec.ActiveDeadlineSeconds = ptr(int64(1))
	j.Spec.TTLSecondsAfterFinished = ptr(int32(1))
	if _, err := client.BatchV1().Jobs(ns).Create(ctx, j, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	k := newKubelet(client, ns)
	var pending []string
	// The deadline runs from the Job's start: on a loaded machine it may
	// pass before this loop sees the Pod, which is then already gone.
	eventually(t, 5*time.Second, "a pod, or the deadline", func() (bool, error) {
		pending = jobPodsByPhase(t, client, ns, "slow", corev1.PodPending)
		return len(pending) == 1 || hasJobCondition(getJob(t, client, ns, "slow"), batchv1.JobFailed, "DeadlineExceeded"), nil
	})
	if len(pending) == 1 {
		k.ready(t, pending[0], true)
	}
	eventually(t, 5*time.Second, "DeadlineExceeded", func() (bool, error) {
		j := getJob(t, client, ns, "slow")
		return hasJobCondition(j, batchv1.JobFailed, "DeadlineExceeded"), nil
	})
	j = getJob(t, client, ns, "slow")
	if j.Status.Active != 0 || j.Status.Failed != 1 {
		t.Errorf("status after deadline: active %d failed %d", j.Status.Active, j.Status.Failed)
	}
	eventually(t, 5*time.Second, "the running pod deleted", func() (bool, error) {
		return len(listPods(t, client, ns, "batch.kubernetes.io/job-name=slow")) == 0, nil
	})
	eventually(t, 5*time.Second, "the job deleted after its ttl", func() (bool, error) {
		_, err := client.BatchV1().Jobs(ns).Get(ctx, "slow", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}

func TestJobSuspendAndResume(t *testing.T) {
	t.Parallel()
	client, ns := start(t, jobControllers)
	ctx := context.Background()
	j := newJob("later", 1, 2, 6)
	j.Spec.Suspend = ptr(true)
	if _, err := client.BatchV1().Jobs(ns).Create(ctx, j, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "Suspended", func() (bool, error) {
		return hasJobCondition(getJob(t, client, ns, "later"), batchv1.JobSuspended, "JobSuspended"), nil
	})
	if n := len(listPods(t, client, ns, "batch.kubernetes.io/job-name=later")); n != 0 {
		t.Errorf("%d pods of a suspended job", n)
	}
	eventually(t, 5*time.Second, "resuming", func() (bool, error) {
		cur := getJob(t, client, ns, "later")
		cur.Spec.Suspend = ptr(false)
		_, err := client.BatchV1().Jobs(ns).Update(ctx, cur, metav1.UpdateOptions{})
		return err == nil, err
	})
	eventually(t, 5*time.Second, "a pod once resumed", func() (bool, error) {
		j := getJob(t, client, ns, "later")
		c := jobConditionAny(&j.Status, batchv1.JobSuspended)
		return len(jobPodsByPhase(t, client, ns, "later", corev1.PodPending)) == 1 && c != nil && c.Status == corev1.ConditionFalse && c.Reason == "JobResumed" && j.Status.StartTime != nil, nil
	})
}

func TestJobIndexed(t *testing.T) {
	t.Parallel()
	client, ns := start(t, jobControllers)
	ctx := context.Background()
	j := newJob("shard", 3, 2, 6)
	j.Spec.CompletionMode = ptr(batchv1.IndexedCompletion)
	if _, err := client.BatchV1().Jobs(ns).Create(ctx, j, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	byIndex := func() map[string]string {
		out := map[string]string{}
		for _, p := range listPods(t, client, ns, "batch.kubernetes.io/job-name=shard") {
			if p.Status.Phase == corev1.PodPending {
				out[p.Annotations[batchv1.JobCompletionIndexAnnotation]] = p.Name
			}
		}
		return out
	}
	var pending map[string]string
	eventually(t, 5*time.Second, "indexes 0 and 1", func() (bool, error) {
		pending = byIndex()
		return len(pending) == 2 && pending["0"] != "" && pending["1"] != "", nil
	})
	p, err := client.CoreV1().Pods(ns).Get(ctx, pending["1"], metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Name, "shard-1-") || p.Spec.Hostname != "shard-1" || p.Labels[batchv1.JobCompletionIndexAnnotation] != "1" ||
		!slices.ContainsFunc(p.Spec.Containers[0].Env, func(e corev1.EnvVar) bool { return e.Name == "JOB_COMPLETION_INDEX" && e.ValueFrom != nil }) {
		t.Errorf("pod of index 1: name %s hostname %s labels %v env %v", p.Name, p.Spec.Hostname, p.Labels, p.Spec.Containers[0].Env)
	}
	k := newKubelet(client, ns)
	k.finish(t, pending["1"], corev1.PodSucceeded)
	eventually(t, 5*time.Second, "index 2 after 1 completed", func() (bool, error) {
		pending = byIndex()
		j := getJob(t, client, ns, "shard")
		return pending["2"] != "" && pending["0"] != "" && j.Status.CompletedIndexes == "1" && j.Status.Succeeded == 1, nil
	})
	k.finish(t, pending["0"], corev1.PodSucceeded)
	k.finish(t, pending["2"], corev1.PodSucceeded)
	eventually(t, 5*time.Second, "Complete", func() (bool, error) {
		j := getJob(t, client, ns, "shard")
		return hasJobCondition(j, batchv1.JobComplete, "CompletionsReached") && j.Status.CompletedIndexes == "0-2" && j.Status.Succeeded == 3, nil
	})
}

func TestFormatIndexes(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "0", "0-2", "1,3-5,7", "0,2,4"} {
		if got := formatIndexes(parseIndexes(s)); got != s {
			t.Errorf("round trip of %q gave %q", s, got)
		}
	}
}

// TestIndexPlanCountsSucceededPods: a Pod seen Succeeded whose index the
// Job's status does not list yet (its tracking finalizer already gone,
// the status copy older) is done: its index is not started again, and a
// second Pod of it is deleted.
func TestIndexPlanCountsSucceededPods(t *testing.T) {
	t.Parallel()
	j := newJob("shard", 3, 2, 6)
	j.Spec.CompletionMode = ptr(batchv1.IndexedCompletion)
	pod := func(name string, i int, phase corev1.PodPhase) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{batchv1.JobCompletionIndexAnnotation: strconv.Itoa(i)}},
			Status:     corev1.PodStatus{Phase: phase},
		}
	}
	done1 := pod("shard-1-a", 1, corev1.PodSucceeded)
	run0 := pod("shard-0-a", 0, corev1.PodPending)
	again1 := pod("shard-1-b", 1, corev1.PodPending)
	s := &batchv1.JobStatus{} // CompletedIndexes not written yet
	del, start := indexPlan(j, s, []*corev1.Pod{done1, run0, again1}, []*corev1.Pod{run0, again1}, 2)
	if len(del) != 1 || del[0] != again1 {
		t.Errorf("deleted %v; want shard-1-b, a second run of the done index 1", del)
	}
	if !slices.Equal(start, []int{2}) {
		t.Errorf("started %v; want [2]", start)
	}
}

// TestJobSkipsStaleCopies: the controller does not decide from a copy of
// the Job older than its own last status write.
func TestJobSkipsStaleCopies(t *testing.T) {
	t.Parallel()
	c := &jobController{written: map[types.UID]int64{}}
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{UID: "u1", ResourceVersion: "41"}}
	if c.stale(j) {
		t.Fatal("a Job never written by the controller is stale")
	}
	c.written["u1"] = 42
	if !c.stale(j) {
		t.Error("resourceVersion 41 after the controller wrote 42 is not stale")
	}
	j.ResourceVersion = "42"
	if c.stale(j) {
		t.Error("the copy the controller wrote is stale")
	}
}

// TestJobCountsAReleasedPodOnce: once the controller counted a finished
// Pod and removed its tracking finalizer, a sync that still sees the old
// copy of the Pod (finalizer and all) next to the Job's new status does
// not count it again. CI once saw a Job fail after two Pods with a
// backoff limit of 2: one failure counted twice.
func TestJobCountsAReleasedPodOnce(t *testing.T) {
	t.Parallel()
	job := newJob("once", 1, 1, 6)
	job.Namespace, job.UID = "default", "job-uid"
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "once-a", Namespace: "default", UID: "pod-a", Finalizers: []string{jobTrackingFinalizer}},
		Status:     corev1.PodStatus{Phase: corev1.PodFailed},
	}
	client := fake.NewClientset(job, pod)
	c := &jobController{
		env:      &env{client: client, now: time.Now},
		rec:      record.NewFakeRecorder(10),
		failures: map[types.UID]time.Time{}, written: map[types.UID]int64{}, released: map[types.UID]bool{},
	}
	ctx := context.Background()
	s := job.Status.DeepCopy()
	if err := c.trackFinished(ctx, job, s, []*corev1.Pod{pod}); err != nil {
		t.Fatal(err)
	}
	if s.Failed != 1 {
		t.Fatalf("failed = %d after the first sync, want 1", s.Failed)
	}
	// The next sync: the Job's status is the one just written, the Pod
	// the informer's older copy, still with its finalizer.
	s2 := s.DeepCopy()
	if err := c.trackFinished(ctx, job, s2, []*corev1.Pod{pod}); err != nil {
		t.Fatal(err)
	}
	if s2.Failed != 1 {
		t.Errorf("failed = %d after a sync on the stale Pod, want 1 (counted twice)", s2.Failed)
	}
}
