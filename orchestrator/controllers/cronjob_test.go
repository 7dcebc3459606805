package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	clocktesting "k8s.io/utils/clock/testing"
)

// fastClock is a fake clock that runs ten seconds every 20ms (a minute in
// about 120ms), until the test ends.
func fastClock(t *testing.T) *clocktesting.FakeClock {
	clk := clocktesting.NewFakeClock(time.Now())
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				clk.Step(10 * time.Second)
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return clk
}

func newCronJob(name, sched string, policy batchv1.ConcurrencyPolicy) *batchv1.CronJob {
	tmpl := podTemplate(name, "task:1")
	tmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: batchv1.CronJobSpec{
			Schedule:                   sched,
			ConcurrencyPolicy:          policy,
			SuccessfulJobsHistoryLimit: ptr(int32(1)),
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"cron": name}},
				Spec:       batchv1.JobSpec{Template: tmpl},
			},
		},
	}
}

func cronJobs(t *testing.T, client kubernetes.Interface, ns, name string) []batchv1.Job {
	t.Helper()
	l, err := client.BatchV1().Jobs(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "cron=" + name})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(l.Items, func(a, b batchv1.Job) int { return strings.Compare(a.Name, b.Name) })
	return l.Items
}

// completeJob marks a Job Complete, standing in for the Job controller.
func completeJob(t *testing.T, client kubernetes.Interface, j batchv1.Job, at time.Time) {
	t.Helper()
	now := metav1.NewTime(at)
	j.Status.StartTime = &now
	j.Status.CompletionTime = &now
	j.Status.Succeeded = 1
	j.Status.Conditions = []batchv1.JobCondition{
		{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now},
	}
	if _, err := client.BatchV1().Jobs(j.Namespace).UpdateStatus(context.Background(), &j, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("completing job %s: %v", j.Name, err)
	}
}

