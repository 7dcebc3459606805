package controllers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// scheduledTimestampAnnotation records on a Job the time its CronJob
// scheduled it, as Kubernetes does.
const scheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"

// nextScheduleDelta is added to the wait for the next schedule, so the
// sync lands just after it.
const nextScheduleDelta = 100 * time.Millisecond

var cronJobKind = batchv1.SchemeGroupVersion.WithKind("CronJob")

// cronJobController starts Jobs on CronJobs' schedules.
type cronJobController struct {
	env  *env
	cjs  batchlisters.CronJobLister
	jobs batchlisters.JobLister
	q    *queue
	rec  record.EventRecorder
}

func newCronJobController(e *env) *cronJobController {
	c := &cronJobController{
		env:  e,
		cjs:  e.factory.Batch().V1().CronJobs().Lister(),
		jobs: e.factory.Batch().V1().Jobs().Lister(),
		rec:  e.recorder("cronjob-controller"),
	}
	c.q = newQueue("cronjob", e, c.sync)
	_, _ = e.factory.Batch().V1().CronJobs().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, n any) { c.enqueue(n) },
		DeleteFunc: c.enqueue,
	})
	jobChanged := func(obj any) {
		var j *batchv1.Job
		switch o := obj.(type) {
		case *batchv1.Job:
			j = o
		case cache.DeletedFinalStateUnknown:
			j, _ = o.Obj.(*batchv1.Job)
		}
		if j == nil {
			return
		}
		if ref := metav1.GetControllerOfNoCopy(j); ref != nil && ref.Kind == cronJobKind.Kind {
			c.q.add(j.Namespace + "/" + ref.Name)
		}
	}
	_, _ = e.factory.Batch().V1().Jobs().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    jobChanged,
		UpdateFunc: func(_, n any) { jobChanged(n) },
		DeleteFunc: jobChanged,
	})
	return c
}

func (c *cronJobController) run(ctx context.Context) { c.q.run(ctx, c.env.workers) }

func (c *cronJobController) enqueue(obj any) {
	if k, ok := keyOf(obj); ok {
		c.q.add(k)
	}
}

// jobFinishedType is "Complete" or "Failed" for a finished Job, else "".
func jobFinishedType(j *batchv1.Job) batchv1.JobConditionType {
	if f := jobFinished(j); f != nil {
		return f.Type
	}
	return ""
}

func (c *cronJobController) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.cjs.CronJobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	cj := cached.DeepCopy()
	all, err := c.jobs.Jobs(ns).List(labels.Everything())
	if err != nil {
		return err
	}
	var owned []*batchv1.Job
	for _, j := range all {
		if ref := metav1.GetControllerOfNoCopy(j); ref != nil && ref.UID == cj.UID {
			owned = append(owned, j)
		}
	}
	now := c.env.now()
	if err := c.reconcileActive(ctx, cj, owned); err != nil {
		return err
	}
	if err := c.cleanupHistory(ctx, cj, owned); err != nil {
		return err
	}
	wait, err := c.schedule(ctx, cj, now)
	if serr := c.writeStatus(ctx, cached, cj); serr != nil {
		return serr
	}
	if err != nil {
		return err
	}
	if wait != nil {
		c.q.addAfter(key, *wait)
	}
	return nil
}

// reconcileActive brings status.active and lastSuccessfulTime in line
// with the Jobs that exist.
func (c *cronJobController) reconcileActive(ctx context.Context, cj *batchv1.CronJob, owned []*batchv1.Job) error {
	byUID := map[string]*batchv1.Job{}
	for _, j := range owned {
		byUID[string(j.UID)] = j
		inActive := slices.ContainsFunc(cj.Status.Active, func(r corev1.ObjectReference) bool { return r.UID == j.UID })
		switch ft := jobFinishedType(j); {
		case ft == "" && !inActive:
			// A Job of ours the status lost (or a restart): active again.
			cj.Status.Active = append(cj.Status.Active, jobRef(j))
		case ft != "" && inActive:
			c.rec.Eventf(cj, corev1.EventTypeNormal, "SawCompletedJob", "Saw completed job: %s, condition: %v", j.Name, ft)
			cj.Status.Active = slices.DeleteFunc(cj.Status.Active, func(r corev1.ObjectReference) bool { return r.UID == j.UID })
		}
		if jobFinishedType(j) == batchv1.JobComplete && j.Status.CompletionTime != nil {
			if cj.Status.LastSuccessfulTime == nil || cj.Status.LastSuccessfulTime.Before(j.Status.CompletionTime) {
				t := *j.Status.CompletionTime
				cj.Status.LastSuccessfulTime = &t
			}
		}
	}
	var keep []corev1.ObjectReference
	for _, r := range cj.Status.Active {
		if byUID[string(r.UID)] != nil {
			keep = append(keep, r)
			continue
		}
		// Not in the cache: ask the API before calling it gone.
		j, err := c.env.client.BatchV1().Jobs(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err) || (err == nil && j.UID != r.UID):
			c.rec.Eventf(cj, corev1.EventTypeNormal, "MissingJob", "Active job went missing: %v", r.Name)
		case err != nil:
			return err
		default:
			keep = append(keep, r)
		}
	}
	cj.Status.Active = keep
	return nil
}

