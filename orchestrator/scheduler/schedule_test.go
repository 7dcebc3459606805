package scheduler

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func node(name string, cpu, mem string, labels map[string]string, taints ...corev1.Taint) *corev1.Node {
	if labels == nil {
		labels = map[string]string{}
	}
	labels["kubernetes.io/hostname"] = name
	alloc := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(cpu),
		corev1.ResourceMemory: resource.MustParse(mem),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec:       corev1.NodeSpec{Taints: taints},
		Status:     corev1.NodeStatus{Allocatable: alloc, Capacity: alloc},
	}
}

func pod(name, cpu, mem string, labels map[string]string) *corev1.Pod {
	req := corev1.ResourceList{}
	if cpu != "" {
		req[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		req[corev1.ResourceMemory] = resource.MustParse(mem)
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox", Resources: corev1.ResourceRequirements{Requests: req}}}},
	}
}

func snapshot(nodes ...*corev1.Node) *Snapshot {
	s := &Snapshot{}
	for _, n := range nodes {
		s.Nodes = append(s.Nodes, NewNodeInfo(n))
	}
	return s
}

// place schedules pods one after another into snap, as the scheduler's
// assume cache does, returning the chosen nodes (or the errors).
func place(snap *Snapshot, pods ...*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		name, err := Schedule(snap, p)
		if err != nil {
			out = append(out, err.Error())
			continue
		}
		out = append(out, name)
		for _, ni := range snap.Nodes {
			if ni.Node.Name == name {
				ni.AddPod(p)
			}
		}
	}
	return out
}

func TestSchedule(t *testing.T) {
	t.Parallel()
	noSchedule := corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}
	zone := func(z string) map[string]string { return map[string]string{"topology.kubernetes.io/zone": z} }
	web := map[string]string{"app": "web"}
	antiWeb := &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{MatchLabels: web}, TopologyKey: "kubernetes.io/hostname",
		}},
	}}
	withAffinity := func(p *corev1.Pod, a *corev1.Affinity) *corev1.Pod { p.Spec.Affinity = a; return p }
	spread := func(p *corev1.Pod, how corev1.UnsatisfiableConstraintAction) *corev1.Pod {
		p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: how,
			LabelSelector: &metav1.LabelSelector{MatchLabels: web},
		}}
		return p
	}
	cases := []struct {
		name string
		snap *Snapshot
		pods []*corev1.Pod
		want []string
	}{
		{
			"insufficient cpu everywhere",
			snapshot(node("a", "1", "1Gi", nil), node("b", "1", "1Gi", nil), node("c", "1", "1Gi", nil)),
			[]*corev1.Pod{pod("big", "2", "", nil)},
			[]string{"0/3 nodes are available: 3 Insufficient cpu."},
		},
		{
			"fills nodes then reports both resources",
			snapshot(node("a", "1", "1Gi", nil)),
			[]*corev1.Pod{pod("p1", "600m", "600Mi", nil), pod("p2", "600m", "600Mi", nil)},
			[]string{"a", "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory."},
		},
		{
			"least allocated",
			func() *Snapshot {
				s := snapshot(node("a", "4", "4Gi", nil), node("b", "4", "4Gi", nil))
				s.Nodes[0].AddPod(pod("busy", "3", "3Gi", nil))
				return s
			}(),
			[]*corev1.Pod{pod("p", "100m", "100Mi", nil)},
			[]string{"b"},
		},
		{
			"node selector",
			snapshot(node("a", "4", "4Gi", nil), node("b", "4", "4Gi", map[string]string{"disk": "ssd"})),
			[]*corev1.Pod{func() *corev1.Pod {
				p := pod("p", "", "", nil)
				p.Spec.NodeSelector = map[string]string{"disk": "ssd"}
				return p
			}(),
				func() *corev1.Pod {
					p := pod("q", "", "", nil)
					p.Spec.NodeSelector = map[string]string{"disk": "nvme"}
					return p
				}()},
			[]string{"b", "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."},
		},
		{
			"taints and tolerations",
			snapshot(node("gpu", "8", "8Gi", nil, noSchedule), node("cpu", "1", "1Gi", nil)),
			[]*corev1.Pod{pod("plain", "2", "", nil), func() *corev1.Pod {
				p := pod("tolerant", "2", "", nil)
				p.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
				return p
			}()},
			[]string{"0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}.", "gpu"},
		},
		{
			"cordoned",
			func() *Snapshot {
				s := snapshot(node("a", "4", "4Gi", nil))
				s.Nodes[0].Node.Spec.Unschedulable = true
				return s
			}(),
			[]*corev1.Pod{pod("p", "", "", nil)},
			[]string{"0/1 nodes are available: 1 node(s) were unschedulable."},
		},
		{
			"required anti-affinity spreads replicas, one per node",
			snapshot(node("a", "4", "4Gi", nil), node("b", "4", "4Gi", nil), node("c", "4", "4Gi", nil)),
			[]*corev1.Pod{withAffinity(pod("w1", "", "", web), antiWeb), withAffinity(pod("w2", "", "", web), antiWeb),
				withAffinity(pod("w3", "", "", web), antiWeb), withAffinity(pod("w4", "", "", web), antiWeb)},
			[]string{"a", "b", "c", "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."},
		},
		{
			"topology spread across zones",
			snapshot(node("a1", "8", "8Gi", zone("a")), node("a2", "8", "8Gi", zone("a")), node("b1", "1", "8Gi", zone("b"))),
			[]*corev1.Pod{spread(pod("s1", "", "", web), corev1.DoNotSchedule), spread(pod("s2", "", "", web), corev1.DoNotSchedule),
				spread(pod("s3", "", "", web), corev1.DoNotSchedule), spread(pod("s4", "600m", "", web), corev1.DoNotSchedule),
				spread(pod("s5", "600m", "", web), corev1.DoNotSchedule), spread(pod("s6", "600m", "", web), corev1.DoNotSchedule)},
			[]string{"a1", "b1", "a2", "b1", "a1", "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match pod topology spread constraints."},
		},
		{
			"preferred node affinity",
			snapshot(node("a", "4", "4Gi", map[string]string{"tier": "gold"}), node("b", "4", "4Gi", nil)),
			[]*corev1.Pod{withAffinity(pod("p", "", "", nil), &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{Weight: 50, Preference: corev1.NodeSelectorTerm{
					MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "tier", Operator: corev1.NodeSelectorOpIn, Values: []string{"gold"}}},
				}}},
			}})},
			[]string{"a"},
		},
		{
			"no nodes",
			&Snapshot{},
			[]*corev1.Pod{pod("p", "", "", nil)},
			[]string{"no nodes available to schedule pods"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := place(tc.snap, tc.pods...)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("placed\n %q\nwant\n %q", got, tc.want)
			}
		})
	}
}
