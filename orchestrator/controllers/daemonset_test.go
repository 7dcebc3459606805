package controllers

import (
	"context"
	"slices"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/kube"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	cliresource "k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes"
)

func addNode(t *testing.T, client kubernetes.Interface, name string, lbls map[string]string, taints ...corev1.Taint) {
	t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls}, Spec: corev1.NodeSpec{Taints: taints}}
	if _, err := client.CoreV1().Nodes().Create(context.Background(), n, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating node %s: %v", name, err)
	}
}

// daemonNodes lists the nodes the DaemonSet's live Pods are pinned to.
func daemonNodes(t *testing.T, client kubernetes.Interface, ns, selector string) []string {
	t.Helper()
	var out []string
	for _, p := range listPods(t, client, ns, selector) {
		if p.DeletionTimestamp == nil {
			out = append(out, targetNode(&p))
		}
	}
	slices.Sort(out)
	return out
}

func helmDSReady(t *testing.T, client kubernetes.Interface, ns, name string) bool {
	t.Helper()
	rc := kube.NewReadyChecker(client, nil)
	ok, err := rc.IsReady(context.Background(), &cliresource.Info{Name: name, Namespace: ns, Object: &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}})
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestDaemonSetFollowsNodes(t *testing.T) {
	t.Parallel()
	client, ns := start(t, Options{Controllers: []string{DaemonSetController}})
	ctx := context.Background()
	addNode(t, client, "node-a", nil)
	addNode(t, client, "node-b", map[string]string{"disk": "ssd"})
	addNode(t, client, "node-c", nil, corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule})
	addNode(t, client, "cp", nil, corev1.Taint{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule})
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: podTemplate("agent", "agent:1"),
			// kube-apiserver defaults rollingUpdate (maxUnavailable 1) and
			// Helm's check reads it; the bundled server does not yet.
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr(intstr.FromInt32(1))}},
		},
	}
	if _, err := client.AppsV1().DaemonSets(ns).Create(ctx, ds, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "pods on the untainted nodes", func() (bool, error) {
		return slices.Equal(daemonNodes(t, client, ns, "app=agent"), []string{"node-a", "node-b"}), nil
	})
	p := listPods(t, client, ns, "app=agent")[0]
	if !slices.ContainsFunc(p.Spec.Tolerations, func(x corev1.Toleration) bool { return x.Key == corev1.TaintNodeUnreachable }) || p.Spec.NodeName != "" {
		t.Errorf("daemon pod tolerations %v nodeName %q", p.Spec.Tolerations, p.Spec.NodeName)
	}
	if helmDSReady(t, client, ns, "agent") {
		t.Error("helm ready before any daemon pod is ready")
	}
	k := newKubelet(client, ns)
	k.auto(t, 0)
	eventually(t, 5*time.Second, "status and helm ready", func() (bool, error) {
		s, err := client.AppsV1().DaemonSets(ns).Get(ctx, "agent", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		st := s.Status
		return st.DesiredNumberScheduled == 2 && st.CurrentNumberScheduled == 2 && st.NumberReady == 2 && st.NumberAvailable == 2 &&
			st.UpdatedNumberScheduled == 2 && st.NumberUnavailable == 0 && helmDSReady(t, client, ns, "agent"), nil
	})

	// A node joins, another leaves.
	addNode(t, client, "node-d", nil)
	if err := client.CoreV1().Nodes().Delete(ctx, "node-a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "pods follow the nodes", func() (bool, error) {
		return slices.Equal(daemonNodes(t, client, ns, "app=agent"), []string{"node-b", "node-d"}), nil
	})

	// Tolerating the gpu taint (a new template) rolls every Pod, one node
	// unavailable at a time, and adds node-c; the control plane stays
	// out.
	oldHash := listPods(t, client, ns, "app=agent")[0].Labels[appsv1.ControllerRevisionHashLabelKey]
	worst := 0
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(3 * time.Millisecond):
			}
			l, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=agent"})
			if err != nil {
				continue
			}
			ready := map[string]bool{}
			for i := range l.Items {
				if podReady(&l.Items[i]) {
					ready[targetNode(&l.Items[i])] = true
				}
			}
			down := 0
			for _, n := range []string{"node-b", "node-d"} {
				if !ready[n] {
					down++
				}
			}
			worst = max(worst, down)
		}
	}()
	eventually(t, 5*time.Second, "tolerating the taint", func() (bool, error) {
		cur, err := client.AppsV1().DaemonSets(ns).Get(ctx, "agent", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		cur.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
		_, err = client.AppsV1().DaemonSets(ns).Update(ctx, cur, metav1.UpdateOptions{})
		return err == nil, err
	})
	eventually(t, 10*time.Second, "rolled onto three nodes", func() (bool, error) {
		pods := listPods(t, client, ns, "app=agent")
		for _, p := range pods {
			if p.Labels[appsv1.ControllerRevisionHashLabelKey] == oldHash || !podReady(&p) {
				return false, nil
			}
		}
		return slices.Equal(daemonNodes(t, client, ns, "app=agent"), []string{"node-b", "node-c", "node-d"}), nil
	})
	close(stop)
	<-sampled
	if worst > 1 {
		t.Errorf("%d nodes without a ready daemon during the roll; maxUnavailable is 1", worst)
	}
	t.Logf("at most %d node(s) without a ready daemon during the roll", worst)

	// A node selector narrows it down.
	eventually(t, 5*time.Second, "node selector", func() (bool, error) {
		cur, err := client.AppsV1().DaemonSets(ns).Get(ctx, "agent", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		cur.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "ssd"}
		_, err = client.AppsV1().DaemonSets(ns).Update(ctx, cur, metav1.UpdateOptions{})
		return err == nil, err
	})
	eventually(t, 10*time.Second, "only node-b", func() (bool, error) {
		return slices.Equal(daemonNodes(t, client, ns, "app=agent"), []string{"node-b"}), nil
	})
}

