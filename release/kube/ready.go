package kube

import (
	"context"
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"pkg.dev/pkg/release"
)

// readiness judges one resource as Helm's ReadyChecker does (paused
// Deployments count as ready). It returns whether it is ready and, if not,
// why; an error is either the API's, or a JobFailedError.
func (c *Client) readiness(ctx context.Context, r *release.Resource, jobs bool) (bool, string, error) {
	get := metav1.GetOptions{}
	ns := r.Namespace
	switch r.GVK.GroupKind().String() {
	case "Pod":
		pod, err := c.typed.CoreV1().Pods(ns).Get(ctx, r.Name, get)
		if err != nil {
			return false, "", err
		}
		return podReady(pod)
	case "Job.batch":
		if !jobs {
			return true, "", nil
		}
		job, err := c.typed.BatchV1().Jobs(ns).Get(ctx, r.Name, get)
		if err != nil {
			return false, "", err
		}
		return jobReady(job)
	case "Deployment.apps", "Deployment.extensions":
		dep, err := c.typed.AppsV1().Deployments(ns).Get(ctx, r.Name, get)
		if err != nil {
			return false, "", err
		}
		return c.deploymentReady(ctx, dep)
	case "PersistentVolumeClaim":
		pvc, err := c.typed.CoreV1().PersistentVolumeClaims(ns).Get(ctx, r.Name, get)
		if err != nil {
			return false, "", err
		}
		if pvc.Status.Phase != corev1.ClaimBound {
			return false, fmt.Sprintf("not bound (phase %s)", orNone(string(pvc.Status.Phase))), nil
		}
		return true, "", nil
	case "Service":
		svc, err := c.typed.CoreV1().Services(ns).Get(ctx, r.Name, get)
		if err != nil {
			return false, "", err
		}
		return serviceReady(svc)
	case "DaemonSet.apps", "DaemonSet.extensions":
		ds, err := c.typed.AppsV1().DaemonSets(ns).Get(ctx, r.Name, get)
		if err != nil {
			return false, "", err
		}
		return daemonSetReady(ds)
	case "StatefulSet.apps":
		sts, err := c.typed.AppsV1().StatefulSets(ns).Get(ctx, r.Name, get)
		if err != nil {
			return false, "", err
		}
		return statefulSetReady(sts)
	case "ReplicaSet.apps", "ReplicaSet.extensions":
		rs, err := c.typed.AppsV1().ReplicaSets(ns).Get(ctx, r.Name, get)
		if err != nil {
			return false, "", err
		}
		if rs.Status.ObservedGeneration != rs.Generation {
			return false, generationReason(rs.Status.ObservedGeneration, rs.Generation), nil
		}
		return c.podsReady(ctx, ns, rs.Spec.Selector)
	case "ReplicationController":
		rc, err := c.typed.CoreV1().ReplicationControllers(ns).Get(ctx, r.Name, get)
		if err != nil {
			return false, "", err
		}
		if rc.Status.ObservedGeneration != rc.Generation {
			return false, generationReason(rc.Status.ObservedGeneration, rc.Generation), nil
		}
		if len(rc.Spec.Selector) == 0 {
			return true, "", nil
		}
		return c.podsReady(ctx, ns, &metav1.LabelSelector{MatchLabels: rc.Spec.Selector})
	case "CustomResourceDefinition.apiextensions.k8s.io":
		crd, err := c.resourceClient(r).Get(ctx, r.Name, get)
		if err != nil {
			return false, "", err
		}
		return crdReady(crd)
	}
	return true, "", nil
}

// podReady: the Ready condition is true.
func podReady(pod *corev1.Pod) (bool, string, error) {
	for _, cond := range pod.Status.Conditions {
		if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
			return true, "", nil
		}
	}
	return false, fmt.Sprintf("not ready (phase %s)", orNone(string(pod.Status.Phase))), nil
}

