package kube

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"pkg.dev/pkg/release"
)

var _ release.PodRecreator = (*Client)(nil)

// TestRecreatePods deletes the Pods a release's workloads and Services
// select, each once, and no other Pod.
func TestRecreatePods(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	list := e.create(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: external}
spec:
  ports: [{port: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web}
`)
	pods := e.typed.CoreV1().Pods("default")
	for _, p := range []struct{ name, app string }{{"web-1", "web"}, {"web-2", "web"}, {"db-1", "db"}} {
		if _, err := pods.Create(ctx(t), &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: p.name, Labels: map[string]string{"app": p.app}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.client.RecreatePods(ctx(t), list); err != nil {
		t.Fatal(err)
	}
	left, err := pods.List(ctx(t), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range left.Items {
		if p.DeletionTimestamp == nil {
			names = append(names, p.Name)
		}
	}
	if !slices.Equal(names, []string{"db-1"}) {
		t.Errorf("Pods left: %v, want only db-1", names)
	}
}
