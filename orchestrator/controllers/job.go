package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// Job labels and the Pod finalizer, as Kubernetes names them.
const (
	jobTrackingFinalizer = batchv1.JobTrackingFinalizer
	jobUIDLabel          = batchv1.ControllerUidLabel
	jobNameLabel         = batchv1.JobNameLabel
	legacyJobUIDLabel    = "controller-uid"
	legacyJobNameLabel   = "job-name"
	// maxJobBackoff caps the delay before a failed Pod is replaced.
	maxJobBackoff = 6 * time.Minute
	// defaultJobBackoff is the first delay, as Kubernetes'.
	defaultJobBackoff = 10 * time.Second
)

// Reasons and messages of the Job conditions, as Kubernetes words them.
const (
	reasonBackoffLimit     = "BackoffLimitExceeded"
	msgBackoffLimit        = "Job has reached the specified backoff limit"
	reasonDeadline         = "DeadlineExceeded"
	msgDeadline            = "Job was active longer than specified deadline"
	reasonCompletions      = "CompletionsReached"
	msgCompletions         = "Reached expected number of succeeded pods"
	jobConditionSuccessMet = batchv1.JobSuccessCriteriaMet
	jobConditionFailTarget = batchv1.JobFailureTarget
	jobControllerName      = "job-controller"
	jobKindName            = "Job"
)

var jobKind = batchv1.SchemeGroupVersion.WithKind(jobKindName)

// jobController runs Jobs' Pods to completion.
type jobController struct {
	env     *env
	jobs    batchlisters.JobLister
	pods    corelisters.PodLister
	q       *queue
	exp     *expectations
	rec     record.EventRecorder
	backoff time.Duration

	mu       sync.Mutex
	failures map[types.UID]time.Time // last failure seen per Job
	// written is the resourceVersion of each Job's last status write, so
	// that a sync does not decide from an older copy the informer has not
	// replaced yet (the write's own event syncs it again).
	written map[types.UID]int64
	// released holds the Pods whose tracking finalizer the controller
	// removed (so it counted them) until the informer shows it gone: a
	// copy that still has it is not counted a second time, as Kubernetes'
	// finalizer expectations prevent.
	released map[types.UID]bool
}

func newJobController(e *env, backoff time.Duration) *jobController {
	if backoff <= 0 {
		backoff = defaultJobBackoff
	}
	c := &jobController{
		env:      e,
		jobs:     e.factory.Batch().V1().Jobs().Lister(),
		pods:     e.factory.Core().V1().Pods().Lister(),
		exp:      newExpectations(e.now),
		rec:      e.recorder(jobControllerName),
		backoff:  backoff,
		failures: map[types.UID]time.Time{},
		written:  map[types.UID]int64{},
		released: map[types.UID]bool{},
	}
	c.q = newQueue("job", e, c.sync)
	_, _ = e.factory.Batch().V1().Jobs().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, n any) { c.enqueue(n) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if j, ok := obj.(*batchv1.Job); ok {
				c.mu.Lock()
				delete(c.written, j.UID)
				c.mu.Unlock()
			}
			if k, ok := keyOf(obj); ok {
				c.exp.forget(k)
				c.q.add(k)
			}
		},
	})
	_, _ = e.factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if k, _, ok := c.ownerKey(obj); ok {
				c.exp.created(k)
				c.q.add(k)
			}
		},
		UpdateFunc: func(_, n any) {
			if k, p, ok := c.ownerKey(n); ok {
				if !slices.Contains(p.Finalizers, jobTrackingFinalizer) {
					c.forgetReleased(p.UID)
				}
				c.q.add(k)
			}
		},
		DeleteFunc: func(obj any) {
			if k, p, ok := c.ownerKey(obj); ok {
				c.forgetReleased(p.UID)
				c.exp.deleted(k, p.UID)
				c.q.add(k)
			}
		},
	})
	return c
}

func (c *jobController) run(ctx context.Context) { c.q.run(ctx, c.env.workers) }

func (c *jobController) enqueue(obj any) {
	if k, ok := keyOf(obj); ok {
		c.q.add(k)
	}
}