// jobReady: not failed beyond its back-off limit, and all completions
// succeeded when it asks for a number of them.
func jobReady(job *batchv1.Job) (bool, string, error) {
	limit := int32(6)
	if job.Spec.BackoffLimit != nil {
		limit = *job.Spec.BackoffLimit
	}
	if job.Status.Failed > limit {
		return false, "", &JobFailedError{Namespace: job.Namespace, Name: job.Name}
	}
	if job.Spec.Completions != nil && job.Status.Succeeded < *job.Spec.Completions {
		return false, fmt.Sprintf("%d of %d completions succeeded", job.Status.Succeeded, *job.Spec.Completions), nil
	}
	return true, "", nil
}

// deploymentReady: unless paused, its new ReplicaSet (the one whose pod
// template is the Deployment's) has observed its spec, the Deployment has
// too, and the ReplicaSet has at least replicas - maxUnavailable pods ready.
func (c *Client) deploymentReady(ctx context.Context, dep *appsv1.Deployment) (bool, string, error) {
	if dep.Spec.Paused {
		return true, "", nil
	}
	rs, err := c.newReplicaSet(ctx, dep)
	if err != nil {
		return false, "", err
	}
	if rs == nil {
		return false, "its new ReplicaSet does not exist yet", nil
	}
	if rs.Status.ObservedGeneration != rs.Generation {
		return false, fmt.Sprintf("ReplicaSet %q: %s", rs.Name, generationReason(rs.Status.ObservedGeneration, rs.Generation)), nil
	}
	if dep.Status.ObservedGeneration != dep.Generation {
		return false, generationReason(dep.Status.ObservedGeneration, dep.Generation), nil
	}
	expected := replicas(dep.Spec.Replicas) - maxUnavailable(dep)
	if rs.Status.ReadyReplicas < expected {
		return false, fmt.Sprintf("%d of %d expected pods ready", rs.Status.ReadyReplicas, expected), nil
	}
	return true, "", nil
}

// newReplicaSet finds the ReplicaSet the Deployment controls whose pod
// template equals the Deployment's, pod-template-hash aside; the oldest
// wins a tie. It returns nil when there is none.
func (c *Client) newReplicaSet(ctx context.Context, dep *appsv1.Deployment) (*appsv1.ReplicaSet, error) {
	sel, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("reading the selector of Deployment %q: %w", dep.Name, err)
	}
	list, err := c.typed.AppsV1().ReplicaSets(dep.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, err
	}
	var owned []*appsv1.ReplicaSet
	for i := range list.Items {
		rs := &list.Items[i]
		if ref := metav1.GetControllerOf(rs); ref != nil && ref.UID == dep.UID {
			owned = append(owned, rs)
		}
	}
	sort.SliceStable(owned, func(i, j int) bool {
		a, b := owned[i].CreationTimestamp, owned[j].CreationTimestamp
		if a.Equal(&b) {
			return owned[i].Name < owned[j].Name
		}
		return a.Before(&b)
	})
	for _, rs := range owned {
		if sameTemplate(&rs.Spec.Template, &dep.Spec.Template) {
			return rs, nil
		}
	}
	return nil, nil
}

// sameTemplate compares pod templates, ignoring pod-template-hash.
func sameTemplate(a, b *corev1.PodTemplateSpec) bool {
	a, b = a.DeepCopy(), b.DeepCopy()
	delete(a.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	delete(b.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	return equality.Semantic.DeepEqual(a, b)
}

// maxUnavailable is the number of pods a rolling update may take down:
// zero for other strategies or no replicas, at most the replicas, and one
// when both maxSurge and maxUnavailable resolve to zero.
func maxUnavailable(dep *appsv1.Deployment) int32 {
	want := replicas(dep.Spec.Replicas)
	if dep.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || want == 0 {
		return 0
	}
	var surgeV, unavailV *intstr.IntOrString
	if ru := dep.Spec.Strategy.RollingUpdate; ru != nil {
		surgeV, unavailV = ru.MaxSurge, ru.MaxUnavailable
	}
	zero := intstr.FromInt32(0)
	surge, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(surgeV, zero), int(want), true)
	if err != nil {
		return 0
	}
	unavail, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(unavailV, zero), int(want), false)
	if err != nil {
		return 0
	}
	if surge == 0 && unavail == 0 {
		unavail = 1
	}
	if int32(unavail) > want {
		return want
	}
	return int32(unavail)
}