// TestDaemonSetTaintEffects: an untolerated NoSchedule taint added to a
// node keeps new daemon Pods away but leaves the running one (counted as
// misscheduled), as in Kubernetes; an untolerated NoExecute taint removes
// it.
func TestDaemonSetTaintEffects(t *testing.T) {
	t.Parallel()
	client, ns := start(t, Options{Controllers: []string{DaemonSetController}})
	ctx := context.Background()
	addNode(t, client, "node-a", nil)
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: podTemplate("agent", "agent:1"),
		},
	}
	if _, err := client.AppsV1().DaemonSets(ns).Create(ctx, ds, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "a pod on node-a", func() (bool, error) {
		return slices.Equal(daemonNodes(t, client, ns, "app=agent"), []string{"node-a"}), nil
	})
	first := listPods(t, client, ns, "app=agent")[0].UID
	taint := func(effect corev1.TaintEffect) {
		t.Helper()
		eventually(t, 5*time.Second, "tainting node-a", func() (bool, error) {
			n, err := client.CoreV1().Nodes().Get(ctx, "node-a", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			n.Spec.Taints = []corev1.Taint{{Key: "example.com/maintenance", Effect: effect}}
			_, err = client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{})
			return err == nil, nil
		})
	}
	taint(corev1.TaintEffectNoSchedule)
	eventually(t, 5*time.Second, "misscheduled, not desired", func() (bool, error) {
		s, err := client.AppsV1().DaemonSets(ns).Get(ctx, "agent", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return s.Status.DesiredNumberScheduled == 0 && s.Status.NumberMisscheduled == 1, nil
	})
	if pods := listPods(t, client, ns, "app=agent"); len(pods) != 1 || pods[0].UID != first || pods[0].DeletionTimestamp != nil {
		t.Fatalf("a NoSchedule taint touched the running daemon pod: %v", pods)
	}
	taint(corev1.TaintEffectNoExecute)
	eventually(t, 5*time.Second, "the NoExecute taint removes the pod", func() (bool, error) {
		return len(daemonNodes(t, client, ns, "app=agent")) == 0, nil
	})
}
