package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestParsePortSpecs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		arg     string
		want    portSpec
		wantErr string
	}{
		{arg: "8080", want: portSpec{local: 8080, remote: "8080"}},
		{arg: "5000:8080", want: portSpec{local: 5000, remote: "8080"}},
		{arg: ":8080", want: portSpec{local: 0, remote: "8080"}},
		{arg: "0:http", want: portSpec{local: 0, remote: "http"}},
		{arg: ":http", want: portSpec{local: 0, remote: "http"}},
		{arg: "http", wantErr: "a port alone must be a number"},
		{arg: "70000:80", wantErr: `local port "70000" is not a number from 0 to 65535`},
		{arg: "x:80", wantErr: `local port "x" is not a number`},
		{arg: "80:0", wantErr: `remote port "0" is not a number from 1 to 65535`},
		{arg: "80:99999", wantErr: `remote port "99999" is not a number from 1 to 65535`},
		{arg: "80:", wantErr: "want [LOCAL_PORT:]REMOTE_PORT"},
		{arg: "1:2:3", wantErr: "want [LOCAL_PORT:]REMOTE_PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			t.Parallel()
			got, err := parsePortSpecs([]string{tt.arg})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parsePortSpecs(%q) = %v, %v; want an error with %q", tt.arg, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != 1 || got[0] != tt.want {
				t.Fatalf("parsePortSpecs(%q) = %+v, %v; want %+v", tt.arg, got, err, tt.want)
			}
		})
	}
}

func TestRemotePort(t *testing.T) {
	t.Parallel()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "app", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}},
			{Name: "side", Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9090}}},
		}},
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
			{Name: "web", Port: 80, TargetPort: intstr.FromString("http")},
			{Name: "admin", Port: 81, TargetPort: intstr.FromInt32(9000)},
			{Name: "same", Port: 82},
		}},
	}
	tests := []struct {
		name    string
		svc     *corev1.Service
		remote  string
		want    int32
		wantErr string
	}{
		{name: "pod number", remote: "1234", want: 1234},
		{name: "pod name", remote: "metrics", want: 9090},
		{name: "pod missing name", remote: "grpc", wantErr: `pod web does not have a named port "grpc"`},
		{name: "service port to named target", svc: svc, remote: "80", want: 8080},
		{name: "service port name", svc: svc, remote: "web", want: 8080},
		{name: "service numbered target", svc: svc, remote: "admin", want: 9000},
		{name: "service target defaults to port", svc: svc, remote: "82", want: 82},
		{name: "service missing port", svc: svc, remote: "8080", wantErr: "service web does not have a service port 8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := remotePort(pod, tt.svc, tt.remote)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("remotePort(%q) = %d, %v; want an error with %q", tt.remote, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("remotePort(%q) = %d, %v; want %d", tt.remote, got, err, tt.want)
			}
		})
	}
}

func TestBestPod(t *testing.T) {
	t.Parallel()
	at := func(s int) metav1.Time { return metav1.NewTime(time.Unix(int64(s), 0)) }
	pod := func(name string, phase corev1.PodPhase, ready bool, created int) corev1.Pod {
		st := corev1.ConditionFalse
		if ready {
			st = corev1.ConditionTrue
		}
		return corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: at(created)},
			Status:     corev1.PodStatus{Phase: phase, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}},
		}
	}
	if p := bestPod([]corev1.Pod{pod("pending", corev1.PodPending, false, 1)}); p != nil {
		t.Errorf("bestPod chose %s, not running", p.Name)
	}
	p := bestPod([]corev1.Pod{
		pod("pending", corev1.PodPending, false, 1),
		pod("unready", corev1.PodRunning, false, 2),
		pod("ready-new", corev1.PodRunning, true, 5),
		pod("ready-old", corev1.PodRunning, true, 3),
	})
	if p == nil || p.Name != "ready-old" {
		t.Errorf("bestPod = %v, want ready-old", p)
	}
}

// TestPortForwardUsage runs the real command tree with bad arguments: the
// error says which argument is wrong before any cluster is contacted.
func TestPortForwardUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"port-forward", "pod/web"}, "requires at least 2 arg"},
		{[]string{"port-forward", "pod/web", "80:http:1"}, `port "80:http:1": want [LOCAL_PORT:]REMOTE_PORT`},
		{[]string{"port-forward", "pod/web", "99999"}, `local port "99999" is not a number from 0 to 65535`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			code := Run(context.Background(), Env{Streams: Streams{In: strings.NewReader(""), Out: &out, Err: &errOut}, Getenv: func(string) string { return "" }}, tt.args)
			if code == 0 || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant %q", code, errOut.String(), tt.want)
			}
		})
	}
}
