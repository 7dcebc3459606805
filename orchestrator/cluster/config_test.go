package cluster

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadConfig reads a file with every field: names are defaulted by
// position, the file's runtime goes to the nodes naming none, zone and
// region become labels, quantities may be numbers.
func TestLoadConfig(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, `apiVersion: pkg.dev/v1alpha1
kind: Cluster
runtime: builtin
nodes:
- name: db
  zone: zone-a
  region: eu
  labels: {disktype: ssd, example.com/tier: 1}
  capacity: {cpu: 2, memory: 4Gi, pods: 50}
  taints: [{key: dedicated, value: db, effect: NoSchedule}]
  runtime: auto
- {}
- capacity: {cpu: 500m}
`)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Nodes) != 3 {
		t.Fatalf("nodes %+v", cfg.Nodes)
	}
	db, second, third := cfg.Nodes[0], cfg.Nodes[1], cfg.Nodes[2]
	if db.Name != "db" || second.Name != "pkg-node-2" || third.Name != "pkg-node-3" {
		t.Errorf("names %q %q %q", db.Name, second.Name, third.Name)
	}
	if db.Runtime != "auto" || second.Runtime != "builtin" {
		t.Errorf("runtimes %q %q", db.Runtime, second.Runtime)
	}
	c, err := db.agentConfig(resource.MustParse("7"), resource.MustParse("1Gi"))
	if err != nil {
		t.Fatal(err)
	}
	if c.CPU.String() != "2" || c.Memory.String() != "4Gi" || c.Pods != 50 {
		t.Errorf("capacity %s %s %d", c.CPU.String(), c.Memory.String(), c.Pods)
	}
	if c.Labels[corev1.LabelTopologyZone] != "zone-a" || c.Labels[corev1.LabelTopologyRegion] != "eu" ||
		c.Labels["disktype"] != "ssd" || c.Labels["example.com/tier"] != "1" {
		t.Errorf("labels %v", c.Labels)
	}
	if len(c.Taints) != 1 || c.Taints[0].ToString() != "dedicated=db:NoSchedule" {
		t.Errorf("taints %v", c.Taints)
	}
	c, err = third.agentConfig(resource.MustParse("7"), resource.MustParse("1Gi"))
	if err != nil {
		t.Fatal(err)
	}
	if c.CPU.String() != "500m" || c.Memory.String() != "1Gi" || c.Pods != DefaultNodePods || c.Labels != nil || c.Taints != nil {
		t.Errorf("defaults: %+v", c)
	}
}

