package apiserver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	policyv1beta1 "k8s.io/api/policy/v1beta1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// evictionPod creates a Pod labelled app=APP, bound to node and, unless
// phase is Pending, in that phase and Ready, as a node agent reports it.
func evictionPod(t *testing.T, cs kubernetes.Interface, ns, name, app, node string, phase corev1.PodPhase) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	zero := int64(0)
	p, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": app}},
		Spec: corev1.PodSpec{
			NodeName: node, TerminationGracePeriodSeconds: &zero,
			Containers: []corev1.Container{{Name: "c", Image: "nginx"}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if phase == corev1.PodPending {
		return p
	}
	p.Status.Phase = phase
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	p, err = cs.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// evictionPDB creates a budget over app=APP and writes its status as the
// disruption controller would, with allowed disruptions.
func evictionPDB(t *testing.T, cs kubernetes.Interface, ns, name, app string, allowed, desired, healthy int32) *policyv1.PodDisruptionBudget {
	t.Helper()
	ctx := context.Background()
	one := intstr.FromInt32(1)
	pdb, err := cs.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable: &one,
			Selector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pdb.Status = policyv1.PodDisruptionBudgetStatus{
		ObservedGeneration: pdb.Generation, DisruptionsAllowed: allowed,
		DesiredHealthy: desired, CurrentHealthy: healthy, ExpectedPods: healthy,
	}
	pdb, err = cs.PolicyV1().PodDisruptionBudgets(ns).UpdateStatus(ctx, pdb, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return pdb
}

func evict(cs kubernetes.Interface, ns, name string, opts *metav1.DeleteOptions) error {
	return cs.PolicyV1().Evictions(ns).Evict(context.Background(), &policyv1.Eviction{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, DeleteOptions: opts,
	})
}

func podGone(t *testing.T, cs kubernetes.Interface, ns, name string) bool {
	t.Helper()
	_, err := cs.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err == nil {
		return false
	}
	if !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return true
}

func TestEviction(t *testing.T) {
	ts := newTestServer(t)
	cs := ts.client
	ctx := context.Background()
	const ns = "default"

	// A budget allowing one disruption: the first eviction takes it.
	evictionPod(t, cs, ns, "web-1", "web", "n1", corev1.PodRunning)
	evictionPod(t, cs, ns, "web-2", "web", "n1", corev1.PodRunning)
	evictionPod(t, cs, ns, "web-3", "web", "n1", corev1.PodRunning)
	evictionPDB(t, cs, ns, "web", "web", 1, 2, 3)

	// A dry run changes nothing.
	if err := evict(cs, ns, "web-1", &metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatalf("dry-run eviction: %v", err)
	}
	if podGone(t, cs, ns, "web-1") {
		t.Fatal("a dry-run eviction deleted the pod")
	}
	pdb, err := cs.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pdb.Status.DisruptionsAllowed != 1 || len(pdb.Status.DisruptedPods) != 0 {
		t.Fatalf("a dry-run eviction changed the budget: %+v", pdb.Status)
	}
	p, _ := cs.CoreV1().Pods(ns).Get(ctx, "web-1", metav1.GetOptions{})
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.DisruptionTarget {
			t.Fatal("a dry-run eviction marked the pod")
		}
	}

	if err := evict(cs, ns, "web-1", nil); err != nil {
		t.Fatalf("eviction: %v", err)
	}
	if !podGone(t, cs, ns, "web-1") {
		t.Fatal("evicted pod still there")
	}
	pdb, err = cs.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pdb.Status.DisruptionsAllowed != 0 {
		t.Errorf("disruptionsAllowed = %d after the eviction, want 0", pdb.Status.DisruptionsAllowed)
	}
	if _, ok := pdb.Status.DisruptedPods["web-1"]; !ok || len(pdb.Status.DisruptedPods) != 1 {
		t.Errorf("disruptedPods = %v, want web-1", pdb.Status.DisruptedPods)
	}

	// The budget is spent: the next eviction is refused.
	err = evict(cs, ns, "web-2", nil)
	if !apierrors.IsTooManyRequests(err) {
		t.Fatalf("second eviction: %v, want 429", err)
	}
	st := err.(apierrors.APIStatus).Status()
	if st.Code != http.StatusTooManyRequests || st.Reason != metav1.StatusReasonTooManyRequests || st.Message != "Cannot evict pod as it would violate the pod's disruption budget." {
		t.Errorf("refusal = %+v", st)
	}
	if st.Details == nil || len(st.Details.Causes) != 1 || st.Details.Causes[0].Type != policyv1.DisruptionBudgetCause ||
		st.Details.Causes[0].Message != "The disruption budget web needs 2 healthy pods and has 3 currently" {
		t.Errorf("refusal details = %+v", st.Details)
	}
	if podGone(t, cs, ns, "web-2") {
		t.Fatal("a refused eviction deleted the pod")
	}

	// A budget not yet observed at its generation refuses as well.
	pdb.Spec.MinAvailable = nil
	mu := intstr.FromInt32(1)
	pdb.Spec.MaxUnavailable = &mu
	pdb.Status.DisruptionsAllowed = 5
	if _, err := cs.PolicyV1().PodDisruptionBudgets(ns).Update(ctx, pdb, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Sent by hand: it carries Retry-After, and client-go would honour
	// it by retrying for a while itself, as against kube-apiserver.
	body := `{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"web-2","namespace":"default"}}`
	hc, err := rest.HTTPClientFor(ts.config)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Post(ts.config.Host+"/api/v1/namespaces/default/pods/web-2/eviction", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "10" {
		t.Fatalf("eviction under an unobserved budget: %d, Retry-After %q; want 429 and 10\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), raw)
	}
	st = metav1.Status{}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	if st.Details == nil || st.Details.RetryAfterSeconds != 10 || len(st.Details.Causes) != 1 || st.Details.Causes[0].Message != "The disruption budget web is still being processed by the server." {
		t.Errorf("refusal details = %+v", st.Details)
	}

	// A Pending pod is evicted without a look at its budget.
	evictionPod(t, cs, ns, "web-pending", "web", "", corev1.PodPending)
	if err := evict(cs, ns, "web-pending", nil); err != nil {
		t.Fatalf("eviction of a pending pod: %v", err)
	}
	if !podGone(t, cs, ns, "web-pending") {
		t.Fatal("evicted pending pod still there")
	}

	// Two budgets: a 500.
	evictionPod(t, cs, ns, "db-1", "db", "n1", corev1.PodRunning)
	evictionPDB(t, cs, ns, "db-a", "db", 1, 0, 1)
	evictionPDB(t, cs, ns, "db-b", "db", 1, 0, 1)
	err = evict(cs, ns, "db-1", nil)
	st = metav1.Status{}
	if se, ok := err.(apierrors.APIStatus); ok {
		st = se.Status()
	}
	if st.Code != http.StatusInternalServerError || st.Message != "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support." {
		t.Errorf("eviction under two budgets: %v (%+v), want 500", err, st)
	}
	if podGone(t, cs, ns, "db-1") {
		t.Fatal("eviction under two budgets deleted the pod")
	}

	// No budget: the pod is deleted.
	evictionPod(t, cs, ns, "lone", "lone", "n1", corev1.PodRunning)
	if err := evict(cs, ns, "lone", nil); err != nil {
		t.Fatalf("eviction without a budget: %v", err)
	}
	if !podGone(t, cs, ns, "lone") {
		t.Fatal("evicted pod without a budget still there")
	}

	// Not found, and a name not matching the URL's.
	if err := evict(cs, ns, "missing", nil); !apierrors.IsNotFound(err) {
		t.Errorf("eviction of a missing pod: %v, want 404", err)
	}
	err = cs.CoreV1().RESTClient().Post().Namespace(ns).Resource("pods").Name("web-2").SubResource("eviction").
		Body(&policyv1beta1.Eviction{TypeMeta: metav1.TypeMeta{APIVersion: "policy/v1beta1", Kind: "Eviction"}, ObjectMeta: metav1.ObjectMeta{Name: "web-3"}}).
		Do(ctx).Error()
	if !apierrors.IsBadRequest(err) {
		t.Errorf("eviction with another name in the body: %v, want 400", err)
	}

	// policy/v1beta1 is accepted too; web-3 has no budget left to pass
	// (the budget, observed now, allows none), so it is refused with a 429.
	pdb, err = cs.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pdb.Status.ObservedGeneration, pdb.Status.DisruptionsAllowed = pdb.Generation, 0
	if _, err := cs.PolicyV1().PodDisruptionBudgets(ns).UpdateStatus(ctx, pdb, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = cs.PolicyV1beta1().Evictions(ns).Evict(ctx, &policyv1beta1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "web-3", Namespace: ns}})
	if !apierrors.IsTooManyRequests(err) {
		t.Errorf("v1beta1 eviction: %v, want 429", err)
	}

	// Discovery lists the subresource as kube-apiserver does.
	rl, err := cs.Discovery().ServerResourcesForGroupVersion("v1")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rl.APIResources {
		if r.Name == "pods/eviction" {
			found = r.Group == "policy" && r.Version == "v1" && r.Kind == "Eviction" && len(r.Verbs) == 1 && r.Verbs[0] == "create"
		}
	}
	if !found {
		t.Error("discovery does not list pods/eviction as policy/v1 Eviction")
	}
}
