package scheduler

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkSchedule100Nodes5000Pods places 5,000 pending Pods (requests,
// a spread constraint over zones, and for a fifth of them a required
// anti-affinity) on 100 nodes in three zones, one decision after another
// as the scheduler makes them; pods/s is the throughput kube-scheduler's
// published figures are compared with in docs/benchmarks.md.
func BenchmarkSchedule100Nodes5000Pods(b *testing.B) {
	const nodes, pods = 100, 5000
	zones := []string{"a", "b", "c"}
	var placed int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		snap := &Snapshot{}
		for n := 0; n < nodes; n++ {
			snap.Nodes = append(snap.Nodes, NewNodeInfo(node(fmt.Sprintf("n%03d", n), "32", "128Gi",
				map[string]string{"topology.kubernetes.io/zone": zones[n%3]})))
		}
		var ps []*corev1.Pod
		for p := 0; p < pods; p++ {
			app := fmt.Sprintf("app%d", p%50)
			pod := pod(fmt.Sprintf("p%05d", p), "100m", "128Mi", map[string]string{"app": app})
			pod.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
				MaxSkew: 5, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.ScheduleAnyway,
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
			}}
			if p%5 == 0 {
				pod.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
					RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
						LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app, "anti": "yes"}},
						TopologyKey:   "kubernetes.io/hostname",
					}},
				}}
				pod.Labels["anti"] = "yes"
			}
			ps = append(ps, pod)
		}
		b.StartTimer()
		placed = 0
		for _, p := range ps {
			name, err := Schedule(snap, p)
			if err != nil {
				continue
			}
			placed++
			for _, ni := range snap.Nodes {
				if ni.Node.Name == name {
					ni.AddPod(p)
					break
				}
			}
		}
	}
	b.ReportMetric(float64(pods)*float64(b.N)/b.Elapsed().Seconds(), "pods/s")
	if placed != pods {
		b.Fatalf("placed %d of %d pods", placed, pods)
	}
}