// ownerKey returns the key of the Job controlling a Pod.
func (c *jobController) ownerKey(obj any) (string, *corev1.Pod, bool) {
	p := asPod(obj)
	if p == nil {
		return "", nil, false
	}
	ref := metav1.GetControllerOfNoCopy(p)
	if ref == nil || ref.Kind != jobKindName || ref.APIVersion != batchv1.SchemeGroupVersion.String() {
		return "", nil, false
	}
	return p.Namespace + "/" + ref.Name, p, true
}

// jobFinished returns the Job's Complete or Failed condition when true.
func jobFinished(j *batchv1.Job) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		c := &j.Status.Conditions[i]
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

func jobCondition(j *batchv1.JobStatus, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Conditions {
		if j.Conditions[i].Type == t && j.Conditions[i].Status == corev1.ConditionTrue {
			return &j.Conditions[i]
		}
	}
	return nil
}

// sync drives one Job.
func (c *jobController) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.jobs.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.exp.forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	if c.stale(cached) {
		return nil
	}
	j := cached.DeepCopy()
	now := c.env.now()
	if errs := ValidatePodFailurePolicy(&j.Spec, field.NewPath("spec")); len(errs) > 0 && jobFinished(j) == nil {
		// kube-apiserver would have refused it; here the Job is left
		// alone, with the refusal as an Event, until it is fixed.
		c.rec.Event(j, corev1.EventTypeWarning, "FailedCreate", invalidJobError(j, errs).Error())
		return nil
	}
	pods, err := c.jobPods(ctx, j)
	if err != nil {
		return err
	}
	s := j.Status.DeepCopy()
	// Count the Pods that finished since the last sync, through
	// uncountedTerminatedPods and the tracking finalizer, so that none is
	// counted twice or lost when it is deleted.
	if err := c.trackFinished(ctx, j, s, pods); err != nil {
		return err
	}
	if f := jobFinished(j); f != nil {
		return c.finished(ctx, j, f, now)
	}
	var active []*corev1.Pod
	var ready, terminating int32
	for _, p := range pods {
		if p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			terminating++
		}
		if podActive(p) {
			active = append(active, p)
			if podReady(p) {
				ready++
			}
		}
	}
	suspended := j.Spec.Suspend != nil && *j.Spec.Suspend
	// Suspending and resuming show in the Suspended condition; a resumed
	// Job's active deadline counts from the resumption.
	susp := jobConditionAny(s, batchv1.JobSuspended)
	switch {
	case suspended && (susp == nil || susp.Status != corev1.ConditionTrue):
		setJobConditionStatus(s, batchv1.JobSuspended, corev1.ConditionTrue, "JobSuspended", "Job suspended", now)
		c.rec.Event(j, corev1.EventTypeNormal, "Suspended", "Job suspended")
	case !suspended && susp != nil && susp.Status == corev1.ConditionTrue:
		setJobConditionStatus(s, batchv1.JobSuspended, corev1.ConditionFalse, "JobResumed", "Job resumed", now)
		c.rec.Event(j, corev1.EventTypeNormal, "Resumed", "Job resumed")
		s.StartTime = nil
	}
	if s.StartTime == nil && !suspended {
		t := metav1.NewTime(now)
		s.StartTime = &t
	}
	completions := j.Spec.Completions
	parallelism := int32(1)
	if j.Spec.Parallelism != nil {
		parallelism = *j.Spec.Parallelism
	}
	backoffLimit := int32(6)
	if j.Spec.BackoffLimit != nil {
		backoffLimit = *j.Spec.BackoffLimit
	}

	// Decide the outcome: a failure target, a success, or keep going. A
	// Job with a backoff limit per index counts failures by index only.
	var failReason, failMsg string
	var indexReason, indexMsg string
	if perIndexJob(j) {
		if s.FailedIndexes == nil {
			none := ""
			s.FailedIndexes = &none
		}
		indexReason, indexMsg = perIndexOutcome(j, s)
	}
	switch {
	case jobCondition(s, jobConditionFailTarget) != nil:
		c := jobCondition(s, jobConditionFailTarget)
		failReason, failMsg = c.Reason, c.Message
	case indexReason != "":
		failReason, failMsg = indexReason, indexMsg
	case !perIndexJob(j) && s.Failed > backoffLimit:
		failReason, failMsg = reasonBackoffLimit, msgBackoffLimit
	case j.Spec.ActiveDeadlineSeconds != nil && s.StartTime != nil && !suspended &&
		!now.Before(s.StartTime.Add(time.Duration(*j.Spec.ActiveDeadlineSeconds)*time.Second)):
		failReason, failMsg = reasonDeadline, msgDeadline
	}
	succeeded := jobCondition(s, jobConditionSuccessMet) != nil
	if failReason == "" && !succeeded {
		if indexedJob(j) {
			succeeded = len(parseIndexes(s.CompletedIndexes)) >= int(*completions)
		} else if completions != nil {
			succeeded = s.Succeeded >= *completions
		} else {
			succeeded = s.Succeeded > 0 && len(active) == 0
		}
	}
	var manageErr error
	delta := 0
	switch {
	case failReason != "":
		if jobCondition(s, jobConditionFailTarget) == nil {
			setJobCondition(s, jobConditionFailTarget, failReason, failMsg, now)
			c.rec.Event(j, corev1.EventTypeWarning, failReason, failMsg)
		}
		manageErr = c.deletePods(ctx, key, j, active)
		active = nil
		if pendingFinalizers(pods) == 0 {
			setJobCondition(s, batchv1.JobFailed, failReason, failMsg, now)
		}
	case succeeded:
		if jobCondition(s, jobConditionSuccessMet) == nil {
			setJobCondition(s, jobConditionSuccessMet, reasonCompletions, msgCompletions, now)
		}
		manageErr = c.deletePods(ctx, key, j, active)
		active = nil
		if pendingFinalizers(pods) == 0 {
			setJobCondition(s, batchv1.JobComplete, reasonCompletions, msgCompletions, now)
			t := metav1.NewTime(now)
			s.CompletionTime = &t
			c.rec.Event(j, corev1.EventTypeNormal, "Completed", "Job completed")
		}
	case suspended:
		manageErr = c.deletePods(ctx, key, j, active)
		active = nil
	case c.exp.satisfied(key) && indexedJob(j):
		del, starts := indexPlan(j, s, pods, active, parallelism)
		if len(del) > 0 {
			manageErr = c.deletePods(ctx, key, j, del)
			delta = -len(del)
			break
		}
		if len(starts) == 0 {
			break
		}
		if wait := c.backoffLeft(j, s, now); wait > 0 {
			c.q.addAfter(key, wait)
			break
		}
		c.exp.expect(key, len(starts), nil)
		var next atomic.Int32
		made, err := slowStart(len(starts), func() error {
			i := starts[next.Add(1)-1]
			return c.createPod(ctx, j, i, nextIndexFailures(j, pods, i))
		})
		for range len(starts) - made {
			c.exp.created(key)
		}
		delta = made
		manageErr = err
	case c.exp.satisfied(key):
		want := parallelism
		if completions != nil {
			want = min(parallelism, max(0, *completions-s.Succeeded))
		} else if s.Succeeded > 0 {
			want = min(want, int32(len(active)))
		}
		have := int32(len(active))
		switch {
		case have > want:
			manageErr = c.deletePods(ctx, key, j, podsToDelete(active, int(have-want)))
			delta = -int(have - want)
		case have < want:
			wait := c.backoffLeft(j, s, now)
			if wait > 0 {
				c.q.addAfter(key, wait)
				break
			}
			n := int(want - have)
			c.exp.expect(key, n, nil)
			made, err := slowStart(n, func() error { return c.createPod(ctx, j, -1, 0) })
			for range n - made {
				c.exp.created(key)
			}
			delta = made
			manageErr = err
		}
	}
	s.Active = int32(max(0, len(active)+delta))
	s.Ready = &ready
	s.Terminating = &terminating
	if err := c.writeStatus(ctx, j, s); err != nil {
		return err
	}
	// Wake up for the deadline.
	if failReason == "" && !succeeded && j.Spec.ActiveDeadlineSeconds != nil && s.StartTime != nil {
		left := s.StartTime.Add(time.Duration(*j.Spec.ActiveDeadlineSeconds) * time.Second).Sub(now)
		if left > 0 {
			c.q.addAfter(key, left+10*time.Millisecond)
		}
	}
	return manageErr
}

