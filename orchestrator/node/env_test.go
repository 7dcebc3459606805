package node

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/internal/testcluster"
)

// TestServiceEnvAndExpansion: containers get the kubelet's Service
// variables (and only the kubernetes ones without service links), and
// $(VAR) expands from them.
func TestServiceEnvAndExpansion(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an API server")
	}
	t.Parallel()
	tc := testcluster.Start(t)
	cs, err := kubernetes.NewForConfig(tc.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svc, err := cs.CoreV1().Services("default").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "redis-main"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "redis", Port: 6379}, {Name: "metrics", Port: 9121}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ip := svc.Spec.ClusterIP
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"}}
	c := &corev1.Container{Env: []corev1.EnvVar{{Name: "URL", Value: "redis://$(REDIS_MAIN_SERVICE_HOST):$(REDIS_MAIN_SERVICE_PORT)"}}}
	env, err := envOf(ctx, cs, pod, c, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(env, "\n") + "\n"
	for _, want := range []string{
		"REDIS_MAIN_SERVICE_HOST=" + ip + "\n",
		"REDIS_MAIN_SERVICE_PORT=6379\n",
		"REDIS_MAIN_SERVICE_PORT_METRICS=9121\n",
		"REDIS_MAIN_PORT=tcp://" + ip + ":6379\n",
		"REDIS_MAIN_PORT_9121_TCP_ADDR=" + ip + "\n",
		"KUBERNETES_SERVICE_HOST=10.96.0.1\n",
		"URL=redis://" + ip + ":6379\n",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("environment lacks %q:\n%s", want, all)
		}
	}
	off := false
	pod.Spec.EnableServiceLinks = &off
	env, err = envOf(ctx, cs, pod, &corev1.Container{}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	all = strings.Join(env, "\n")
	if strings.Contains(all, "REDIS_MAIN") || !strings.Contains(all, "KUBERNETES_SERVICE_HOST=") {
		t.Errorf("with enableServiceLinks false:\n%s", all)
	}
}
