package apiserver

import (
	"strings"
	"testing"
)

// TestKubectlCRD drives CustomResourceDefinitions and their custom
// resources with the real kubectl.
func TestKubectlCRD(t *testing.T) {
	ts := newTestServer(t)
	dir := kubectlDir(t, ts)
	steps := []struct {
		name string
		args []string
		want []string
	}{
		{"apply crd", []string{"apply", "-f", "testdata/crd.yaml"}, []string{"customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com created"}},
		{"wait", []string{"wait", "--for", "condition=established", "--timeout=30s", "crd/crontabs.stable.example.com"}, []string{"condition met"}},
		{"apply cr", []string{"apply", "-f", "testdata/cr.yaml"}, []string{"crontab.stable.example.com/my-crontab created"}},
		{"apply cr again", []string{"apply", "-f", "testdata/cr.yaml"}, []string{"crontab.stable.example.com/my-crontab unchanged"}},
		{"get plural", []string{"get", "crontabs"}, []string{"NAME", "SPEC", "REPLICAS", "AGE", "my-crontab", "* * * * */5", "2"}},
		{"get short name", []string{"get", "ct", "my-crontab", "-o", "jsonpath={.spec.image}"}, []string{"my-cron-image"}},
		{"get crd", []string{"get", "crd"}, []string{"NAME", "CREATED AT", "crontabs.stable.example.com"}},
		{"api-resources", []string{"api-resources", "--api-group=stable.example.com"}, []string{"crontabs", "ct", "stable.example.com/v1", "true", "CronTab"}},
		{"api-resources built-ins", []string{"api-resources"}, []string{"customresourcedefinitions", "crd,crds", "horizontalpodautoscalers", "poddisruptionbudgets", "storageclasses", "endpointslices", "persistentvolumes"}},
		{"patch", []string{"patch", "ct", "my-crontab", "--type=merge", "-p", `{"spec":{"replicas":3}}`}, []string{"crontab.stable.example.com/my-crontab patched"}},
		{"delete cr", []string{"delete", "-f", "testdata/cr.yaml"}, []string{`crontab.stable.example.com "my-crontab" deleted`}},
		{"delete crd", []string{"delete", "-f", "testdata/crd.yaml"}, []string{`customresourcedefinition.apiextensions.k8s.io "crontabs.stable.example.com" deleted`}},
	}
	for _, st := range steps {
		out, err := ts.kubectl(t, dir, st.args...)
		if err != nil {
			t.Fatalf("%s: kubectl %s: %v\n%s", st.name, strings.Join(st.args, " "), err, out)
		}
		for _, w := range st.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", st.name, w, out)
			}
		}
	}
	// Once the CRD is gone its resource is not served: kubectl fails with
	// NotFound (from its cached discovery) or an unknown resource type.
	out, err := ts.kubectl(t, dir, "get", "crontabs")
	if err == nil || !(strings.Contains(out, "NotFound") || strings.Contains(out, "the server doesn't have a resource type")) {
		t.Errorf("get after CRD deletion: %v\n%s", err, out)
	}
}
