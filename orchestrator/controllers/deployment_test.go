package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/kube"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes"
)

var deploymentControllers = Options{Controllers: []string{ReplicaSetController, DeploymentController}}

func newDeployment(name string, replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: podTemplate(name, "web:1"),
		},
	}
}

func getDeploy(t *testing.T, client kubernetes.Interface, ns, name string) *appsv1.Deployment {
	t.Helper()
	d, err := client.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("getting deployment: %v", err)
	}
	return d
}

// rolloutStatus decides as kubectl rollout status does (k8s.io/kubectl's
// DeploymentStatusViewer, whose package cannot be built here without a
// module the tree lacks): the same checks in the same order.
func rolloutStatus(t *testing.T, d *appsv1.Deployment) (string, bool, error) {
	t.Helper()
	if d.Generation > d.Status.ObservedGeneration {
		return "Waiting for deployment spec update to be observed...", false, nil
	}
	if c := deploymentCondition(&d.Status, appsv1.DeploymentProgressing); c != nil && c.Reason == "ProgressDeadlineExceeded" {
		return "", false, fmt.Errorf("deployment %q exceeded its progress deadline", d.Name)
	}
	s := d.Status
	switch {
	case s.UpdatedReplicas < *d.Spec.Replicas:
		return fmt.Sprintf("%d out of %d new replicas have been updated", s.UpdatedReplicas, *d.Spec.Replicas), false, nil
	case s.Replicas > s.UpdatedReplicas:
		return fmt.Sprintf("%d old replicas are pending termination", s.Replicas-s.UpdatedReplicas), false, nil
	case s.AvailableReplicas < s.UpdatedReplicas:
		return fmt.Sprintf("%d of %d updated replicas are available", s.AvailableReplicas, s.UpdatedReplicas), false, nil
	}
	return fmt.Sprintf("deployment %q successfully rolled out", d.Name), true, nil
}

