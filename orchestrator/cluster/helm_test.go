package cluster

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"pkg.dev/pkg/internal/helmtest"
)

// helmRunner runs the reference helm binary against one served cluster,
// with a home, caches and a kubeconfig of its own.
type helmRunner struct {
	bin string
	env []string
}

func newHelmRunner(t *testing.T, r running, bin string) helmRunner {
	t.Helper()
	root := t.TempDir()
	kc, err := Kubeconfig(r.state.URL, r.creds)
	if err != nil {
		t.Fatal(err)
	}
	kcPath := filepath.Join(root, "kubeconfig")
	if err := os.WriteFile(kcPath, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + root,
		"KUBECONFIG=" + kcPath,
		"HELM_CACHE_HOME=" + filepath.Join(root, "cache"),
		"HELM_CONFIG_HOME=" + filepath.Join(root, "config"),
		"HELM_DATA_HOME=" + filepath.Join(root, "data"),
	}
	return helmRunner{bin: bin, env: env}
}

// run runs helm with args and fails the test when it exits non-zero.
func (h helmRunner) run(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(h.bin, args...)
	cmd.Env = h.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// runJSON runs helm with args and decodes its standard output into v.
func (h helmRunner) runJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	cmd := exec.Command(h.bin, args...)
	cmd.Env = h.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// helmRelease is one row of `helm list -o json` and `helm history -o json`.
type helmRelease struct {
	Name        string `json:"name"`
	Namespace   string `json:"namespace"`
	Revision    any    `json:"revision"`
	Status      string `json:"status"`
	Chart       string `json:"chart"`
	Description string `json:"description"`
}

// deployment is what the test reads of the chart's Deployment.
type deployment struct {
	Metadata struct {
		UID             string            `json:"uid"`
		Labels          map[string]string `json:"labels"`
		Annotations     map[string]string `json:"annotations"`
		ResourceVersion string            `json:"resourceVersion"`
		ManagedFields   []struct {
			Manager   string `json:"manager"`
			Operation string `json:"operation"`
		} `json:"managedFields"`
	} `json:"metadata"`
	Spec struct {
		Replicas int `json:"replicas"`
		Template struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		} `json:"template"`
	} `json:"spec"`
}

// getJSON reads path from the cluster into v and returns the status code.
func getJSON(t *testing.T, r running, path string, v any) int {
	t.Helper()
	code, body := do(t, r, http.MethodGet, path, r.creds.Token, "")
	if code == http.StatusOK && v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, body)
		}
	}
	return code
}

// TestHelmV3Lifecycle drives the reference helm v3 binary through install,
// list, upgrade, history, rollback and uninstall of a chart against a real
// server, checking helm's output and the objects in the cluster. Upgrades
// and rollbacks send three-way strategic merge patches, whose bodies carry
// nulls for removed fields.
func TestHelmV3Lifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and runs helm")
	}
	t.Parallel()
	r := serve(t, t.TempDir())
	helmLifecycle(t, r, newHelmRunner(t, r, helmtest.Binary(t)), "Update")
}

// TestHelmV4Lifecycle is TestHelmV3Lifecycle with Helm v4 from
// $PKG_HELM_V4, which it needs (skipped without): with its default
// server-side apply, and with client-side apply asked for; upgrades and
// rollbacks follow the release's method.
func TestHelmV4Lifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and runs helm")
	}
	bin := os.Getenv("PKG_HELM_V4")
	if bin == "" {
		t.Skip("set PKG_HELM_V4 to a Helm v4 binary")
	}
	t.Parallel()
	for _, tc := range []struct {
		name      string
		operation string
		flags     []string
	}{
		{"server-side apply", "Apply", nil},
		{"client-side apply", "Update", []string{"--server-side=false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := serve(t, t.TempDir())
			helmLifecycle(t, r, newHelmRunner(t, r, bin), tc.operation, tc.flags...)
		})
	}
}