// serviceReady: ExternalName is always ready; others need a cluster IP,
// and a LoadBalancer external IPs or an ingress.
func serviceReady(svc *corev1.Service) (bool, string, error) {
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return true, "", nil
	}
	if svc.Spec.ClusterIP == "" {
		return false, "no cluster IP address yet", nil
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer && len(svc.Spec.ExternalIPs) == 0 && svc.Status.LoadBalancer.Ingress == nil {
		return false, "no load balancer ingress address yet", nil
	}
	return true, "", nil
}

// daemonSetReady: its spec observed and, for rolling updates, every node's
// pod updated and enough of them ready.
func daemonSetReady(ds *appsv1.DaemonSet) (bool, string, error) {
	if ds.Status.ObservedGeneration != ds.Generation {
		return false, generationReason(ds.Status.ObservedGeneration, ds.Generation), nil
	}
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		return true, "", nil
	}
	desired := int(ds.Status.DesiredNumberScheduled)
	if ds.Status.UpdatedNumberScheduled != ds.Status.DesiredNumberScheduled {
		return false, fmt.Sprintf("%d of %d pods updated", ds.Status.UpdatedNumberScheduled, desired), nil
	}
	// An unset maxUnavailable is what the API server defaults it to: 1.
	unavail := 1
	if ru := ds.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.MaxUnavailable != nil {
		v, err := intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, desired, true)
		if err != nil {
			v = desired
		}
		unavail = v
	}
	expected := desired - unavail
	if int(ds.Status.NumberReady) < expected {
		return false, fmt.Sprintf("%d of %d expected pods ready", ds.Status.NumberReady, expected), nil
	}
	return true, "", nil
}

// statefulSetReady: its spec observed and, for rolling updates, the pods
// past the partition updated, all pods ready, and the update revision
// current when there is no partition.
func statefulSetReady(sts *appsv1.StatefulSet) (bool, string, error) {
	if sts.Status.ObservedGeneration != sts.Generation {
		return false, generationReason(sts.Status.ObservedGeneration, sts.Generation), nil
	}
	if sts.Spec.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType {
		return true, "", nil
	}
	partition := int32(0)
	if ru := sts.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		partition = *ru.Partition
	}
	want := replicas(sts.Spec.Replicas)
	if expected := want - partition; sts.Status.UpdatedReplicas < expected {
		return false, fmt.Sprintf("%d of %d expected pods updated", sts.Status.UpdatedReplicas, expected), nil
	}
	if sts.Status.ReadyReplicas != want {
		return false, fmt.Sprintf("%d of %d pods ready", sts.Status.ReadyReplicas, want), nil
	}
	if partition == 0 && sts.Status.CurrentRevision != sts.Status.UpdateRevision {
		return false, fmt.Sprintf("current revision %s is not yet the update revision %s", orNone(sts.Status.CurrentRevision), orNone(sts.Status.UpdateRevision)), nil
	}
	return true, "", nil
}

// crdReady: Established, or its names refused (nothing more will happen).
func crdReady(crd *unstructured.Unstructured) (bool, string, error) {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, x := range conds {
		cond, _ := x.(map[string]any)
		switch cond["type"] {
		case "Established":
			if cond["status"] == "True" {
				return true, "", nil
			}
		case "NamesAccepted":
			if cond["status"] == "False" {
				return true, "", nil
			}
		}
	}
	return false, "not established yet", nil
}

// podsReady: every pod the selector picks is ready.
func (c *Client) podsReady(ctx context.Context, ns string, selector *metav1.LabelSelector) (bool, string, error) {
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return false, "", err
	}
	if sel.Empty() {
		sel = labels.Everything()
	}
	pods, err := c.typed.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return false, "", err
	}
	notReady := 0
	for i := range pods.Items {
		if ok, _, _ := podReady(&pods.Items[i]); !ok {
			notReady++
		}
	}
	if notReady > 0 {
		return false, fmt.Sprintf("%d of %d pods not ready", notReady, len(pods.Items)), nil
	}
	return true, "", nil
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func generationReason(observed, gen int64) string {
	return fmt.Sprintf("observed generation %d, spec generation %d", observed, gen)
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
