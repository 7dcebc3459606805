package node

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	listerscorev1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// BenchmarkUsageMeasure measures one reading of a full node: 110 running
// Pods (the node's Pod capacity) of two containers each, over a cgroup
// v1 tree as the kernel lays it out, including writing usage.json.
func BenchmarkUsageMeasure(b *testing.B) {
	root := b.TempDir()
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	for i := range 110 {
		uid := types.UID(fmt.Sprintf("%08d-0000-0000-0000-000000000000", i))
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%d", i), Namespace: "default", UID: uid},
			Spec:   corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "app"}, {Name: "side"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning}}
		for _, c := range p.Spec.Containers {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: c.Name, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}})
			id := ContainerID(uid, c.Name)
			writeCgroupFiles(b, root, map[string]string{
				"cpuacct/pkg/" + id + "/cpuacct.usage":        "123456789\n",
				"memory/pkg/" + id + "/memory.usage_in_bytes": "10485760\n",
				"memory/pkg/" + id + "/memory.stat":           "cache 4096\nrss 8192\ntotal_cache 4096\ntotal_rss 8192\ntotal_inactive_file 2097152\ntotal_active_file 1000\n",
			})
		}
		if err := idx.Add(p); err != nil {
			b.Fatal(err)
		}
	}
	t0 := time.Unix(1000, 0)
	n := 0
	m := &UsageMeter{Node: "n1", Dir: b.TempDir(), CgroupRoot: root, Clock: func() time.Time { n++; return t0.Add(time.Duration(n) * time.Second) }}
	lister := listerscorev1.NewPodLister(idx)
	b.ResetTimer()
	for b.Loop() {
		if err := m.measure(lister); err != nil {
			b.Fatal(err)
		}
	}
}
