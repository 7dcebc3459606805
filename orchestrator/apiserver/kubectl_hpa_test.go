package apiserver

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// hpaV1Manifest is an autoscaler as charts written for autoscaling/v1
// template it.
const hpaV1Manifest = `apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: api
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 2
  maxReplicas: 4
  targetCPUUtilizationPercentage: 70
`

// TestKubectlHPAv1 drives the real kubectl through autoscaling/v1, which
// `kubectl autoscale` writes (kubectl 1.32) and charts for autoscaling/v1
// apply, and reads the result through v2, kubectl's preferred version.
func TestKubectlHPAv1(t *testing.T) {
	ts := newTestServer(t)
	dir := kubectlDir(t, ts)
	manifest := filepath.Join(dir, "hpa.yaml")
	if err := os.WriteFile(manifest, []byte(hpaV1Manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(strings.Replace(hpaV1Manifest, "  maxReplicas: 4\n", "  maxReplicas: 4\n  targetMemory: 3\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		args []string
		want []string // regular expressions the output must match
		fail bool
	}{
		{"deployment", []string{"create", "deployment", "web", "--image=nginx"}, []string{`deployment.apps/web created`}, false},
		{"autoscale", []string{"autoscale", "deployment", "web", "--cpu-percent=50", "--min=1", "--max=5"}, []string{`horizontalpodautoscaler.autoscaling/web autoscaled`}, false},
		{"get hpa", []string{"get", "hpa"}, []string{
			`NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE`,
			`web\s+Deployment/web\s+cpu: <unknown>/50%\s+1\s+5\s+0\s+\d+s`,
		}, false},
		{"stored in v2", []string{"get", "hpa", "web", "-o", "jsonpath={.apiVersion} {.spec.metrics[0].resource.name} {.spec.metrics[0].resource.target.averageUtilization}"},
			[]string{`^autoscaling/v2 cpu 50$`}, false},
		{"read in v1", []string{"get", "horizontalpodautoscalers.v1.autoscaling", "web", "-o", "jsonpath={.apiVersion} {.spec.targetCPUUtilizationPercentage} {.spec.minReplicas}-{.spec.maxReplicas}"},
			[]string{`^autoscaling/v1 50 1-5$`}, false},
		{"apply v1", []string{"apply", "-f", manifest}, []string{`horizontalpodautoscaler.autoscaling/api created`}, false},
		{"apply v1 again", []string{"apply", "-f", manifest}, []string{`horizontalpodautoscaler.autoscaling/api unchanged`}, false},
		{"apply v1 validated", []string{"apply", "-f", bad}, []string{`unknown field "spec.targetMemory"`}, true},
		{"apply v1 server-side", []string{"apply", "--server-side", "-f", manifest}, []string{`horizontalpodautoscaler.autoscaling/api serverside-applied`}, false},
		{"get both", []string{"get", "hpa"}, []string{
			`api\s+Deployment/web\s+cpu: <unknown>/70%\s+2\s+4\s+0`,
			`web\s+Deployment/web\s+cpu: <unknown>/50%\s+1\s+5\s+0`,
		}, false},
		{"get v1 table", []string{"get", "horizontalpodautoscalers.v1.autoscaling", "api"}, []string{`api\s+Deployment/web\s+cpu: <unknown>/70%\s+2\s+4\s+0`}, false},
		{"patch v1", []string{"patch", "horizontalpodautoscalers.v1.autoscaling", "api", "-p", `{"spec":{"targetCPUUtilizationPercentage":60}}`}, []string{`horizontalpodautoscaler.autoscaling/api patched`}, false},
		{"patched in v2", []string{"get", "hpa", "api", "-o", "jsonpath={.spec.metrics[0].resource.target.averageUtilization}"}, []string{`^60$`}, false},
		{"describe", []string{"describe", "hpa", "api"}, []string{`Reference:\s+Deployment/web`, `Min replicas:\s+2`, `Max replicas:\s+4`}, false},
		{"delete", []string{"delete", "hpa", "api", "web"}, []string{`horizontalpodautoscaler.autoscaling "api" deleted`, `horizontalpodautoscaler.autoscaling "web" deleted`}, false},
	}
	for _, st := range steps {
		out, err := ts.kubectl(t, dir, st.args...)
		if (err != nil) != st.fail {
			t.Fatalf("%s: kubectl %s: %v\n%s", st.name, strings.Join(st.args, " "), err, out)
		}
		for _, w := range st.want {
			if !regexp.MustCompile(`(?m)` + w).MatchString(out) {
				t.Errorf("%s: output does not match %q:\n%s", st.name, w, out)
			}
		}
		if !st.fail && strings.Contains(out, "rror") {
			t.Errorf("%s: output reports an error:\n%s", st.name, out)
		}
	}
}
