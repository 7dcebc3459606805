package controllers

import (
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// Reasons and messages of an Indexed Job with a backoff limit per index
// failing, as Kubernetes words them.
const (
	reasonFailedIndexes    = "FailedIndexes"
	msgFailedIndexes       = "Job has failed indexes"
	reasonMaxFailedIndexes = "MaxFailedIndexesExceeded"
	msgMaxFailedIndexes    = "Job has exceeded the specified maximal number of failed indexes"
)

// perIndexJob reports whether j counts failures per index
// (backoffLimitPerIndex): an index that fails more often than that, or
// whose Pod matches a FailIndex rule, is given up and listed in
// status.failedIndexes while the other indexes go on.
func perIndexJob(j *batchv1.Job) bool {
	return indexedJob(j) && j.Spec.BackoffLimitPerIndex != nil
}

// indexFailures reads the failures of its index a Pod was started after
// (the job-index-failure-count annotation).
func indexFailures(p *corev1.Pod) int32 {
	n, err := strconv.ParseInt(p.Annotations[batchv1.JobIndexFailureCountAnnotation], 10, 32)
	if err != nil || n < 0 {
		return 0
	}
	return int32(n)
}

// failIndex decides, for a failed Pod of a per-index Job whose failure
// counts, whether its index is given up; it then adds it to s.
func failIndex(j *batchv1.Job, s *batchv1.JobStatus, p *corev1.Pod, m *podFailureMatch) {
	i := podIndex(p)
	if i < 0 || i >= int(*j.Spec.Completions) {
		return
	}
	if (m != nil && m.action == batchv1.PodFailurePolicyActionFailIndex) || indexFailures(p)+1 > *j.Spec.BackoffLimitPerIndex {
		failed := parseIndexes(deref(s.FailedIndexes))
		failed[i] = true
		v := formatIndexes(failed)
		s.FailedIndexes = &v
	}
}

// nextIndexFailures is the failure count a new Pod of index i starts
// with: one more than the latest counted failure of the index.
func nextIndexFailures(j *batchv1.Job, pods []*corev1.Pod, i int) int32 {
	var n int32
	for _, p := range pods {
		if podIndex(p) != i || p.Status.Phase != corev1.PodFailed {
			continue
		}
		if m := matchPodFailurePolicy(j.Spec.PodFailurePolicy, p); m != nil && m.action == batchv1.PodFailurePolicyActionIgnore {
			n = max(n, indexFailures(p))
			continue
		}
		n = max(n, indexFailures(p)+1)
	}
	return n
}

// perIndexOutcome says whether a per-index Job has failed: more failed
// indexes than maxFailedIndexes allows, or every index finished and some
// failed.
func perIndexOutcome(j *batchv1.Job, s *batchv1.JobStatus) (string, string) {
	failed := len(parseIndexes(deref(s.FailedIndexes)))
	if failed == 0 {
		return "", ""
	}
	if j.Spec.MaxFailedIndexes != nil && failed > int(*j.Spec.MaxFailedIndexes) {
		return reasonMaxFailedIndexes, msgMaxFailedIndexes
	}
	if failed+len(parseIndexes(s.CompletedIndexes)) >= int(*j.Spec.Completions) {
		return reasonFailedIndexes, msgFailedIndexes
	}
	return "", ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
