package apiserver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKubectlCustomResourceSchema drives a CRD with a schema through the
// real kubectl: unknown fields, schema violations, defaults, and
// server-side apply of a custom resource.
func TestKubectlCustomResourceSchema(t *testing.T) {
	ts := newTestServer(t)
	dir := kubectlDir(t, ts)
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const head = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: %s\nspec:\n"
	widgetFile := func(name, spec string) string {
		return file(name+".yaml", strings.Replace(head, "%s", name, 1)+spec)
	}
	good := widgetFile("good", "  size: 3\n  ports:\n  - name: http\n")
	unknown := widgetFile("unknown", "  size: 3\n  bogus: 1\n")
	tooBig := widgetFile("big", "  size: 20\n")
	notInEnum := widgetFile("pink", "  size: 2\n  color: pink\n")
	ssa := widgetFile("ssa", "  size: 4\n  tags: [a, b]\n")
	steps := []struct {
		name string
		args []string
		want []string
		fail bool
	}{
		{"crd", []string{"apply", "-f", "testdata/crd-widgets.yaml"}, []string{"customresourcedefinition.apiextensions.k8s.io/widgets.example.com created"}, false},
		{"established", []string{"wait", "--for", "condition=established", "--timeout=30s", "crd/widgets.example.com"}, []string{"condition met"}, false},
		{"valid", []string{"apply", "-f", good}, []string{"widget.example.com/good created"}, false},
		{"defaults", []string{"get", "widget", "good", "-o", "jsonpath={.spec.color} {.spec.ports[0].port}"}, []string{"red 80"}, false},
		{"unknown field", []string{"apply", "-f", unknown}, []string{`unknown field "spec.bogus"`}, true},
		{"unknown field ignored", []string{"apply", "--validate=false", "-f", unknown}, []string{"widget.example.com/unknown created"}, false},
		{"pruned", []string{"get", "widget", "unknown", "-o", "jsonpath={.spec}"}, []string{`{"color":"red","size":3}`}, false},
		{"too big", []string{"apply", "-f", tooBig}, []string{`The Widget "big" is invalid: spec.size: Invalid value: 20: spec.size in body should be less than or equal to 10`}, true},
		{"not in enum", []string{"apply", "-f", notInEnum}, []string{`spec.color: Unsupported value: "pink": supported values: "red", "green", "blue"`}, true},
		{"server-side", []string{"apply", "--server-side", "-f", ssa}, []string{"widget.example.com/ssa serverside-applied"}, false},
		{"server-side managed", []string{"get", "widget", "ssa", "-o", "yaml", "--show-managed-fields"}, []string{"manager: kubectl", "operation: Apply", `v:"a": {}`}, false},
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