// rolloutUndo does what kubectl rollout undo does: find the ReplicaSet of
// the previous revision and put its template (without the hash label)
// back into the Deployment.
func rolloutUndo(t *testing.T, client kubernetes.Interface, ns, name string) {
	t.Helper()
	d := getDeploy(t, client, ns, name)
	cur := revisionOf(d)
	var prev *appsv1.ReplicaSet
	for _, rs := range listRS(t, client, ns) {
		if ref := metav1.GetControllerOf(&rs); ref == nil || ref.UID != d.UID {
			continue
		}
		if r := revisionOf(&rs); r < cur && (prev == nil || r > revisionOf(prev)) {
			prev = rs.DeepCopy()
		}
	}
	if prev == nil {
		t.Fatalf("no previous revision of %s", name)
	}
	delete(prev.Spec.Template.Labels, podTemplateHashLabel)
	patch, err := json.Marshal([]map[string]any{{"op": "replace", "path": "/spec/template", "value": prev.Spec.Template}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.AppsV1().Deployments(ns).Patch(context.Background(), name, types.JSONPatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatalf("rollout undo: %v", err)
	}
}

// helmReady asks Helm's --wait readiness check about the Deployment.
func helmReady(t *testing.T, client kubernetes.Interface, ns, name string) bool {
	t.Helper()
	rc := kube.NewReadyChecker(client, nil)
	ok, err := rc.IsReady(context.Background(), &resource.Info{Name: name, Namespace: ns, Object: &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}})
	if err != nil {
		t.Fatalf("helm ready check: %v", err)
	}
	return ok
}

func listRS(t *testing.T, client kubernetes.Interface, ns string) []appsv1.ReplicaSet {
	t.Helper()
	l, err := client.AppsV1().ReplicaSets(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l.Items
}

// updateDeploy changes the Deployment with change, retrying on the
// conflicts the controller's own writes cause.
func updateDeploy(t *testing.T, client kubernetes.Interface, ns, name string, change func(*appsv1.Deployment)) {
	t.Helper()
	eventually(t, 5*time.Second, "updating deployment "+name, func() (bool, error) {
		d := getDeploy(t, client, ns, name)
		change(d)
		_, err := client.AppsV1().Deployments(ns).Update(context.Background(), d, metav1.UpdateOptions{})
		return err == nil, err
	})
}

func setImage(t *testing.T, client kubernetes.Interface, ns, name, image string) {
	t.Helper()
	updateDeploy(t, client, ns, name, func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = image })
}

func rolledOut(t *testing.T, client kubernetes.Interface, ns, name string) func() (bool, error) {
	return func() (bool, error) {
		_, done, err := rolloutStatus(t, getDeploy(t, client, ns, name))
		return done, err
	}
}

func TestDeploymentCreatesReplicaSetAndReadiness(t *testing.T) {
	t.Parallel()
	client, ns := start(t, deploymentControllers)
	ctx := context.Background()
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, newDeployment("web", 3), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "an rs and 3 pods", func() (bool, error) {
		return len(listRS(t, client, ns)) == 1 && len(listPods(t, client, ns, "app=web")) == 3, nil
	})
	d := getDeploy(t, client, ns, "web")
	rs := listRS(t, client, ns)[0]
	hash := templateHash(&d.Spec.Template, nil)
	if rs.Name != "web-"+hash || rs.Labels[podTemplateHashLabel] != hash || rs.Spec.Selector.MatchLabels[podTemplateHashLabel] != hash {
		t.Errorf("rs %s labels %v selector %v, want hash %s", rs.Name, rs.Labels, rs.Spec.Selector, hash)
	}
	if rs.Annotations[RevisionAnnotation] != "1" || rs.Annotations[DesiredReplicasAnnotation] != "3" || rs.Annotations[MaxReplicasAnnotation] != "4" {
		t.Errorf("rs annotations %v", rs.Annotations)
	}
	eventually(t, 5*time.Second, "revision on the deployment", func() (bool, error) {
		return getDeploy(t, client, ns, "web").Annotations[RevisionAnnotation] == "1", nil
	})

	// Helm's --wait and kubectl rollout status say ready exactly when all
	// three Pods are (25% of 3 leaves no Pod to be unavailable).
	k := newKubelet(client, ns)
	pods := listPods(t, client, ns, "app=web")
	for i, p := range pods {
		if helmReady(t, client, ns, "web") {
			t.Fatalf("helm says ready with %d of 3 pods ready", i)
		}
		if msg, done, _ := rolloutStatus(t, getDeploy(t, client, ns, "web")); done {
			t.Fatalf("rollout status done with %d of 3 pods ready: %s", i, msg)
		}
		k.ready(t, p.Name, true)
		eventually(t, 5*time.Second, fmt.Sprintf("%d ready in the rs", i+1), func() (bool, error) {
			s := getRS(t, client, ns, rs.Name).Status
			return s.ReadyReplicas == int32(i+1), nil
		})
	}
	eventually(t, 5*time.Second, "helm ready", func() (bool, error) { return helmReady(t, client, ns, "web"), nil })
	eventually(t, 5*time.Second, "rollout status done", rolledOut(t, client, ns, "web"))
	d = getDeploy(t, client, ns, "web")
	s := d.Status
	if s.Replicas != 3 || s.UpdatedReplicas != 3 || s.ReadyReplicas != 3 || s.AvailableReplicas != 3 || s.UnavailableReplicas != 0 || s.ObservedGeneration != d.Generation {
		t.Errorf("status %+v", s)
	}
	if c := deploymentCondition(&s, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionTrue || c.Reason != "MinimumReplicasAvailable" {
		t.Errorf("Available condition %+v", c)
	}
	eventually(t, 5*time.Second, "Progressing NewReplicaSetAvailable", func() (bool, error) {
		c := deploymentCondition(&getDeploy(t, client, ns, "web").Status, appsv1.DeploymentProgressing)
		return c != nil && c.Reason == "NewReplicaSetAvailable" && c.Message == fmt.Sprintf("ReplicaSet %q has successfully progressed.", rs.Name), nil
	})
	eventually(t, 5*time.Second, "scaling event", func() (bool, error) {
		ev := strings.Join(eventsFor(t, client, ns, "web"), "\n")
		return strings.Contains(ev, "ScalingReplicaSet: Scaled up replica set "+rs.Name+" from 0 to 3"), nil
	})

	// A deleted Pod comes back.
	if err := client.CoreV1().Pods(ns).Delete(ctx, pods[0].Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "a replacement", func() (bool, error) {
		ps := listPods(t, client, ns, "app=web")
		return len(ps) == 3 && ps[0].Name != pods[0].Name && ps[1].Name != pods[0].Name && ps[2].Name != pods[0].Name, nil
	})
	eventually(t, 5*time.Second, "helm not ready with a pod down", func() (bool, error) { return !helmReady(t, client, ns, "web"), nil })
}

func TestDeploymentRollingUpdateAndRollback(t *testing.T) {
	t.Parallel()
	client, ns := start(t, deploymentControllers)
	ctx := context.Background()
	d := newDeployment("web", 4)
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
		MaxUnavailable: ptr(intstr.FromInt32(1)), MaxSurge: ptr(intstr.FromString("25%")),
	}}
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	k := newKubelet(client, ns)
	k.auto(t, 80*time.Millisecond)
	eventually(t, 10*time.Second, "first rollout", rolledOut(t, client, ns, "web"))
	first := listRS(t, client, ns)[0].Name

	// Sample the ready Pods while the update rolls.
	var minReady, maxPods atomic.Int32
	minReady.Store(100)
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			l, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				continue
			}
			ready := int32(0)
			for i := range l.Items {
				if podReady(&l.Items[i]) {
					ready++
				}
			}
			if ready < minReady.Load() {
				minReady.Store(ready)
			}
			if n := int32(len(l.Items)); n > maxPods.Load() {
				maxPods.Store(n)
			}
		}
	}()
	setImage(t, client, ns, "web", "web:2")
	eventually(t, 10*time.Second, "second rollout", func() (bool, error) {
		d := getDeploy(t, client, ns, "web")
		_, done, err := rolloutStatus(t, d)
		return done && d.Annotations[RevisionAnnotation] == "2", err
	})
	close(stop)
	<-sampled
	if got := minReady.Load(); got < 3 {
		t.Errorf("ready pods dropped to %d during the rollout; maxUnavailable 1 of 4 allows 3", got)
	}
	t.Logf("during the rollout: at least %d ready, at most %d pods", minReady.Load(), maxPods.Load())
	for _, p := range listPods(t, client, ns, "app=web") {
		if p.Spec.Containers[0].Image != "web:2" {
			t.Errorf("pod %s still runs %s", p.Name, p.Spec.Containers[0].Image)
		}
	}
	eventually(t, 5*time.Second, "old rs scaled to 0", func() (bool, error) {
		rs := getRS(t, client, ns, first)
		return *rs.Spec.Replicas == 0 && rs.Status.Replicas == 0, nil
	})

	// kubectl rollout undo brings the first ReplicaSet back as revision 3.
	rolloutUndo(t, client, ns, "web")
	eventually(t, 10*time.Second, "rollback", func() (bool, error) {
		d := getDeploy(t, client, ns, "web")
		_, done, err := rolloutStatus(t, d)
		return done && d.Annotations[RevisionAnnotation] == "3", err
	})
	if n := len(listRS(t, client, ns)); n != 2 {
		t.Errorf("%d replicasets after rollback, want the 2 that existed", n)
	}
	rs := getRS(t, client, ns, first)
	if *rs.Spec.Replicas != 4 || rs.Annotations[RevisionAnnotation] != "3" || rs.Annotations[RevisionHistoryAnnotation] != "1" {
		t.Errorf("reused rs: replicas %d annotations %v", *rs.Spec.Replicas, rs.Annotations)
	}
}

