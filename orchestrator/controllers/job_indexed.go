package controllers

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// completionIndexEnv is the variable an Indexed Job's containers read
// their index from, as Kubernetes names it.
const completionIndexEnv = "JOB_COMPLETION_INDEX"

// indexedJob reports whether j runs in Indexed completion mode.
func indexedJob(j *batchv1.Job) bool {
	return j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion && j.Spec.Completions != nil
}

// podIndex is a Job Pod's completion index, or -1.
func podIndex(p *corev1.Pod) int {
	v, ok := p.Annotations[batchv1.JobCompletionIndexAnnotation]
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// parseIndexes reads a completedIndexes string ("1,3-5,7").
func parseIndexes(s string) map[int]bool {
	out := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		for i := a; i <= b; i++ {
			out[i] = true
		}
	}
	return out
}

// formatIndexes writes a set of indexes as Kubernetes does: ascending,
// runs of three or more consecutive ones as ranges ("0,1,3-5").
func formatIndexes(set map[int]bool) string {
	var idx []int
	for i := range set {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	var parts []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		switch {
		case j == i:
			parts = append(parts, strconv.Itoa(idx[i]))
		case j == i+1: // a pair is written as two, not a range
			parts = append(parts, strconv.Itoa(idx[i]), strconv.Itoa(idx[j]))
		default:
			parts = append(parts, fmt.Sprintf("%d-%d", idx[i], idx[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// indexPlan decides, for an Indexed Job, which active Pods to delete
// (duplicates, completed or out-of-range indexes) and which indexes to
// start, lowest first, within parallelism. An index whose Pod succeeded
// is done even before the status counts it, as the Job controller's
// succeeded indexes are: a Pod's success may be seen before the Job's
// status that counted it.
func indexPlan(j *batchv1.Job, s *batchv1.JobStatus, pods, active []*corev1.Pod, parallelism int32) (del []*corev1.Pod, start []int) {
	done := parseIndexes(s.CompletedIndexes)
	for i := range parseIndexes(deref(s.FailedIndexes)) {
		done[i] = true // given up: neither run again nor kept running
	}
	for _, p := range pods {
		if i := podIndex(p); p.Status.Phase == corev1.PodSucceeded && i >= 0 && i < int(*j.Spec.Completions) {
			done[i] = true
		}
	}
	running := map[int]bool{}
	keep := 0
	for _, p := range active {
		i := podIndex(p)
		if i < 0 || i >= int(*j.Spec.Completions) || done[i] || running[i] {
			del = append(del, p)
			continue
		}
		running[i] = true
		keep++
	}
	room := int(parallelism) - keep
	for i := 0; i < int(*j.Spec.Completions) && room > 0; i++ {
		if !done[i] && !running[i] {
			start = append(start, i)
			room--
		}
	}
	return del, start
}

// setIndex makes p the Pod of completion index i: annotation and label,
// hostname, the generated name's prefix and the environment variable.
func setIndex(p *corev1.Pod, j *batchv1.Job, i int) {
	v := strconv.Itoa(i)
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	p.Annotations[batchv1.JobCompletionIndexAnnotation] = v
	p.Labels[batchv1.JobCompletionIndexAnnotation] = v
	p.GenerateName = fmt.Sprintf("%s-%d-", j.Name, i)
	if p.Spec.Hostname == "" {
		p.Spec.Hostname = fmt.Sprintf("%s-%d", j.Name, i)
	}
	env := corev1.EnvVar{Name: completionIndexEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
		FieldPath: fmt.Sprintf("metadata.annotations['%s']", batchv1.JobCompletionIndexAnnotation),
	}}}
	for _, cs := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for k := range cs {
			if !slices.ContainsFunc(cs[k].Env, func(e corev1.EnvVar) bool { return e.Name == completionIndexEnv }) {
				cs[k].Env = append(cs[k].Env, env)
			}
		}
	}
}
