package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"pkg.dev/pkg/cmd/pkg/internal/cli"
	"pkg.dev/pkg/orchestrator/cluster"
)

// TestClusterConfigRefused: a bad config file, or --config beside
// --nodes, is refused before anything starts, with the file, line, node
// and field, or with what to drop.
func TestClusterConfigRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	good := filepath.Join(dir, "good.yaml")
	for path, text := range map[string]string{
		bad:  "apiVersion: pkg.dev/v1alpha1\nkind: Cluster\nnodes:\n- name: db\n  taints: [{key: a, effect: Sometimes}]\n",
		good: "apiVersion: pkg.dev/v1alpha1\nkind: Cluster\nnodes: [{}]\n",
	} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"up", "--config", bad}, bad + `:5: nodes[0] (name db): taints[0].effect: "Sometimes" is not an effect: want NoSchedule, PreferNoSchedule or NoExecute`},
		{[]string{"serve", "--config", bad}, bad + `:5: nodes[0] (name db): taints[0].effect`},
		{[]string{"up", "--config", good, "--nodes", "2"}, `"pkg cluster up" takes --nodes or --config, not both: the config file lists the nodes (drop --nodes, or list 2 nodes in ` + good + `)`},
		{[]string{"serve", "--nodes", "1", "--config", good}, `"pkg cluster serve" takes --nodes or --config, not both`},
		{[]string{"up", "--config", filepath.Join(dir, "missing.yaml")}, "reading cluster config: open " + filepath.Join(dir, "missing.yaml")},
	} {
		t.Run(strings.Join(tc.args[:2], " "), func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			var out, errb strings.Builder
			args := append([]string{"cluster", tc.args[0], "--data-dir", data, "--port", "1"}, tc.args[1:]...)
			code := cli.Run(t.Context(), cli.Env{Streams: cli.Streams{Out: &out, Err: &errb}}, args)
			if code == 0 || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant it to contain:\n%s", code, errb.String(), tc.want)
			}
			if _, err := os.Stat(data); err == nil {
				t.Errorf("the data dir was made: something started")
			}
		})
	}
}

// TestClusterUpConfig: `pkg cluster up --config FILE` passes the file to
// the server it starts in the background, whose nodes are the file's,
// each logging the runtime it names; --userspace-relay goes along too.
func TestClusterUpConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real server")
	}
	t.Parallel()
	sb := newClusterSandbox(t)
	config := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(config, []byte(`apiVersion: pkg.dev/v1alpha1
kind: Cluster
runtime: builtin
nodes:
- name: db
  zone: zone-a
  taints: [{key: dedicated, value: db, effect: NoSchedule}]
  capacity: {memory: 2Gi, pods: 20}
- name: web
  zone: zone-b
`), 0o644); err != nil {
		t.Fatal(err)
	}
	// A relative path: the server runs elsewhere.
	rel, err := filepath.Rel(mustGetwd(t), config)
	if err != nil {
		t.Fatal(err)
	}
	if out, errOut, err := sb.pkg(t, "up", "--port", strconv.Itoa(sb.port), "--config", rel, "--userspace-relay"); err != nil {
		t.Fatalf("pkg cluster up --config: %v\n%s%s", err, out, errOut)
	}
	t.Cleanup(func() { _, _, _ = sb.pkg(t, "down") })
	st, err := cluster.ReadState(sb.data)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cluster.LoadCredentials(sb.data)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: st.URL, BearerToken: creds.Token, TLSClientConfig: rest.TLSClientConfig{CAData: creds.CAPEM}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		db, err1 := cs.CoreV1().Nodes().Get(ctx, "db", metav1.GetOptions{})
		web, err2 := cs.CoreV1().Nodes().Get(ctx, "web", metav1.GetOptions{})
		if err1 == nil && err2 == nil {
			pods := db.Status.Allocatable.Pods()
			if db.Labels["topology.kubernetes.io/zone"] != "zone-a" || web.Labels["topology.kubernetes.io/zone"] != "zone-b" ||
				len(db.Spec.Taints) != 1 || db.Spec.Taints[0].ToString() != "dedicated=db:NoSchedule" || pods.Value() != 20 ||
				db.Status.NodeInfo.ContainerRuntimeVersion != "builtin" || web.Status.NodeInfo.ContainerRuntimeVersion != "builtin" {
				t.Errorf("db %v %v %v %v\nweb %v %v", db.Labels, db.Spec.Taints, db.Status.Allocatable, db.Status.NodeInfo, web.Labels, web.Status.NodeInfo)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("nodes db and web: %v, %v", err1, err2)
		}
		time.Sleep(100 * time.Millisecond)
	}
	log, _ := os.ReadFile(cluster.Paths{Dir: sb.data}.Log())
	for _, n := range []string{"db", "web"} {
		if !strings.Contains(string(log), `msg="container runtime" component=node-agent node=`+n+` driver=builtin reason="configured (runtime: builtin)`) {
			t.Errorf("node %s does not log its runtime and why:\n%s", n, log)
		}
	}
	if _, err := cs.CoreV1().Nodes().Get(ctx, "pkg-node-1", metav1.GetOptions{}); err == nil {
		t.Errorf("pkg-node-1 registered beside the config's nodes")
	}
	for range 50 {
		if log, _ = os.ReadFile(cluster.Paths{Dir: sb.data}.Log()); strings.Contains(string(log), `msg="service proxy"`) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(string(log), `relay="user space" why=--userspace-relay`) {
		t.Errorf("the Service proxy does not say it relays in user space as --userspace-relay asked:\n%s", log)
	}
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}
