package cli_test

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// hpaV1Template is an autoscaler as charts written for autoscaling/v1
// template it.
const hpaV1Template = `apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: {{ .Release.Name }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ .Release.Name }}
  minReplicas: 1
  maxReplicas: {{ .Values.max | default 5 }}
  targetCPUUtilizationPercentage: {{ .Values.cpu | default 50 }}
`

// TestInstallHPAv1Chart: a chart whose autoscaler is autoscaling/v1
// installs and upgrades on the bundled API server, which stores it as
// autoscaling/v2, as kube-apiserver does.
func TestInstallHPAv1Chart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an API server")
	}
	tc, sb := apiSandbox(t)
	chart := writeChart(t, t.TempDir(), "scaled", map[string]string{"hpa.yaml": hpaV1Template})
	if out := runPkg(t, sb, "", "install", "web", chart); out.code != 0 {
		t.Fatalf("install: %s", out.stderr)
	}
	if out := runPkg(t, sb, "", "upgrade", "web", chart, "--set", "cpu=70", "--set", "max=8"); out.code != 0 {
		t.Fatalf("upgrade: %s", out.stderr)
	}
	cs, err := kubernetes.NewForConfig(tc.Config)
	if err != nil {
		t.Fatal(err)
	}
	h, err := cs.AutoscalingV2().HorizontalPodAutoscalers("default").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Spec.Metrics) != 1 || h.Spec.Metrics[0].Resource == nil || h.Spec.Metrics[0].Resource.Name != "cpu" ||
		*h.Spec.Metrics[0].Resource.Target.AverageUtilization != 70 || h.Spec.MaxReplicas != 8 || h.Annotations["meta.helm.sh/release-name"] != "web" {
		t.Errorf("stored autoscaler: %+v %v", h.Spec, h.Annotations)
	}
	if out := runPkg(t, sb, "", "uninstall", "web"); out.code != 0 {
		t.Fatalf("uninstall: %s", out.stderr)
	}
}
