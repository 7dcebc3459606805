package node

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// A Pod with spec.hostNetwork runs on the host's network even where the
// node has a cluster network: its address is the node's, the host
// reaches it on 127.0.0.1, and its readiness probe is dialled there.
func TestHostNetworkPod(t *testing.T) {
	e, ctx := newRunnerEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "hostnet", Namespace: "default", UID: "hostnet-uid"},
		Spec: corev1.PodSpec{
			NodeName:    "n1",
			HostNetwork: true,
			Containers: []corev1.Container{{
				Name: "web", Image: "testapp:1", Args: []string{"-listen", fmt.Sprintf("127.0.0.1:%d", port)},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt(port)}},
					PeriodSeconds: 1,
				},
			}},
		},
	}
	if _, err := e.cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p := waitPod(t, ctx, e, "hostnet", "Ready on the host's network", ready)
	if p.Status.PodIP != "127.0.0.1" {
		t.Errorf("podIP %q, want the node's address 127.0.0.1", p.Status.PodIP)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		t.Fatalf("the host does not reach the Pod: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(body), "hello from ") {
		t.Errorf("the Pod answered %q", body)
	}
}
