package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func policyJob(name string, backoffLimit int32, rules ...batchv1.PodFailurePolicyRule) *batchv1.Job {
	j := newJob(name, 1, 1, backoffLimit)
	j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: rules}
	return j
}

func onExit(action batchv1.PodFailurePolicyAction, op batchv1.PodFailurePolicyOnExitCodesOperator, values ...int32) batchv1.PodFailurePolicyRule {
	return batchv1.PodFailurePolicyRule{Action: action, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: op, Values: values}}
}

func onCondition(action batchv1.PodFailurePolicyAction, t corev1.PodConditionType) batchv1.PodFailurePolicyRule {
	return batchv1.PodFailurePolicyRule{Action: action, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: t, Status: corev1.ConditionTrue}}}
}

// TestValidatePodFailurePolicy: bad policies are refused with
// kube-apiserver's words.
func TestValidatePodFailurePolicy(t *testing.T) {
	t.Parallel()
	in := batchv1.PodFailurePolicyOnExitCodesOpIn
	for _, tc := range []struct {
		name   string
		mutate func(*batchv1.Job)
		want   string
	}{
		{"valid", func(*batchv1.Job) {}, ""},
		{"restart policy", func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure },
			`spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified`},
		{"unknown action", func(j *batchv1.Job) { j.Spec.PodFailurePolicy.Rules[0].Action = "Retry" },
			`spec.podFailurePolicy.rules[0].action: Unsupported value: "Retry": supported values: "Count", "FailIndex", "FailJob", "Ignore"`},
		{"FailIndex without backoffLimitPerIndex", func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy.Rules[0].Action = batchv1.PodFailurePolicyActionFailIndex
		},
			`spec.podFailurePolicy.rules[0].action: Invalid value: "FailIndex": requires the backoffLimitPerIndex to be set`},
		{"both requirements", func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy.Rules[0].OnPodConditions = onCondition(batchv1.PodFailurePolicyActionIgnore, corev1.DisruptionTarget).OnPodConditions
		}, `spec.podFailurePolicy.rules[0]: Invalid value: specifying both OnExitCodes and OnPodConditions is not supported`},
		{"no requirement", func(j *batchv1.Job) { j.Spec.PodFailurePolicy.Rules[0].OnExitCodes = nil },
			`spec.podFailurePolicy.rules[0]: Invalid value: specifying one of OnExitCodes and OnPodConditions is required`},
		{"0 with In", func(j *batchv1.Job) { j.Spec.PodFailurePolicy.Rules[0].OnExitCodes.Values = []int32{0, 42} },
			`spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator`},
		{"unordered and duplicate values", func(j *batchv1.Job) { j.Spec.PodFailurePolicy.Rules[0].OnExitCodes.Values = []int32{42, 3, 3} },
			`[spec.podFailurePolicy.rules[0].onExitCodes.values[1]: Invalid value: 3: must be ordered, spec.podFailurePolicy.rules[0].onExitCodes.values[2]: Duplicate value: 3]`},
		{"no values", func(j *batchv1.Job) { j.Spec.PodFailurePolicy.Rules[0].OnExitCodes.Values = nil },
			`spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: null: at least one value is required`},
		{"unknown operator", func(j *batchv1.Job) { j.Spec.PodFailurePolicy.Rules[0].OnExitCodes.Operator = "Equals" },
			`spec.podFailurePolicy.rules[0].onExitCodes.operator: Unsupported value: "Equals": supported values: "In", "NotIn"`},
		{"unknown container", func(j *batchv1.Job) { n := "sidecar"; j.Spec.PodFailurePolicy.Rules[0].OnExitCodes.ContainerName = &n },
			`spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: "sidecar": must be one of the container or initContainer names in the pod template`},
		{"bad condition status", func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy.Rules = append(j.Spec.PodFailurePolicy.Rules, batchv1.PodFailurePolicyRule{Action: batchv1.PodFailurePolicyActionIgnore,
				OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: "Maybe"}}})
		}, `spec.podFailurePolicy.rules[1].onPodConditions[0].status: Unsupported value: "Maybe": supported values: "False", "True", "Unknown"`},
		{"too many rules", func(j *batchv1.Job) {
			for range 20 {
				j.Spec.PodFailurePolicy.Rules = append(j.Spec.PodFailurePolicy.Rules, onExit(batchv1.PodFailurePolicyActionCount, in, 1))
			}
		}, `spec.podFailurePolicy.rules: Too many: 21: must have at most 20 items`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := policyJob("job", 6, onExit(batchv1.PodFailurePolicyActionFailJob, in, 42))
			tc.mutate(j)
			errs := ValidatePodFailurePolicy(&j.Spec, field.NewPath("spec"))
			got := errs.ToAggregate()
			switch {
			case tc.want == "" && got != nil:
				t.Fatalf("valid policy refused: %v", got)
			case tc.want != "" && (got == nil || got.Error() != tc.want):
				t.Fatalf("got  %v\nwant %s", got, tc.want)
			}
		})
	}
}