func jobRef(j *batchv1.Job) corev1.ObjectReference {
	return corev1.ObjectReference{
		Kind: "Job", Namespace: j.Namespace, Name: j.Name, UID: j.UID,
		APIVersion: batchv1.SchemeGroupVersion.String(), ResourceVersion: j.ResourceVersion,
	}
}

// cleanupHistory deletes the oldest finished Jobs beyond the history
// limits.
func (c *cronJobController) cleanupHistory(ctx context.Context, cj *batchv1.CronJob, owned []*batchv1.Job) error {
	if cj.DeletionTimestamp != nil {
		return nil
	}
	limits := map[batchv1.JobConditionType]*int32{
		batchv1.JobComplete: cj.Spec.SuccessfulJobsHistoryLimit,
		batchv1.JobFailed:   cj.Spec.FailedJobsHistoryLimit,
	}
	for typ, limit := range limits {
		if limit == nil {
			continue
		}
		var done []*batchv1.Job
		for _, j := range owned {
			if jobFinishedType(j) == typ && j.DeletionTimestamp == nil {
				done = append(done, j)
			}
		}
		if len(done) <= int(*limit) {
			continue
		}
		slices.SortFunc(done, func(a, b *batchv1.Job) int { return jobStart(a).Compare(jobStart(b)) })
		for _, j := range done[:len(done)-int(*limit)] {
			if err := c.deleteJob(ctx, cj, j); err != nil {
				return err
			}
		}
	}
	return nil
}

// jobStart is when a Job started, or was created.
func jobStart(j *batchv1.Job) time.Time {
	if j.Status.StartTime != nil {
		return j.Status.StartTime.Time
	}
	return j.CreationTimestamp.Time
}

