package controllers_test

import (
	"context"
	"net"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/orchestrator/cluster"
	"pkg.dev/pkg/orchestrator/controllers"
)

// The wiring `pkg cluster serve` uses: the controllers run beside
// cluster.Run over TLS with the cluster's CA and token.
func TestRunBesideClusterServer(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a TLS cluster server; skipped with -short")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan cluster.State, 1)
	served := make(chan error, 1)
	go func() {
		served <- cluster.Run(ctx, cluster.Options{DataDir: dir, Port: port, Ready: func(s cluster.State) { ready <- s }})
	}()
	var st cluster.State
	select {
	case st = <-ready:
	case err := <-served:
		cancel()
		t.Fatalf("cluster.Run: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("the cluster server did not start")
	}
	creds, err := cluster.LoadCredentials(dir)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	cfg := controllers.RESTConfig(st.URL, creds.CAPEM, creds.Token)
	ran := make(chan error, 1)
	go func() {
		ran <- controllers.Run(ctx, cfg, controllers.Options{Controllers: []string{controllers.ReplicaSetController, controllers.DeploymentController}})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("controllers.Run: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("cluster.Run: %v", err)
		}
	})
	client := kubernetes.NewForConfigOrDie(cfg)
	replicas := int32(2)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "web:1"}}},
			},
		},
	}
	if _, err := client.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err == nil && len(l.Items) == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 2 pods over TLS (last: %v, %v)", l, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