// TestMatchPodFailurePolicy: the first matching rule decides; NotIn never
// matches exit code 0; a container name narrows the match.
func TestMatchPodFailurePolicy(t *testing.T) {
	t.Parallel()
	pod := func(codes map[string]int32, conds ...corev1.PodConditionType) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Status: corev1.PodStatus{Phase: corev1.PodFailed}}
		for _, name := range []string{"init", "main", "side"} {
			if code, ok := codes[name]; ok {
				cs := corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}}
				if name == "init" {
					p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, cs)
				} else {
					p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, cs)
				}
			}
		}
		for _, c := range conds {
			p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: c, Status: corev1.ConditionTrue})
		}
		return p
	}
	side := "side"
	policy := &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
		onCondition(batchv1.PodFailurePolicyActionIgnore, corev1.DisruptionTarget),
		{Action: batchv1.PodFailurePolicyActionCount, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{ContainerName: &side, Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{1}}},
		onExit(batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyOnExitCodesOpNotIn, 1, 2),
	}}
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"disrupted", pod(map[string]int32{"main": 137}, corev1.DisruptionTarget), "Ignore: Pod ns/p has condition DisruptionTarget matching Ignore rule at index 0"},
		{"side exits 1", pod(map[string]int32{"main": 0, "side": 1}), "Count: Container side for pod ns/p failed with exit code 1 matching Count rule at index 1"},
		{"main exits 1: no rule", pod(map[string]int32{"main": 1, "side": 0}), ""},
		{"main exits 42", pod(map[string]int32{"main": 42, "side": 0}), "FailJob: Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 2"},
		{"init exits 7", pod(map[string]int32{"init": 7}), "FailJob: Container init for pod ns/p failed with exit code 7 matching FailJob rule at index 2"},
	} {
		m := matchPodFailurePolicy(policy, tc.pod)
		got := ""
		if m != nil {
			got = string(m.action) + ": " + m.message
		}
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// failPod marks a Job's Pod Failed as the node agent reports it: its
// container terminated with code, and conditions added.
func failPod(t *testing.T, k *kubelet, name string, code int32, conds ...corev1.PodConditionType) {
	t.Helper()
	ctx := context.Background()
	p, err := k.client.CoreV1().Pods(k.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Status.Phase = corev1.PodFailed
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: "Error"}}}}
	for _, c := range conds {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: c, Status: corev1.ConditionTrue, Reason: "EvictionByEvictionAPI", LastTransitionTime: metav1.Now()})
	}
	if _, err := k.client.CoreV1().Pods(k.ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestJobPodFailurePolicy runs Jobs whose Pods fail: a disruption is
// ignored (not counted, the Pod replaced), an exit code a FailJob rule
// names fails the Job at once whatever its backoffLimit, other failures
// count; an invalid policy starts nothing and says why.
func TestJobPodFailurePolicy(t *testing.T) {
	t.Parallel()
	client, ns := start(t, jobControllers)
	ctx := context.Background()
	k := newKubelet(client, ns)
	in := batchv1.PodFailurePolicyOnExitCodesOpIn
	job := policyJob("task", 0,
		onCondition(batchv1.PodFailurePolicyActionIgnore, corev1.DisruptionTarget),
		onExit(batchv1.PodFailurePolicyActionFailJob, in, 42))
	fatal := policyJob("fatal", 6, onExit(batchv1.PodFailurePolicyActionFailJob, in, 42))
	bad := policyJob("bad", 6, onExit(batchv1.PodFailurePolicyActionFailJob, in, 42))
	bad.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	for _, j := range []*batchv1.Job{job, fatal, bad} {
		if _, err := client.BatchV1().Jobs(ns).Create(ctx, j, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	onePod := func(job string) string {
		var names []string
		eventually(t, 5*time.Second, "a pod of "+job, func() (bool, error) {
			names = jobPodsByPhase(t, client, ns, job, corev1.PodPending)
			return len(names) == 1, nil
		})
		return names[0]
	}
	// Disrupted: ignored though backoffLimit is 0, and replaced.
	first := onePod("task")
	failPod(t, k, first, 137, corev1.DisruptionTarget)
	var second string
	eventually(t, 5*time.Second, "the disrupted pod replaced", func() (bool, error) {
		p := jobPodsByPhase(t, client, ns, "task", corev1.PodPending)
		if len(p) == 1 && p[0] != first {
			second = p[0]
			return true, nil
		}
		return false, nil
	})
	if j := getJob(t, client, ns, "task"); j.Status.Failed != 0 || jobFinished(j) != nil {
		t.Fatalf("the ignored failure counted: failed %d, conditions %+v", j.Status.Failed, j.Status.Conditions)
	}
	// An ordinary failure counts: over backoffLimit 0.
	failPod(t, k, second, 1)
	eventually(t, 5*time.Second, "task failed by its backoff limit", func() (bool, error) {
		j := getJob(t, client, ns, "task")
		return hasJobCondition(j, batchv1.JobFailed, reasonBackoffLimit) && j.Status.Failed == 1, nil
	})
	// Exit code 42 fails the Job at its first failure.
	p := onePod("fatal")
	failPod(t, k, p, 42)
	wantMsg := "Container app for pod " + ns + "/" + p + " failed with exit code 42 matching FailJob rule at index 0"
	eventually(t, 5*time.Second, "fatal failed by its policy", func() (bool, error) {
		j := getJob(t, client, ns, "fatal")
		c := jobCondition(&j.Status, batchv1.JobFailed)
		return c != nil && c.Reason == reasonPodFailurePolicy && c.Message == wantMsg && j.Status.Failed == 1, nil
	})
	eventually(t, 5*time.Second, "the PodFailurePolicy Event", func() (bool, error) {
		return strings.Contains(strings.Join(eventsFor(t, client, ns, "fatal"), "\n"), "PodFailurePolicy: "+wantMsg), nil
	})
	if n := len(listPods(t, client, ns, "batch.kubernetes.io/job-name=fatal")); n != 1 {
		t.Errorf("%d pods of fatal; the failed one only was expected", n)
	}
	// Invalid: nothing runs, and the Event says what kube-apiserver would.
	eventually(t, 5*time.Second, "bad refused", func() (bool, error) {
		ev := strings.Join(eventsFor(t, client, ns, "bad"), "\n")
		return strings.Contains(ev, `FailedCreate: Job.batch "bad" is invalid: spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified`), nil
	})
	if n := len(listPods(t, client, ns, "batch.kubernetes.io/job-name=bad")); n != 0 {
		t.Errorf("%d pods of the invalid job", n)
	}
}

// TestJobFailIndex: an Indexed Job with a backoff limit per index gives up
// an index whose Pod matches a FailIndex rule at once, and one that fails
// more often than the limit after its retries (each replacement carrying
// the count), while the other indexes complete; then it fails with
// FailedIndexes.
func TestJobFailIndex(t *testing.T) {
	t.Parallel()
	client, ns := start(t, jobControllers)
	ctx := context.Background()
	k := newKubelet(client, ns)
	j := policyJob("idx", 6, onExit(batchv1.PodFailurePolicyActionFailIndex, batchv1.PodFailurePolicyOnExitCodesOpIn, 42))
	j.Spec.Completions, j.Spec.Parallelism = ptr(int32(3)), ptr(int32(3))
	j.Spec.CompletionMode = ptr(batchv1.IndexedCompletion)
	j.Spec.BackoffLimitPerIndex = ptr(int32(1))
	if _, err := client.BatchV1().Jobs(ns).Create(ctx, j, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// podOf waits for the running Pod of index i that is not old.
	podOf := func(i string, old string) corev1.Pod {
		var found corev1.Pod
		eventually(t, 5*time.Second, "a pod of index "+i, func() (bool, error) {
			for _, p := range listPods(t, client, ns, "batch.kubernetes.io/job-name=idx") {
				if p.Annotations[batchv1.JobCompletionIndexAnnotation] == i && p.Status.Phase == corev1.PodPending && p.Name != old {
					found = p
					return true, nil
				}
			}
			return false, nil
		})
		return found
	}
	failPod(t, k, podOf("0", "").Name, 42)
	first := podOf("1", "")
	if got := first.Annotations[batchv1.JobIndexFailureCountAnnotation]; got != "0" {
		t.Errorf("first pod of index 1 has failure count %q", got)
	}
	failPod(t, k, first.Name, 1)
	retry := podOf("1", first.Name)
	if got := retry.Annotations[batchv1.JobIndexFailureCountAnnotation]; got != "1" {
		t.Errorf("the retry of index 1 has failure count %q, want 1", got)
	}
	failPod(t, k, retry.Name, 1)
	k.finish(t, podOf("2", "").Name, corev1.PodSucceeded)
	eventually(t, 5*time.Second, "idx failed with failed indexes", func() (bool, error) {
		j := getJob(t, client, ns, "idx")
		return hasJobCondition(j, batchv1.JobFailed, reasonFailedIndexes) && deref(j.Status.FailedIndexes) == "0,1" &&
			j.Status.CompletedIndexes == "2" && j.Status.Failed == 3, fmt.Errorf("status %+v", j.Status)
	})
	for _, p := range listPods(t, client, ns, "batch.kubernetes.io/job-name=idx") {
		if p.Annotations[batchv1.JobCompletionIndexAnnotation] == "0" && p.Status.Phase != corev1.PodFailed {
			t.Errorf("index 0 was run again after its FailIndex failure: %s", p.Name)
		}
	}
}

// TestFormatIndexesPairs: two consecutive indexes are written as two, as
// Kubernetes writes completedIndexes and failedIndexes.
func TestFormatIndexesPairs(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0,1", "0,1,3-5", "2,3,7,8"} {
		if got := formatIndexes(parseIndexes(s)); got != s {
			t.Errorf("round trip of %q gave %q", s, got)
		}
	}
}
