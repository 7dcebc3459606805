package controllers

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestFiftyReplicasReady measures a 50-replica Deployment from create to
// rolled out (the kubelet stand-in readies Pods as it sees them), and a
// rollback of it; the goals are 5 s and, for a 3-replica one, 2 s.
func TestFiftyReplicasReady(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("timing test; skipped with -short")
	}
	client, ns := start(t, deploymentControllers)
	k := newKubelet(client, ns)
	k.auto(t, 0)
	began := time.Now()
	if _, err := client.AppsV1().Deployments(ns).Create(context.Background(), newDeployment("web", 50), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "50 ready", rolledOut(t, client, ns, "web"))
	created := time.Since(began)
	setImage(t, client, ns, "web", "web:2")
	eventually(t, 20*time.Second, "rollout", func() (bool, error) {
		d := getDeploy(t, client, ns, "web")
		_, done, err := rolloutStatus(t, d)
		return done && d.Annotations[RevisionAnnotation] == "2", err
	})
	began = time.Now()
	rolloutUndo(t, client, ns, "web")
	eventually(t, 20*time.Second, "rollback", func() (bool, error) {
		d := getDeploy(t, client, ns, "web")
		_, done, err := rolloutStatus(t, d)
		return done && d.Annotations[RevisionAnnotation] == "3", err
	})
	t.Logf("50 replicas rolled out in %v; rolled back in %v", created.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	if created > 5*time.Second {
		t.Errorf("50 replicas took %v, over the 5 s goal", created)
	}
}
