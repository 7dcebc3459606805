package apiserver

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// kubectlPath is where the kubectl test looks for the real kubectl.
const kubectlPath = "/usr/bin/kubectl"

// kubectl runs the real kubectl against ts with its own kubeconfig and
// cache, and returns its combined output.
func (ts *testServer) kubectl(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"--kubeconfig", filepath.Join(dir, "kubeconfig"), "--cache-dir", filepath.Join(dir, "cache")}, args...)
	cmd := exec.CommandContext(ctx, kubectlPath, full...)
	cmd.Env = []string{"HOME=" + dir, "PATH=/usr/bin:/bin"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func TestKubectl(t *testing.T) {
	ts := newTestServer(t)
	dir := kubectlDir(t, ts)
	app, err := os.ReadFile("testdata/app.yaml")
	if err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "app.yaml")
	write := func(data []byte) {
		if err := os.WriteFile(manifest, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(app)
	edited := bytes.Replace(bytes.Replace(app, []byte("replicas: 2"), []byte("replicas: 3"), 1), []byte("greeting: hello"), []byte("greeting: bonjour"), 1)

	steps := []struct {
		name   string
		before func()
		args   []string
		want   []string // substrings of the output, in any order
		fail   bool     // kubectl is expected to fail
	}{
		{"api-resources", nil, []string{"api-resources"}, []string{
			"deployments", "deploy", "apps/v1", "Deployment", "leases", "coordination.k8s.io/v1", "clusterroles", "false"}, false},
		{"apply", nil, []string{"apply", "-f", manifest}, []string{
			"configmap/demo-config created", "deployment.apps/demo created", "service/demo created"}, false},
		{"apply again after an edit", func() { write(edited) }, []string{"apply", "-f", manifest}, []string{
			"configmap/demo-config configured", "deployment.apps/demo configured", "service/demo unchanged"}, false},
		{"diff", func() { write(bytes.Replace(edited, []byte("greeting: bonjour"), []byte("greeting: hallo"), 1)) },
			[]string{"diff", "-f", manifest}, []string{"-  greeting: bonjour", "+  greeting: hallo"}, true},
		{"server dry run", nil, []string{"apply", "--dry-run=server", "-f", manifest}, []string{"configmap/demo-config configured (server dry run)"}, false},
		{"get json", nil, []string{"get", "deploy", "demo", "-o", "json"}, []string{`"replicas": 3`, `"generation": 2`, "last-applied-configuration"}, false},
		{"scale", nil, []string{"scale", "deploy/demo", "--replicas=4"}, []string{"deployment.apps/demo scaled"}, false},
		{"get yaml", nil, []string{"get", "deploy", "-o", "yaml"}, []string{"kind: List", "name: demo", "replicas: 4", "generation: 3"}, false},
		{"get wide", nil, []string{"get", "deploy", "-o", "wide"}, []string{
			"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR", "0/4", "nginx:1.27", "app=demo"}, false},
		{"get svc", nil, []string{"get", "svc"}, []string{"TYPE", "CLUSTER-IP", "PORT(S)", "ClusterIP", "80/TCP"}, false},
		{"get cm by label", nil, []string{"get", "cm", "-l", "app=demo", "-o", "jsonpath={.items[0].data.greeting}"}, []string{"bonjour"}, false},
		{"get cm table", nil, []string{"get", "cm", "-l", "app=demo"}, []string{"NAME", "DATA", "demo-config", "1"}, false},
		{"get all", nil, []string{"get", "all"}, []string{"service/demo", "deployment.apps/demo"}, false},
		{"get ns", nil, []string{"get", "ns"}, []string{"STATUS", "kube-system", "Active"}, false},
		{"delete", nil, []string{"delete", "-f", manifest}, []string{
			`configmap "demo-config" deleted`, `deployment.apps "demo" deleted`, `service "demo" deleted`}, false},
		{"strict validation on the server", nil, []string{"apply", "-f", "testdata/bad.yaml"}, []string{`unknown field "dataa"`}, true},
		{"gone", nil, []string{"get", "cm,deploy,svc", "-l", "app=demo"}, []string{"No resources found"}, false},
	}
	for _, st := range steps {
		if st.before != nil {
			st.before()
		}
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