// helmLifecycle installs (with installFlags), lists, upgrades, rolls back
// and uninstalls the hello chart as release x in default. The install's
// field manager must be recorded with the managedFields operation
// installOp: Apply for server-side apply, Update otherwise.
func helmLifecycle(t *testing.T, r running, h helmRunner, installOp string, installFlags ...string) {
	t.Helper()
	chart := filepath.Join(helmtest.ModuleRoot(t), "testdata", "charts", "hello")
	const (
		deployPath  = "/apis/apps/v1/namespaces/default/deployments/x-hello"
		cmPath      = "/api/v1/namespaces/default/configmaps/x-hello"
		svcPath     = "/api/v1/namespaces/default/services/x-hello"
		secretsPath = "/api/v1/namespaces/default/secrets?labelSelector=owner%3Dhelm%2Cname%3Dx"
	)
	readDeploy := func() deployment {
		t.Helper()
		var d deployment
		if code := getJSON(t, r, deployPath, &d); code != http.StatusOK {
			t.Fatalf("GET deployment: %d", code)
		}
		return d
	}
	type secretList struct {
		Items []struct {
			Metadata struct {
				Name   string            `json:"name"`
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Type string `json:"type"`
		} `json:"items"`
	}
	releaseSecrets := func() map[string]string {
		t.Helper()
		var l secretList
		if code := getJSON(t, r, secretsPath, &l); code != http.StatusOK {
			t.Fatalf("list release secrets: %d", code)
		}
		got := map[string]string{}
		for _, it := range l.Items {
			if it.Type != "helm.sh/release.v1" {
				t.Errorf("secret %s has type %q", it.Metadata.Name, it.Type)
			}
			got[it.Metadata.Name] = it.Metadata.Labels["status"]
		}
		return got
	}
	history := func(want ...string) []helmRelease {
		t.Helper()
		var hist []helmRelease
		h.runJSON(t, &hist, "history", "x", "-n", "default", "-o", "json")
		var got []string
		for _, rel := range hist {
			got = append(got, rel.Status)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("history statuses = %v; want %v", got, want)
		}
		return hist
	}

	out := h.run(t, append([]string{"install", "x", chart, "-n", "default"}, installFlags...)...)
	for _, want := range []string{"NAME: x\n", "STATUS: deployed\n", "REVISION: 1\n", "Hello from pkg!"} {
		if !strings.Contains(out, want) {
			t.Errorf("install output lacks %q:\n%s", want, out)
		}
	}
	d1 := readDeploy()
	if d1.Spec.Replicas != 1 || d1.Metadata.Labels["app.kubernetes.io/managed-by"] != "Helm" ||
		d1.Metadata.Annotations["meta.helm.sh/release-name"] != "x" {
		t.Errorf("deployment after install: replicas %d, labels %v, annotations %v", d1.Spec.Replicas, d1.Metadata.Labels, d1.Metadata.Annotations)
	}
	if mf := d1.Metadata.ManagedFields; len(mf) == 0 || mf[0].Manager != "helm" || mf[0].Operation != installOp {
		t.Errorf("deployment managedFields after install = %+v, want helm with %s", mf, installOp)
	}
	for _, p := range []string{cmPath, svcPath} {
		if code := getJSON(t, r, p, nil); code != http.StatusOK {
			t.Errorf("GET %s after install: %d", p, code)
		}
	}
	if got := releaseSecrets(); len(got) != 1 || got["sh.helm.release.v1.x.v1"] != "deployed" {
		t.Errorf("release secrets after install = %v", got)
	}

	var list []helmRelease
	h.runJSON(t, &list, "list", "-n", "default", "-o", "json")
	if len(list) != 1 || list[0].Name != "x" || list[0].Status != "deployed" || list[0].Chart != "hello-0.1.0" {
		t.Errorf("helm list = %+v", list)
	}
	if out := h.run(t, "list", "-A"); !strings.Contains(out, "x   \tdefault  \t1       \t") {
		t.Errorf("helm list -A:\n%s", out)
	}

	out = h.run(t, "upgrade", "x", chart, "-n", "default", "--set", "replicaCount=2", "--set", "podAnnotations.extra=yes")
	if !strings.Contains(out, `Release "x" has been upgraded.`) || !strings.Contains(out, "REVISION: 2\n") {
		t.Errorf("upgrade output:\n%s", out)
	}
	d2 := readDeploy()
	if d2.Spec.Replicas != 2 || d2.Spec.Template.Metadata.Annotations["extra"] != "yes" {
		t.Errorf("deployment after upgrade: replicas %d, pod annotations %v", d2.Spec.Replicas, d2.Spec.Template.Metadata.Annotations)
	}
	if d2.Metadata.UID != d1.Metadata.UID || d2.Metadata.ResourceVersion == d1.Metadata.ResourceVersion {
		t.Errorf("upgrade did not patch in place: uid %s→%s, resourceVersion %s→%s", d1.Metadata.UID, d2.Metadata.UID, d1.Metadata.ResourceVersion, d2.Metadata.ResourceVersion)
	}
	history("superseded", "deployed")

	out = h.run(t, "rollback", "x", "1", "-n", "default")
	if !strings.Contains(out, "Rollback was a success!") {
		t.Errorf("rollback output:\n%s", out)
	}
	// The rollback's patch nulls the annotation the upgrade added.
	d3 := readDeploy()
	if _, ok := d3.Spec.Template.Metadata.Annotations["extra"]; d3.Spec.Replicas != 1 || ok {
		t.Errorf("deployment after rollback: replicas %d, pod annotations %v", d3.Spec.Replicas, d3.Spec.Template.Metadata.Annotations)
	}
	if _, ok := d3.Spec.Template.Metadata.Annotations["checksum/config"]; !ok || d3.Metadata.UID != d1.Metadata.UID {
		t.Errorf("deployment after rollback: uid %s, pod annotations %v", d3.Metadata.UID, d3.Spec.Template.Metadata.Annotations)
	}
	hist := history("superseded", "superseded", "deployed")
	if len(hist) == 3 && hist[2].Description != "Rollback to 1" {
		t.Errorf("last history entry = %+v", hist[2])
	}
	if got := releaseSecrets(); len(got) != 3 || got["sh.helm.release.v1.x.v3"] != "deployed" || got["sh.helm.release.v1.x.v1"] != "superseded" {
		t.Errorf("release secrets after rollback = %v", got)
	}

	out = h.run(t, "uninstall", "x", "-n", "default")
	if !strings.Contains(out, `release "x" uninstalled`) {
		t.Errorf("uninstall output:\n%s", out)
	}
	for _, p := range []string{deployPath, cmPath, svcPath} {
		if code := getJSON(t, r, p, nil); code != http.StatusNotFound {
			t.Errorf("GET %s after uninstall: %d; want 404", p, code)
		}
	}
	if got := releaseSecrets(); len(got) != 0 {
		t.Errorf("release secrets after uninstall = %v", got)
	}
	if out := h.run(t, "list", "-n", "default", "-q"); strings.TrimSpace(out) != "" {
		t.Errorf("helm list after uninstall:\n%s", out)
	}
}
