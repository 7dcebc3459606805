package cli_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/orchestrator/cluster"
)

// writeChart writes a chart with the given templates under dir/name.
func writeChart(t *testing.T, dir, name string, templates map[string]string) string {
	t.Helper()
	root := filepath.Join(dir, name)
	files := map[string]string{"Chart.yaml": "apiVersion: v2\nname: " + name + "\nversion: 0.1.0\n"}
	for n, body := range templates {
		files["templates/"+n] = body
	}
	writeFiles(t, root, files)
	return root
}

const slowHook = `apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    helm.sh/hook: pre-upgrade
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: m
          image: busybox
`

// TestKilledUpgradeIsRecovered kills `pkg upgrade` with SIGKILL while it
// waits for a pre-upgrade hook, then shows that the next upgrade recovers
// the release, saying so, with its history whole.
func TestKilledUpgradeIsRecovered(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the pkg binary")
	}
	bin := buildClusterBin(t)
	tc, sb := apiSandbox(t)
	dir := t.TempDir()
	v1 := writeChart(t, dir, "app", map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  v: \"1\"\n"})
	v2 := writeChart(t, filepath.Join(dir, "v2"), "app", map[string]string{
		"cm.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  v: \"2\"\n",
		"job.yaml": slowHook,
	})
	if out := runPkg(t, sb, "", "install", "app", v1); out.code != 0 {
		t.Fatalf("install: %s", out.stderr)
	}

	cmd := exec.Command(bin, "upgrade", "app", v2, "--timeout", "5m")
	cmd.Env = sb.list()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(tc.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, jobErr := cs.BatchV1().Jobs("default").Get(ctx, "migrate", metav1.GetOptions{})
		s, _ := cs.CoreV1().Secrets("default").Get(ctx, "sh.helm.release.v1.app.v2", metav1.GetOptions{})
		if jobErr == nil && s != nil && s.Labels["status"] == "pending-upgrade" {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the upgrade never reached its hook: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	// The killed command's lock names a dead process: the next command
	// takes over at once, marks revision 2 failed and upgrades.
	out := runPkg(t, sb, "", "upgrade", "app", v1, "--set", "x=1")
	if out.code != 0 {
		t.Fatalf("upgrade after the kill: %s", out.stderr)
	}
	if !strings.Contains(out.stderr, "revision 2 was left pending-upgrade") {
		t.Errorf("the recovery was not reported:\n%s", out.stderr)
	}
	hist := runPkg(t, sb, "", "history", "app", "-o", "json")
	for _, want := range []string{`"revision":1,`, `"revision":2,`, `"status":"failed"`, `"revision":3,`, `"status":"deployed"`, `Interrupted: left pending-upgrade`} {
		if !strings.Contains(hist.stdout, want) {
			t.Errorf("history lacks %s:\n%s", want, hist.stdout)
		}
	}
}

// TestInstallStartsBundledCluster: with no kubeconfig at all, install
// starts pkg's bundled cluster and installs there, as the README promises.
func TestInstallStartsBundledCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds pkg and starts its cluster")
	}
	bin := buildClusterBin(t)
	home := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}
	data := filepath.Join(home, ".local", "share", "pkg", "cluster")
	t.Cleanup(func() {
		if st, ok, _ := cluster.Check(data); ok && st.PID > 0 {
			_ = syscall.Kill(st.PID, syscall.SIGKILL)
		}
	})
	run := func(args ...string) (string, string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var o, e strings.Builder
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		return o.String(), e.String(), err
	}
	out, errOut, err := run("install", "hello", filepath.Join(chartsDir(t), "hello"))
	if err != nil {
		t.Fatalf("install: %v\n%s\n%s", err, out, errOut)
	}
	if !strings.Contains(errOut, "starting pkg's bundled cluster") || !strings.Contains(out, "STATUS: deployed") {
		t.Errorf("install output:\n%s\n%s", out, errOut)
	}
	out, _, err = run("list", "-q")
	if err != nil || out != "hello\n" {
		t.Errorf("list after install: %q, %v", out, err)
	}
	if _, errOut, err := run("cluster", "down", "--data-dir", data); err != nil {
		t.Errorf("cluster down: %v\n%s", err, errOut)
	}
}