func TestDeploymentRecreate(t *testing.T) {
	t.Parallel()
	client, ns := start(t, deploymentControllers)
	ctx := context.Background()
	d := newDeployment("web", 2)
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	k := newKubelet(client, ns)
	k.auto(t, 20*time.Millisecond)
	eventually(t, 10*time.Second, "first rollout", rolledOut(t, client, ns, "web"))
	var mixed atomic.Bool
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			images := map[string]bool{}
			for _, p := range listPods(t, client, ns, "app=web") {
				images[p.Spec.Containers[0].Image] = true
			}
			if len(images) > 1 {
				mixed.Store(true)
			}
		}
	}()
	setImage(t, client, ns, "web", "web:2")
	eventually(t, 10*time.Second, "recreate rollout", func() (bool, error) {
		d := getDeploy(t, client, ns, "web")
		_, done, err := rolloutStatus(t, d)
		return done && d.Annotations[RevisionAnnotation] == "2", err
	})
	close(stop)
	<-sampled
	if mixed.Load() {
		t.Error("old and new pods ran at the same time under Recreate")
	}
}

func TestDeploymentPausedHistoryAndDeadline(t *testing.T) {
	t.Parallel()
	client, ns := start(t, deploymentControllers)
	ctx := context.Background()
	d := newDeployment("web", 1)
	d.Spec.RevisionHistoryLimit = ptr(int32(1))
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	k := newKubelet(client, ns)
	k.auto(t, 10*time.Millisecond)
	eventually(t, 10*time.Second, "first rollout", rolledOut(t, client, ns, "web"))
	for i := 2; i <= 4; i++ {
		setImage(t, client, ns, "web", fmt.Sprintf("web:%d", i))
		eventually(t, 10*time.Second, fmt.Sprintf("rollout %d", i), func() (bool, error) {
			d := getDeploy(t, client, ns, "web")
			_, done, err := rolloutStatus(t, d)
			return done && d.Annotations[RevisionAnnotation] == fmt.Sprint(i), err
		})
	}
	eventually(t, 5*time.Second, "history trimmed to 1 old rs", func() (bool, error) {
		return len(listRS(t, client, ns)) == 2, nil
	})

	// Paused: a template change makes no ReplicaSet.
	updateDeploy(t, client, ns, "web", func(d *appsv1.Deployment) { d.Spec.Paused = true })
	eventually(t, 5*time.Second, "paused condition", func() (bool, error) {
		c := deploymentCondition(&getDeploy(t, client, ns, "web").Status, appsv1.DeploymentProgressing)
		return c != nil && c.Reason == "DeploymentPaused" && c.Status == corev1.ConditionUnknown, nil
	})
	setImage(t, client, ns, "web", "web:5")
	time.Sleep(300 * time.Millisecond)
	for _, rs := range listRS(t, client, ns) {
		if rs.Spec.Template.Spec.Containers[0].Image == "web:5" {
			t.Errorf("replicaset %s made while paused", rs.Name)
		}
	}

	// Resumed with Pods that never get ready: the rollout times out.
	k.setHold(func(p *corev1.Pod) bool { return p.Spec.Containers[0].Image == "web:5" })
	updateDeploy(t, client, ns, "web", func(d *appsv1.Deployment) {
		d.Spec.Paused = false
		d.Spec.ProgressDeadlineSeconds = ptr(int32(1))
	})
	eventually(t, 10*time.Second, "progress deadline exceeded", func() (bool, error) {
		_, _, err := rolloutStatus(t, getDeploy(t, client, ns, "web"))
		return err != nil && err.Error() == `deployment "web" exceeded its progress deadline`, nil
	})
	c := deploymentCondition(&getDeploy(t, client, ns, "web").Status, appsv1.DeploymentProgressing)
	if c.Status != corev1.ConditionFalse || !strings.HasSuffix(c.Message, "has timed out progressing.") {
		t.Errorf("Progressing condition %+v", c)
	}
	if helmReady(t, client, ns, "web") {
		t.Error("helm says a timed out rollout is ready")
	}
}

func TestDeploymentScalesProportionally(t *testing.T) {
	t.Parallel()
	client, ns := start(t, deploymentControllers)
	ctx := context.Background()
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, newDeployment("web", 2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	k := newKubelet(client, ns)
	k.auto(t, 10*time.Millisecond)
	eventually(t, 10*time.Second, "first rollout", rolledOut(t, client, ns, "web"))
	updateDeploy(t, client, ns, "web", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr(int32(5)) })
	eventually(t, 10*time.Second, "scaled to 5", func() (bool, error) {
		d := getDeploy(t, client, ns, "web")
		_, done, err := rolloutStatus(t, d)
		return done && d.Status.AvailableReplicas == 5, err
	})
	if n := len(listRS(t, client, ns)); n != 1 {
		t.Errorf("%d replicasets after scaling, want 1", n)
	}
}