// pendingFinalizers counts Pods still carrying the tracking finalizer.
func pendingFinalizers(pods []*corev1.Pod) int {
	n := 0
	for _, p := range pods {
		if slices.Contains(p.Finalizers, jobTrackingFinalizer) {
			n++
		}
	}
	return n
}

// jobConditionAny returns the condition of type t whatever its status.
func jobConditionAny(s *batchv1.JobStatus, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			return &s.Conditions[i]
		}
	}
	return nil
}

func setJobCondition(s *batchv1.JobStatus, t batchv1.JobConditionType, reason, msg string, now time.Time) {
	setJobConditionStatus(s, t, corev1.ConditionTrue, reason, msg, now)
}

// setJobConditionStatus sets condition t to st, unless it has it already.
func setJobConditionStatus(s *batchv1.JobStatus, t batchv1.JobConditionType, st corev1.ConditionStatus, reason, msg string, now time.Time) {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			if s.Conditions[i].Status == st {
				return
			}
			s.Conditions[i].Status = st
			s.Conditions[i].Reason, s.Conditions[i].Message = reason, msg
			s.Conditions[i].LastProbeTime = metav1.NewTime(now)
			s.Conditions[i].LastTransitionTime = metav1.NewTime(now)
			return
		}
	}
	s.Conditions = append(s.Conditions, batchv1.JobCondition{
		Type: t, Status: st, Reason: reason, Message: msg,
		LastProbeTime: metav1.NewTime(now), LastTransitionTime: metav1.NewTime(now),
	})
}