func TestCronJobForbidHistoryAndSuspend(t *testing.T) {
	t.Parallel()
	clk := fastClock(t)
	client, ns := start(t, Options{Controllers: []string{CronJobController}, Clock: clk})
	ctx := context.Background()
	if _, err := client.BatchV1().CronJobs(ns).Create(ctx, newCronJob("tick", "* * * * *", batchv1.ForbidConcurrent), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the first job", func() (bool, error) { return len(cronJobs(t, client, ns, "tick")) == 1, nil })
	first := cronJobs(t, client, ns, "tick")[0]
	stamp, err := time.Parse(time.RFC3339, first.Annotations[scheduledTimestampAnnotation])
	if err != nil {
		t.Fatalf("scheduled timestamp annotation %q: %v", first.Annotations[scheduledTimestampAnnotation], err)
	}
	if first.Name != fmt.Sprintf("tick-%d", stamp.Unix()/60) || stamp.Second() != 0 {
		t.Errorf("job %s scheduled at %v", first.Name, stamp)
	}
	if ref := metav1.GetControllerOf(&first); ref == nil || ref.Kind != "CronJob" || ref.Name != "tick" {
		t.Errorf("owner %v", first.OwnerReferences)
	}
	eventually(t, 5*time.Second, "status.active", func() (bool, error) {
		cj, err := client.BatchV1().CronJobs(ns).Get(ctx, "tick", metav1.GetOptions{})
		return err == nil && len(cj.Status.Active) == 1 && cj.Status.Active[0].Name == first.Name && cj.Status.LastScheduleTime != nil, err
	})

	// Forbid: while the first runs, later schedules are skipped.
	eventually(t, 5*time.Second, "JobAlreadyActive", func() (bool, error) {
		return slices.ContainsFunc(eventsFor(t, client, ns, "tick"), func(e string) bool {
			return e == "JobAlreadyActive: Not starting job because prior execution is running and concurrency policy is Forbid"
		}), nil
	})
	if n := len(cronJobs(t, client, ns, "tick")); n != 1 {
		t.Fatalf("%d jobs while the first is active under Forbid", n)
	}

	// Once it completes the next schedule starts another; the history
	// limit of 1 then removes the first.
	completeJob(t, client, first, clk.Now())
	eventually(t, 5*time.Second, "a second job", func() (bool, error) { return len(cronJobs(t, client, ns, "tick")) == 2, nil })
	second := cronJobs(t, client, ns, "tick")[1]
	completeJob(t, client, second, clk.Now())
	// CI once timed this out after 5 s: the wait is longer now, and a
	// timeout shows what the controller had done.
	deadline := time.Now().Add(15 * time.Second)
	for {
		jobs := cronJobs(t, client, ns, "tick")
		if len(jobs) == 2 && jobs[0].Name == second.Name {
			break
		}
		if time.Now().After(deadline) {
			var seen []string
			for _, j := range jobs {
				seen = append(seen, fmt.Sprintf("%s (finished %q, deleting %v)", j.Name, jobFinishedType(&j), j.DeletionTimestamp != nil))
			}
			cj, _ := client.BatchV1().CronJobs(ns).Get(ctx, "tick", metav1.GetOptions{})
			t.Fatalf("no third job with the first cleaned up after 15 s (second %s); jobs: %v\nstatus: %+v\nevents: %v",
				second.Name, seen, cj.Status, eventsFor(t, client, ns, "tick"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	cj, err := client.BatchV1().CronJobs(ns).Get(ctx, "tick", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cj.Status.LastSuccessfulTime == nil {
		t.Error("no lastSuccessfulTime")
	}

	// Suspended, it starts nothing however long the clock runs.
	eventually(t, 5*time.Second, "suspending", func() (bool, error) {
		cj, err := client.BatchV1().CronJobs(ns).Get(ctx, "tick", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		cj.Spec.Suspend = ptr(true)
		_, err = client.BatchV1().CronJobs(ns).Update(ctx, cj, metav1.UpdateOptions{})
		return err == nil, err
	})
	time.Sleep(100 * time.Millisecond) // let the informer see it
	jobs := cronJobs(t, client, ns, "tick")
	completeJob(t, client, jobs[len(jobs)-1], clk.Now())
	time.Sleep(400 * time.Millisecond) // over three fake minutes
	if got := cronJobs(t, client, ns, "tick"); len(got) != 1 {
		t.Errorf("%d jobs after suspending, want the last one only", len(got))
	}
}

func TestCronJobReplaceAndBadSchedule(t *testing.T) {
	t.Parallel()
	clk := fastClock(t)
	client, ns := start(t, Options{Controllers: []string{CronJobController}, Clock: clk})
	ctx := context.Background()
	if _, err := client.BatchV1().CronJobs(ns).Create(ctx, newCronJob("swap", "@every 1m", batchv1.ReplaceConcurrent), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The name is taken as the job is seen: on the fast clock the next
	// tick may already have replaced it before a second read.
	var first string
	eventually(t, 5*time.Second, "the first job", func() (bool, error) {
		jobs := cronJobs(t, client, ns, "swap")
		if len(jobs) != 1 {
			return false, nil
		}
		first = jobs[0].Name
		return true, nil
	})
	eventually(t, 5*time.Second, "the first replaced", func() (bool, error) {
		jobs := cronJobs(t, client, ns, "swap")
		return len(jobs) == 1 && jobs[0].Name != first, nil
	})
	eventually(t, 5*time.Second, "delete event", func() (bool, error) {
		return slices.Contains(eventsFor(t, client, ns, "swap"), "SuccessfulDelete: Deleted job "+first), nil
	})

	// A schedule the controller could not parse is refused by the API,
	// as kube-apiserver refuses it, with the parser's message.
	bad := newCronJob("bad", "61 * * * *", batchv1.AllowConcurrent)
	_, err := client.BatchV1().CronJobs(ns).Create(ctx, bad, metav1.CreateOptions{})
	if want := `CronJob.batch "bad" is invalid: spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61`; !apierrors.IsInvalid(err) || err.Error() != want {
		t.Fatalf("bad schedule: %v, want %s", err, want)
	}
}
