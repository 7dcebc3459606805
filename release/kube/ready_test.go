package kube

import (
	"fmt"
	"testing"

	helmkube "helm.sh/helm/v3/pkg/kube"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/resource"

	"pkg.dev/pkg/release"
)

// Readiness agrees with Helm's own ReadyChecker (as Helm's --wait and
// --wait-for-jobs configure it) on objects written to a real API server.
func TestReadinessMatchesHelm(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	deploy := func(extra string) string {
		return `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
` + extra + `  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - {name: web, image: nginx}
`
	}
	sts := "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  replicas: 2\n  serviceName: db\n  selector:\n    matchLabels: {app: db}\n  template:\n    metadata:\n      labels: {app: db}\n    spec:\n      containers: [{name: db, image: postgres}]\n"
	ds := "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n  updateStrategy:\n    rollingUpdate: {maxUnavailable: 1}\n  selector:\n    matchLabels: {app: agent}\n  template:\n    metadata:\n      labels: {app: agent}\n    spec:\n      containers: [{name: a, image: busybox}]\n"
	lb := "apiVersion: v1\nkind: Service\nmetadata: {name: lb}\nspec:\n  type: LoadBalancer\n  ports: [{port: 80}]\n"
	job := "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  backoffLimit: 2\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: busybox}]\n"
	rs := func(ready int64) func(e *env, r *release.Resource) {
		return func(e *env, r *release.Resource) {
			x := e.newReplicaSetFor(r)
			e.setStatus(x, map[string]any{"replicas": int64(2), "readyReplicas": ready, "observedGeneration": x.Object.GetGeneration()})
			e.setStatus(r, map[string]any{"observedGeneration": e.get(r).GetGeneration()})
		}
	}
	status := func(st map[string]any) func(e *env, r *release.Resource) {
		return func(e *env, r *release.Resource) { e.setStatus(r, st) }
	}
	tests := []struct {
		name     string
		manifest string
		setup    func(e *env, r *release.Resource)
		ready    bool
		fails    bool
	}{
		{"deployment paused", deploy("  paused: true\n"), nil, true, false},
		{"deployment without replicaset", deploy(""), nil, false, false},
		{"deployment half ready", deploy(""), rs(1), false, false},
		{"deployment ready", deploy(""), rs(2), true, false},
		{"deployment within maxUnavailable", deploy("  strategy:\n    rollingUpdate: {maxUnavailable: 1}\n"), rs(1), true, false},
		{"deployment recreate", deploy("  strategy: {type: Recreate}\n"), rs(1), false, false},
		{"statefulset rolled out", sts, status(map[string]any{"observedGeneration": int64(1), "replicas": int64(2), "readyReplicas": int64(2), "updatedReplicas": int64(2), "currentRevision": "r1", "updateRevision": "r1"}), true, false},
		{"statefulset mid-rollout", sts, status(map[string]any{"observedGeneration": int64(1), "replicas": int64(2), "readyReplicas": int64(2), "updatedReplicas": int64(2), "currentRevision": "r1", "updateRevision": "r2"}), false, false},
		{"statefulset not observed", sts, nil, false, false},
		{"daemonset one unavailable", ds, status(map[string]any{"observedGeneration": int64(1), "desiredNumberScheduled": int64(3), "updatedNumberScheduled": int64(3), "numberReady": int64(2), "currentNumberScheduled": int64(3), "numberMisscheduled": int64(0)}), true, false},
		{"daemonset two unavailable", ds, status(map[string]any{"observedGeneration": int64(1), "desiredNumberScheduled": int64(3), "updatedNumberScheduled": int64(3), "numberReady": int64(1), "currentNumberScheduled": int64(3), "numberMisscheduled": int64(0)}), false, false},
		{"load balancer without ingress", lb, nil, false, false},
		{"load balancer with ingress", lb, status(map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"ip": "192.0.2.1"}}}}), true, false},
		{"job running", job, status(map[string]any{"active": int64(1)}), false, false},
		{"job succeeded", job, status(map[string]any{"succeeded": int64(1)}), true, false},
		{"job failed", job, status(map[string]any{"failed": int64(3)}), false, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			ns := fmt.Sprintf("case%d", i)
			if err := e.client.EnsureNamespace(ctx(t), ns); err != nil {
				t.Fatal(err)
			}
			list, err := e.client.Build(ctx(t), tt.manifest, ns)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.client.Create(ctx(t), list); err != nil {
				t.Fatal(err)
			}
			r := list[0]
			if tt.setup != nil {
				tt.setup(e, r)
			}
			ready, reason, err := e.client.readiness(ctx(t), r, true)
			if ready != tt.ready || (err != nil) != tt.fails {
				t.Errorf("readiness = %v %q %v, want ready=%v fails=%v", ready, reason, err, tt.ready, tt.fails)
			}
			if !ready && err == nil && reason == "" {
				t.Error("not ready without a reason")
			}

			checker := helmkube.NewReadyChecker(e.typed, nil, helmkube.PausedAsReady(true), helmkube.CheckJobs(true))
			info := &resource.Info{
				Name: r.Name, Namespace: r.Namespace, Object: e.get(r),
				Mapping: &meta.RESTMapping{Resource: r.GVR, GroupVersionKind: r.GVK, Scope: meta.RESTScopeNamespace},
			}
			helmReady, helmErr := checker.IsReady(ctx(t), info)
			if helmReady != ready || (helmErr != nil) != (err != nil) {
				t.Errorf("Helm says ready=%v err=%v; we say ready=%v err=%v (%s)", helmReady, helmErr, ready, err, reason)
			}
		})
	}
}