// backoffLeft is how long to wait before replacing a failed Pod: the
// back-off doubles per failure, capped at six minutes.
func (c *jobController) backoffLeft(j *batchv1.Job, s *batchv1.JobStatus, now time.Time) time.Duration {
	if s.Failed == 0 {
		return 0
	}
	c.mu.Lock()
	last, ok := c.failures[j.UID]
	c.mu.Unlock()
	if !ok {
		return 0
	}
	d := c.backoff
	for i := int32(1); i < s.Failed && d < maxJobBackoff; i++ {
		d *= 2
	}
	d = min(d, maxJobBackoff)
	return last.Add(d).Sub(now)
}

// jobPods returns the Pods the Job controls: by its selector when it has
// one (adopting and releasing), else by ownerReference alone.
func (c *jobController) jobPods(ctx context.Context, j *batchv1.Job) ([]*corev1.Pod, error) {
	all, err := c.pods.Pods(j.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	if j.Spec.Selector == nil {
		var out []*corev1.Pod
		for _, p := range all {
			if ref := metav1.GetControllerOfNoCopy(p); ref != nil && ref.UID == j.UID {
				out = append(out, p)
			}
		}
		return out, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector)
	if err != nil {
		return nil, nil
	}
	o := &owner{meta: j, gvk: jobKind, selector: sel, fresh: func(ctx context.Context) (metav1.Object, error) {
		return c.env.client.BatchV1().Jobs(j.Namespace).Get(ctx, j.Name, metav1.GetOptions{})
	}}
	return claim(ctx, o, all, func(ctx context.Context, n string, patch []byte) error {
		_, err := c.env.client.CoreV1().Pods(j.Namespace).Patch(ctx, n, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		return err
	})
}

// trackFinished moves Pods that finished (or are being deleted) into the
// counters: their uids go to uncountedTerminatedPods, then their
// finalizer is removed, then they are counted.
func (c *jobController) trackFinished(ctx context.Context, j *batchv1.Job, s *batchv1.JobStatus, pods []*corev1.Pod) error {
	if s.UncountedTerminatedPods == nil {
		s.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	}
	u := s.UncountedTerminatedPods
	known := map[types.UID]bool{}
	for _, id := range u.Succeeded {
		known[id] = true
	}
	for _, id := range u.Failed {
		known[id] = true
	}
	var newFailure bool
	var toRelease []*corev1.Pod
	for _, p := range pods {
		if !slices.Contains(p.Finalizers, jobTrackingFinalizer) || c.isReleased(p.UID) {
			continue
		}
		done := p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed || p.DeletionTimestamp != nil
		if !done {
			continue
		}
		toRelease = append(toRelease, p)
		if known[p.UID] {
			continue
		}
		if p.Status.Phase == corev1.PodSucceeded {
			u.Succeeded = append(u.Succeeded, p.UID)
			continue
		}
		// The first rule of the podFailurePolicy the Pod matches decides:
		// Ignore does not count it, FailJob fails the Job.
		m := matchPodFailurePolicy(j.Spec.PodFailurePolicy, p)
		if m != nil && m.action == batchv1.PodFailurePolicyActionIgnore {
			continue
		}
		if m != nil && m.action == batchv1.PodFailurePolicyActionFailJob && jobCondition(s, jobConditionFailTarget) == nil && jobFinished(j) == nil {
			setJobCondition(s, jobConditionFailTarget, reasonPodFailurePolicy, m.message, c.env.now())
			c.rec.Event(j, corev1.EventTypeWarning, reasonPodFailurePolicy, m.message)
		}
		if perIndexJob(j) {
			failIndex(j, s, p, m)
		}
		u.Failed = append(u.Failed, p.UID)
		newFailure = true
	}
	if newFailure {
		c.mu.Lock()
		c.failures[j.UID] = c.env.now()
		c.mu.Unlock()
	}
	if len(toRelease) == 0 && len(u.Succeeded) == 0 && len(u.Failed) == 0 {
		return nil
	}
	// Step one: record the uids.
	if err := c.writeStatus(ctx, j, s); err != nil {
		return err
	}
	// Step two: drop the finalizers.
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"$deleteFromPrimitiveList/finalizers": []string{jobTrackingFinalizer}}})
	var errs []error
	for _, p := range toRelease {
		// Marked before the request, so that the informer's update,
		// which may come before the reply, clears the mark.
		c.mu.Lock()
		c.released[p.UID] = true
		c.mu.Unlock()
		_, err := c.env.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			c.forgetReleased(p.UID)
			errs = append(errs, fmt.Errorf("removing the tracking finalizer of pod %s: %w", p.Name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Step three: count them (an Indexed Job counts completed indexes).
	if indexedJob(j) {
		done := parseIndexes(s.CompletedIndexes)
		for _, p := range toRelease {
			if i := podIndex(p); p.Status.Phase == corev1.PodSucceeded && i >= 0 && i < int(*j.Spec.Completions) {
				done[i] = true
			}
		}
		s.CompletedIndexes = formatIndexes(done)
		s.Succeeded = int32(len(done))
	} else {
		s.Succeeded += int32(len(u.Succeeded))
	}
	s.Failed += int32(len(u.Failed))
	u.Succeeded, u.Failed = nil, nil
	for i, p := range pods {
		if slices.Contains(toRelease, p) {
			cp := p.DeepCopy()
			cp.Finalizers = slices.DeleteFunc(cp.Finalizers, func(f string) bool { return f == jobTrackingFinalizer })
			pods[i] = cp
		}
	}
	return c.writeStatus(ctx, j, s)
}

// finished handles a Job that completed or failed: it only waits for its
// ttlSecondsAfterFinished and then deletes it with its Pods.
func (c *jobController) finished(ctx context.Context, j *batchv1.Job, f *batchv1.JobCondition, now time.Time) error {
	if j.Spec.TTLSecondsAfterFinished == nil || j.DeletionTimestamp != nil {
		return nil
	}
	at := f.LastTransitionTime.Time
	if j.Status.CompletionTime != nil && f.Type == batchv1.JobComplete {
		at = j.Status.CompletionTime.Time
	}
	expire := at.Add(time.Duration(*j.Spec.TTLSecondsAfterFinished) * time.Second)
	if now.Before(expire) {
		c.q.addAfter(j.Namespace+"/"+j.Name, expire.Sub(now)+10*time.Millisecond)
		return nil
	}
	policy := metav1.DeletePropagationForeground
	err := c.env.client.BatchV1().Jobs(j.Namespace).Delete(ctx, j.Name, metav1.DeleteOptions{
		PropagationPolicy: &policy,
		Preconditions:     &metav1.Preconditions{UID: &j.UID, ResourceVersion: &j.ResourceVersion},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting job %s/%s after its ttl: %w", j.Namespace, j.Name, err)
	}
	c.mu.Lock()
	delete(c.failures, j.UID)
	c.mu.Unlock()
	return nil
}

// createPod creates one Pod of the Job; of completion index index when
// it is not negative, after failures counted failures of that index.
func (c *jobController) createPod(ctx context.Context, j *batchv1.Job, index int, failures int32) error {
	o := &owner{meta: j, gvk: jobKind}
	p := podFromTemplate(&j.Spec.Template, j.Name+"-", o.ref())
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	if j.Spec.Selector == nil {
		// The API server here does not generate the selector and labels
		// kube-apiserver gives a Job; put them on the Pods ourselves.
		maps.Copy(p.Labels, map[string]string{
			jobUIDLabel: string(j.UID), jobNameLabel: j.Name,
			legacyJobUIDLabel: string(j.UID), legacyJobNameLabel: j.Name,
		})
	}
	if index >= 0 {
		setIndex(p, j, index)
		if perIndexJob(j) {
			p.Annotations[batchv1.JobIndexFailureCountAnnotation] = strconv.Itoa(int(failures))
		}
	}
	p.Finalizers = append(p.Finalizers, jobTrackingFinalizer)
	made, err := c.env.client.CoreV1().Pods(j.Namespace).Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil
		}
		c.rec.Eventf(j, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
		return err
	}
	c.rec.Eventf(j, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %v", made.Name)
	return nil
}

// deletePods deletes the given active Pods; they are counted as failed
// when their finalizers come off.
func (c *jobController) deletePods(ctx context.Context, key string, j *batchv1.Job, pods []*corev1.Pod) error {
	if len(pods) == 0 {
		return nil
	}
	uids := make([]types.UID, len(pods))
	for i, p := range pods {
		uids[i] = p.UID
	}
	c.exp.expect(key, 0, uids)
	var errs []error
	for _, p := range pods {
		err := c.env.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
		switch {
		case err == nil:
			c.rec.Eventf(j, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %v", p.Name)
		case apierrors.IsNotFound(err):
			c.exp.deleted(key, p.UID)
		default:
			c.exp.deleted(key, p.UID)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// writeStatus stores s when it differs from the Job's status.
func (c *jobController) writeStatus(ctx context.Context, j *batchv1.Job, s *batchv1.JobStatus) error {
	if s.UncountedTerminatedPods != nil && len(s.UncountedTerminatedPods.Succeeded) == 0 && len(s.UncountedTerminatedPods.Failed) == 0 && j.Status.UncountedTerminatedPods == nil {
		s.UncountedTerminatedPods = nil
	}
	if apiequality.Semantic.DeepEqual(j.Status, *s) {
		return nil
	}
	next := j.DeepCopy()
	next.Status = *s
	out, err := c.env.client.BatchV1().Jobs(j.Namespace).UpdateStatus(ctx, next, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("updating the status of job %s/%s: %w", j.Namespace, j.Name, err)
	}
	j.Status = *out.Status.DeepCopy()
	j.ResourceVersion = out.ResourceVersion
	if rv, err := strconv.ParseInt(out.ResourceVersion, 10, 64); err == nil {
		c.mu.Lock()
		c.written[j.UID] = rv
		c.mu.Unlock()
	}
	return nil
}

// isReleased reports whether the controller removed uid's tracking
// finalizer and the informer has not shown that yet.
func (c *jobController) isReleased(uid types.UID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.released[uid]
}

func (c *jobController) forgetReleased(uid types.UID) {
	c.mu.Lock()
	delete(c.released, uid)
	c.mu.Unlock()
}

// stale reports whether the informer's copy of j is older than the
// controller's last status write: deciding from it would count again, or
// start again, what that write already settled.
func (c *jobController) stale(j *batchv1.Job) bool {
	rv, err := strconv.ParseInt(j.ResourceVersion, 10, 64)
	if err != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return rv < c.written[j.UID]
}