// TestLoadConfigErrors: each mistake is reported with the file, the line
// where known, the node by index and name, the field, and what to do.
func TestLoadConfigErrors(t *testing.T) {
	t.Parallel()
	const head = "apiVersion: pkg.dev/v1alpha1\nkind: Cluster\nnodes:\n"
	for _, tc := range []struct {
		name, text string
		want       string // after "FILE"
	}{
		{"syntax", head + "- name: [a\n", `: yaml: line 4: did not find expected ',' or ']'`},
		{"duplicate key", head + "- name: a\n  name: b\n", ": error converting YAML to JSON: yaml: unmarshal errors:\n  line 5: key \"name\" already set in map"},
		{"empty", "", `: the file is empty`},
		{"top not a mapping", "- a\n", `:1: want a mapping`},
		{"no apiVersion", "kind: Cluster\nnodes: [{}]\n", `: apiVersion: missing: write apiVersion: pkg.dev/v1alpha1`},
		{"apiVersion", "apiVersion: v1\nkind: Cluster\nnodes: [{}]\n", `:1: apiVersion: "v1" is not known: write apiVersion: pkg.dev/v1alpha1`},
		{"kind", "apiVersion: pkg.dev/v1alpha1\nkind: Kluster\nnodes: [{}]\n", `:2: kind: "Kluster" is not known: write kind: Cluster`},
		{"no nodes", "apiVersion: pkg.dev/v1alpha1\nkind: Cluster\n", `: nodes: no nodes: list at least one`},
		{"unknown top field", head + "- {}\nnode: x\n", `:5: unknown field "node": the fields here are apiVersion, kind, runtime, nodes`},
		{"unknown node field", head + "- {}\n- name: db\n  capcity: {cpu: 1}\n", `:6: nodes[1] (name db): unknown field "capcity": the fields here are name, zone, region, labels, capacity, taints, runtime`},
		{"unknown capacity field", head + "- capacity:\n    cpus: 1\n", `:5: nodes[0] (name pkg-node-1): capacity: unknown field "cpus": the fields here are cpu, memory, pods`},
		{"unknown taint field", head + "- taints:\n  - {key: a, effect: NoSchedule, operator: Exists}\n", `:5: nodes[0] (name pkg-node-1): taints[0]: unknown field "operator": the fields here are key, value, effect`},
		{"not a number", head + "- capacity: {pods: many}\n", `:4: nodes[0] (name pkg-node-1): capacity.pods: "many": want a whole number`},
		{"not a list", head + "- name: a\n  taints: {key: a}\n", `:5: nodes[0] (name a): taints: a mapping: want a list`},
		{"not a mapping", "apiVersion: pkg.dev/v1alpha1\nkind: Cluster\nnodes: [a]\n", `:3: nodes[0] (name pkg-node-1): "a": want a mapping`},
		{"not text", head + "- name: [a]\n", `:4: nodes[0] (name pkg-node-1): name: a list: want text`},
		{"duplicate names", head + "- name: a\n- name: b\n- name: a\n", `:6: nodes[2] (name a): name: nodes[0] has this name too: give each node a name of its own`},
		{"default name taken", head + "- name: pkg-node-2\n- {}\n", `:5: nodes[1] (name pkg-node-2): its default name pkg-node-2 is the name of nodes[0]: give one of them another name`},
		{"bad name", head + "- name: DB_1\n", `:4: nodes[0] (name DB_1): name: "DB_1" is not a node name: a lowercase RFC 1123 subdomain`},
		{"label key", head + "- labels: {\"bad key\": x}\n", `:4: nodes[0] (name pkg-node-1): labels.bad key: "bad key" is not a label key: name part must consist of alphanumeric characters`},
		{"label value", head + "- {}\n- labels:\n    disktype: \"a b\"\n", `:6: nodes[1] (name pkg-node-2): labels.disktype: "a b" is not a label value`},
		{"reserved label", head + "- labels: {kubernetes.io/hostname: x}\n", `nodes[0] (name pkg-node-1): labels.kubernetes.io/hostname: the node agent sets this label itself: remove it`},
		{"zone value", head + "- zone: \"zone a\"\n", `:4: nodes[0] (name pkg-node-1): zone: "zone a" is not a label value`},
		{"zone twice", head + "- zone: a\n  labels: {topology.kubernetes.io/zone: b}\n", `:4: nodes[0] (name pkg-node-1): zone: "a", but labels give topology.kubernetes.io/zone the value "b": say it once`},
		{"cpu", head + "- name: db\n  capacity:\n    cpu: two\n", `:6: nodes[0] (name db): capacity.cpu: "two" is not a quantity: write one like "2", "1.5" or "500m"`},
		{"memory", head + "- capacity: {memory: 4GG}\n", `:4: nodes[0] (name pkg-node-1): capacity.memory: "4GG" is not a quantity: write one like "4Gi", "512Mi" or "1G"`},
		{"memory zero", head + "- capacity: {memory: 0}\n", `capacity.memory: "0": want more than 0`},
		{"pods", head + "- capacity: {pods: 0}\n", `:4: nodes[0] (name pkg-node-1): capacity.pods: 0: want at least 1 (leave it out for 110)`},
		{"taint effect", head + "- taints:\n  - key: dedicated\n    effect: NoScheduel\n", `:6: nodes[0] (name pkg-node-1): taints[0].effect: "NoScheduel" is not an effect: want NoSchedule, PreferNoSchedule or NoExecute`},
		{"taint no effect", head + "- taints: [{key: dedicated}]\n", `taints[0].effect: missing: want NoSchedule, PreferNoSchedule or NoExecute`},
		{"taint no key", head + "- taints: [{effect: NoSchedule}]\n", `taints[0].key: missing: a taint needs a key`},
		{"taint twice", head + "- taints: [{key: a, effect: NoSchedule}, {key: a, value: b, effect: NoSchedule}]\n", `taints[1]: taints[0] has the key a and effect NoSchedule too: keep one`},
		{"node runtime", head + "- runtime: docker\n", `:4: nodes[0] (name pkg-node-1): runtime: unknown container runtime "docker": want auto, runc or builtin`},
		{"file runtime", "apiVersion: pkg.dev/v1alpha1\nkind: Cluster\nruntime: crio\nnodes: [{}]\n", `:3: runtime: unknown container runtime "crio": want auto, runc or builtin`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.text)
			_, err := LoadConfig(path)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T), want a *ConfigError", err, err)
			}
			t.Log(err)
			if msg := err.Error(); !strings.HasPrefix(msg, path) || !strings.Contains(msg, tc.want) {
				t.Errorf("error\n  %s\nwant it to start with the file and contain\n  %s", msg, tc.want)
			}
		})
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}

// TestResolveNodes: Options.NodeConfigs are checked as a file's are,
// without a file to name.
func TestResolveNodes(t *testing.T) {
	t.Parallel()
	nodes, err := ResolveNodes([]NodeConfig{{}, {Runtime: "builtin"}}, "runc")
	if err != nil {
		t.Fatal(err)
	}
	if nodes[0].Name != "pkg-node-1" || nodes[0].Runtime != "runc" || nodes[1].Runtime != "builtin" {
		t.Errorf("%+v", nodes)
	}
	_, err = ResolveNodes([]NodeConfig{{Taints: []NodeTaint{{Key: "a", Effect: "Never"}}}}, "")
	if err == nil || err.Error() != `cluster config: nodes[0] (name pkg-node-1): taints[0].effect: "Never" is not an effect: want NoSchedule, PreferNoSchedule or NoExecute` {
		t.Errorf("error %v", err)
	}
}
