package apiserver

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKubectlServerSideApply drives server-side apply with the real
// kubectl: creation, a second apply, a conflict with another field
// manager, and --force-conflicts.
func TestKubectlServerSideApply(t *testing.T) {
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
		want   []string
		fail   bool
	}{
		{"apply", nil, []string{"apply", "--server-side", "-f", manifest}, []string{
			"configmap/demo-config serverside-applied", "deployment.apps/demo serverside-applied", "service/demo serverside-applied"}, false},
		{"managed fields", nil, []string{"get", "cm", "demo-config", "-o", "yaml", "--show-managed-fields"}, []string{
			"manager: kubectl", "operation: Apply", "f:greeting: {}"}, false},
		{"apply again after an edit", func() { write(edited) }, []string{"apply", "--server-side", "-f", manifest}, []string{
			"configmap/demo-config serverside-applied", "deployment.apps/demo serverside-applied"}, false},
		{"edited", nil, []string{"get", "deploy", "demo", "-o", "jsonpath={.spec.replicas} {.metadata.generation}"}, []string{"3 2"}, false},
		{"server dry run", func() { write(bytes.Replace(edited, []byte("greeting: bonjour"), []byte("greeting: hallo"), 1)) },
			[]string{"apply", "--server-side", "--dry-run=server", "-f", manifest}, []string{"configmap/demo-config serverside-applied (server dry run)"}, false},
		{"unchanged by the dry run", nil, []string{"get", "cm", "demo-config", "-o", "jsonpath={.data.greeting}"}, []string{"bonjour"}, false},
		{"diff", nil, []string{"diff", "--server-side", "-f", manifest}, []string{"-  greeting: bonjour", "+  greeting: hallo"}, true},
		{"crd", nil, []string{"apply", "--server-side", "-f", "testdata/crd.yaml"}, []string{"customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com serverside-applied"}, false},
		{"cr", nil, []string{"apply", "--server-side", "-f", "testdata/cr.yaml"}, []string{"crontab.stable.example.com/my-crontab serverside-applied"}, false},
		{"conflict", nil, []string{"apply", "--server-side", "--field-manager=other", "-f", manifest}, []string{
			`Apply failed with 1 conflict: conflict with "kubectl": .data.greeting`, "--force-conflicts"}, true},
		{"force", nil, []string{"apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", manifest}, []string{
			"configmap/demo-config serverside-applied"}, false},
		{"forced", nil, []string{"get", "cm", "demo-config", "-o", "yaml", "--show-managed-fields"}, []string{
			"greeting: hallo", "manager: other"}, false},
		{"client-side edit then server-side", nil, []string{"label", "cm", "demo-config", "extra=yes"}, []string{"labeled"}, false},
		{"label owned by kubectl-label", nil, []string{"get", "cm", "demo-config", "-o", "yaml", "--show-managed-fields"}, []string{
			"manager: kubectl-label", "operation: Update"}, false},
		{"delete", nil, []string{"delete", "-f", manifest}, []string{`configmap "demo-config" deleted`}, false},
		// An object made by client-side apply moves to server-side
		// apply without conflicts on the fields it last applied.
		{"client-side apply", func() { write(app) }, []string{"apply", "-f", manifest}, []string{"configmap/demo-config created"}, false},
		{"then server-side", func() { write(edited) }, []string{"apply", "--server-side", "-f", manifest}, []string{"configmap/demo-config serverside-applied"}, false},
		{"moved", nil, []string{"get", "cm", "demo-config", "-o", "jsonpath={.data.greeting}"}, []string{"bonjour"}, false},
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

// TestKubectlServerSideApplyUnknownField shows kubectl's message for a
// field the schema does not declare, as against kube-apiserver.
func TestKubectlServerSideApplyUnknownField(t *testing.T) {
	ts := newTestServer(t)
	dir := kubectlDir(t, ts)
	manifest := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(manifest, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndataa:\n  k: v\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := ts.kubectl(t, dir, "apply", "--server-side", "-f", manifest)
	want := `Error from server: failed to create typed patch object (default/bad; /v1, Kind=ConfigMap): .dataa: field not declared in schema`
	if err == nil || !strings.Contains(out, want) {
		t.Errorf("kubectl apply --server-side of an unknown field: %v\n%s\nwant %s", err, out, want)
	}
}
