package apiserver

import (
	"strings"
	"testing"
)

// TestKubectlExplain reads the served OpenAPI v3 schemas with the real
// kubectl explain: built-in kinds, nested fields, and a custom resource.
func TestKubectlExplain(t *testing.T) {
	ts := newTestServer(t)
	dir := kubectlDir(t, ts)
	steps := []struct {
		name string
		args []string
		want []string
		fail bool
	}{
		{"kind", []string{"explain", "deployment"}, []string{
			"GROUP:      apps", "KIND:       Deployment", "VERSION:    v1",
			"Deployment enables declarative updates for Pods and ReplicaSets.",
			"spec\t<DeploymentSpec>", "status\t<DeploymentStatus>"}, false},
		{"nested", []string{"explain", "deployment.spec"}, []string{
			"FIELD: spec <DeploymentSpec>",
			"replicas\t<integer>", "Number of desired pods.",
			"revisionHistoryLimit\t<integer>", "template\t<PodTemplateSpec>", "strategy\t<DeploymentStrategy>"}, false},
		{"deep", []string{"explain", "pods.spec.containers.ports"}, []string{
			"FIELD: ports <[]ContainerPort>", "containerPort\t<integer>", "protocol\t<string>"}, false},
		{"core", []string{"explain", "configmap.data"}, []string{"FIELD: data <map[string]string>"}, false},
		{"metadata", []string{"explain", "service.metadata.labels"}, []string{"FIELD: labels <map[string]string>"}, false},
		{"quantity", []string{"explain", "pod.spec.containers.resources.limits"}, []string{"FIELD: limits <map[string]Quantity>"}, false},
		{"recursive", []string{"explain", "job.spec.template.spec", "--recursive"}, []string{"containers\t<[]Container> -required-", "    name\t<string>"}, false},
		{"unknown field", []string{"explain", "deployment.spec.bogus"}, []string{`field "bogus" does not exist`}, true},
		{"crd kind", []string{"explain", "crd.spec.versions"}, []string{"KIND:       CustomResourceDefinition", "schema\t<CustomResourceValidation>"}, false},
		{"custom resource crd", []string{"apply", "-f", "testdata/crd-widgets.yaml"}, []string{"created"}, false},
		{"custom resource", []string{"explain", "widgets.spec"}, []string{"KIND:       Widget", "size\t<integer> -required-", "color\t<string>"}, false},
	}
	for _, st := range steps {
		out, err := ts.kubectl(t, dir, st.args...)
		if (err != nil) != st.fail {
			t.Fatalf("%s: kubectl %s: %v\n%s", st.name, strings.Join(st.args, " "), err, out)
		}
		for _, w := range st.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", st.name, w, out)
			}
		}
	}
}