func (c *cronJobController) deleteJob(ctx context.Context, cj *batchv1.CronJob, j *batchv1.Job) error {
	policy := metav1.DeletePropagationBackground
	err := c.env.client.BatchV1().Jobs(j.Namespace).Delete(ctx, j.Name, metav1.DeleteOptions{PropagationPolicy: &policy})
	if err != nil && !apierrors.IsNotFound(err) {
		c.rec.Eventf(cj, corev1.EventTypeWarning, "FailedDelete", "Deleted job: %v", err)
		return fmt.Errorf("deleting job %s/%s: %w", j.Namespace, j.Name, err)
	}
	c.rec.Eventf(cj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted job %v", j.Name)
	cj.Status.Active = slices.DeleteFunc(cj.Status.Active, func(r corev1.ObjectReference) bool { return r.UID == j.UID })
	return nil
}

// schedule starts the Job of the most recent schedule time when it is
// due, and returns how long until the next one (nil: never again until
// the CronJob changes).
func (c *cronJobController) schedule(ctx context.Context, cj *batchv1.CronJob, now time.Time) (*time.Duration, error) {
	if cj.DeletionTimestamp != nil {
		return nil, nil
	}
	loc := time.UTC
	if cj.Spec.TimeZone != nil {
		l, err := time.LoadLocation(*cj.Spec.TimeZone)
		if err != nil {
			c.rec.Eventf(cj, corev1.EventTypeWarning, "UnknownTimeZone", "invalid timeZone: %q: %s", *cj.Spec.TimeZone, err)
			return nil, nil
		}
		loc = l
	}
	if strings.Contains(cj.Spec.Schedule, "TZ") {
		c.rec.Eventf(cj, corev1.EventTypeWarning, "UnsupportedSchedule", "CRON_TZ or TZ used in schedule %q is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details", cj.Spec.Schedule)
	}
	sched, err := parseSchedule(cj.Spec.Schedule, loc)
	if err != nil {
		c.rec.Eventf(cj, corev1.EventTypeWarning, "UnparseableSchedule", "unparseable schedule: %q : %s", cj.Spec.Schedule, err)
		return nil, nil
	}
	if cj.Spec.Suspend != nil && *cj.Spec.Suspend {
		return nil, nil
	}
	next := func() *time.Duration {
		_, recent, _ := mostRecentSchedule(cj, now, sched, false)
		from := cj.CreationTimestamp.Time
		if cj.Status.LastScheduleTime != nil {
			from = cj.Status.LastScheduleTime.Time
		}
		if recent != nil {
			from = *recent
		}
		n := sched.next(from)
		if n.IsZero() {
			return nil
		}
		d := n.Add(nextScheduleDelta).Sub(now)
		return &d
	}
	_, scheduled, missed := mostRecentSchedule(cj, now, sched, true)
	if scheduled == nil {
		return next(), nil
	}
	if missed > 100 {
		c.rec.Eventf(cj, corev1.EventTypeWarning, "TooManyMissedTimes", "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew")
	}
	if d := cj.Spec.StartingDeadlineSeconds; d != nil && scheduled.Add(time.Duration(*d)*time.Second).Before(now) {
		c.rec.Eventf(cj, corev1.EventTypeWarning, "MissSchedule", "Missed scheduled time to start a job: %s", scheduled.UTC().Format(time.RFC1123Z))
		return next(), nil
	}
	jobName := fmt.Sprintf("%s-%d", cj.Name, scheduled.Unix()/60)
	if slices.ContainsFunc(cj.Status.Active, func(r corev1.ObjectReference) bool { return r.Name == jobName }) ||
		(cj.Status.LastScheduleTime != nil && cj.Status.LastScheduleTime.Time.Equal(*scheduled)) {
		return next(), nil
	}
	if cj.Spec.ConcurrencyPolicy == batchv1.ForbidConcurrent && len(cj.Status.Active) > 0 {
		c.rec.Eventf(cj, corev1.EventTypeNormal, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
		return next(), nil
	}
	if cj.Spec.ConcurrencyPolicy == batchv1.ReplaceConcurrent {
		for _, r := range slices.Clone(cj.Status.Active) {
			j, err := c.jobs.Jobs(r.Namespace).Get(r.Name)
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if err := c.deleteJob(ctx, cj, j); err != nil {
				return nil, err
			}
		}
	}
	job := jobFromCronJob(cj, jobName, *scheduled, loc)
	made, err := c.env.client.BatchV1().Jobs(cj.Namespace).Create(ctx, job, metav1.CreateOptions{})
	switch {
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return nil, nil
	case apierrors.IsAlreadyExists(err):
		return next(), nil
	case err != nil:
		c.rec.Eventf(cj, corev1.EventTypeWarning, "FailedCreate", "Error creating job: %v", err)
		return nil, err
	}
	c.rec.Eventf(cj, corev1.EventTypeNormal, "SuccessfulCreate", "Created job %v", made.Name)
	cj.Status.Active = append(cj.Status.Active, jobRef(made))
	t := metav1.NewTime(*scheduled)
	cj.Status.LastScheduleTime = &t
	return next(), nil
}

// mostRecentSchedule returns the earliest time considered, the latest
// schedule time in (earliest, now] and how many were missed, as the
// CronJob controller counts them: from the last schedule time (or the
// creation), no earlier than startingDeadlineSeconds ago when asked.
func mostRecentSchedule(cj *batchv1.CronJob, now time.Time, s *schedule, withDeadline bool) (time.Time, *time.Time, int) {
	earliest := cj.CreationTimestamp.Time
	if cj.Status.LastScheduleTime != nil {
		earliest = cj.Status.LastScheduleTime.Time
	}
	if withDeadline && cj.Spec.StartingDeadlineSeconds != nil {
		if d := now.Add(-time.Duration(*cj.Spec.StartingDeadlineSeconds) * time.Second); d.After(earliest) {
			earliest = d
		}
	}
	var recent *time.Time
	missed := 0
	for t := s.next(earliest); !t.IsZero() && !t.After(now); t = s.next(t) {
		tt := t
		recent = &tt
		missed++
		if missed > 10000 {
			// Far behind: jump by the interval between two schedules.
			gap := s.next(t).Sub(t)
			if gap <= 0 {
				break
			}
			skip := now.Sub(t) / gap
			if skip > 1 {
				t = t.Add((skip - 1) * gap)
				missed += int(skip - 1)
			}
		}
	}
	return earliest, recent, missed
}

// jobFromCronJob builds the Job a CronJob starts at scheduled.
func jobFromCronJob(cj *batchv1.CronJob, name string, scheduled time.Time, loc *time.Location) *batchv1.Job {
	o := &owner{meta: cj, gvk: cronJobKind}
	ann := maps.Clone(cj.Spec.JobTemplate.Annotations)
	if ann == nil {
		ann = map[string]string{}
	}
	ann[scheduledTimestampAnnotation] = scheduled.In(loc).Format(time.RFC3339)
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       cj.Namespace,
			Labels:          maps.Clone(cj.Spec.JobTemplate.Labels),
			Annotations:     ann,
			OwnerReferences: []metav1.OwnerReference{o.ref()},
		},
	}
	cj.Spec.JobTemplate.Spec.DeepCopyInto(&j.Spec)
	return j
}

// writeStatus stores the CronJob's status when it changed.
func (c *cronJobController) writeStatus(ctx context.Context, old, cj *batchv1.CronJob) error {
	if apiequality.Semantic.DeepEqual(old.Status, cj.Status) {
		return nil
	}
	if _, err := c.env.client.BatchV1().CronJobs(cj.Namespace).UpdateStatus(ctx, cj, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("updating the status of cronjob %s/%s: %w", cj.Namespace, cj.Name, err)
	}
	return nil
}
