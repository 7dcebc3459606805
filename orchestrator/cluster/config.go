package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"

	goyaml "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/orchestrator/runtime"
)

// The apiVersion and kind of a cluster config file.
const (
	ConfigAPIVersion = "pkg.dev/v1alpha1"
	ConfigKind       = "Cluster"
)

// DefaultNodePods is a node's pod capacity when its config gives none,
// the kubelet's default.
const DefaultNodePods = 110

// Config is a cluster config file, read by LoadConfig for
// `pkg cluster up|serve --config FILE`:
//
//	apiVersion: pkg.dev/v1alpha1
//	kind: Cluster
//	runtime: auto            # for the nodes that name none
//	nodes:
//	- name: pkg-node-1       # default pkg-node-<position, from 1>
//	  zone: zone-a           # label topology.kubernetes.io/zone
//	  region: eu             # label topology.kubernetes.io/region
//	  labels: {disktype: ssd}
//	  capacity: {cpu: "2", memory: 4Gi, pods: 50}
//	  taints: [{key: dedicated, value: db, effect: NoSchedule}]
//	  runtime: builtin       # auto, runc or builtin
type Config struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Runtime is the container runtime of the nodes that name none; when
	// empty too, Options.Runtime (the --runtime flag) decides.
	Runtime string `json:"runtime,omitempty"`
	// Nodes are the virtual nodes, at least one.
	Nodes []NodeConfig `json:"nodes"`
}

// NodeConfig describes one virtual node: in a config file, and in
// Options.NodeConfigs. Every field is optional.
type NodeConfig struct {
	// Name is the Node's name, a DNS subdomain; pkg-node-I (I its position
	// in the list, from 1) when empty.
	Name string `json:"name,omitempty"`
	// Zone and Region set the labels topology.kubernetes.io/zone and
	// topology.kubernetes.io/region.
	Zone   string `json:"zone,omitempty"`
	Region string `json:"region,omitempty"`
	// Labels are added to the node's standard labels (hostname, os, arch),
	// which they may not replace.
	Labels map[string]string `json:"labels,omitempty"`
	// Capacity is the node's capacity, also its allocatable.
	Capacity NodeCapacity `json:"capacity,omitzero"`
	// Taints are the node's taints.
	Taints []NodeTaint `json:"taints,omitempty"`
	// Runtime is the node's container runtime, one of runtime.RuntimeNames;
	// when empty, the file's runtime, else Options.Runtime.
	Runtime string `json:"runtime,omitempty"`
}

// NodeCapacity is a node's capacity; what it leaves out is as without a
// config: an equal share of this host's CPUs and memory between the
// nodes, and DefaultNodePods Pods.
type NodeCapacity struct {
	// CPU and Memory are Kubernetes quantities: "2", "500m"; "4Gi".
	CPU    Quantity `json:"cpu,omitempty"`
	Memory Quantity `json:"memory,omitempty"`
	// Pods is how many Pods the node takes.
	Pods *int64 `json:"pods,omitempty"`
}

// NodeTaint is one taint of a node.
type NodeTaint struct {
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Effect string `json:"effect"`
}

// Quantity is a Kubernetes quantity as written in a config file, a
// string or a number (cpu: 2); it is checked by validation, which names
// the node and field, rather than by decoding.
type Quantity string

// UnmarshalJSON takes a string or a number.
func (q *Quantity) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*q = Quantity(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("a quantity is a string or a number (2, 500m, 4Gi), not %s", b)
	}
	*q = Quantity(n.String())
	return nil
}

// ConfigError is a mistake in a cluster config file or in
// Options.NodeConfigs: where it is, and what to do.
type ConfigError struct {
	// File is the config file; empty for Options.NodeConfigs.
	File string
	// Line is the line in File, 0 when unknown.
	Line int
	// Node is the index of the node in the list, -1 outside one.
	Node int
	// NodeName is the node's name (its default when it has none).
	NodeName string
	// Field is the field's path, relative to the node when in one:
	// "capacity.memory", "taints[0].effect", "apiVersion".
	Field string
	// Err says what is wrong and what to do.
	Err error
}

// Error reads "FILE:LINE: nodes[I] (name N): FIELD: what is wrong".
func (e *ConfigError) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		fmt.Fprintf(&b, "%s: ", e.File)
	default:
		b.WriteString("cluster config: ")
	}
	if e.Node >= 0 {
		fmt.Fprintf(&b, "nodes[%d]", e.Node)
		if e.NodeName != "" {
			fmt.Fprintf(&b, " (name %s)", e.NodeName)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *ConfigError) Unwrap() error { return e.Err }

// LoadConfig reads the cluster config file at path: a YAML document of
// kind Cluster (see Config). It refuses unknown fields and checks every
// node (see ResolveNodes), failing with a *ConfigError that names the
// file, the line when known, the node and the field. The nodes it
// returns have their names, and their runtime when the file names one.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading cluster config: %w", err)
	}
	fail := func(err error) (*Config, error) {
		return nil, &ConfigError{File: path, Node: -1, Err: err}
	}
	// Syntax first: this parser's lines are the right ones.
	if _, err := yaml.YAMLToJSON(data); err != nil {
		return fail(err)
	}
	// The node tree gives the lines, and the keys no field takes.
	var doc goyaml.Node
	if err := goyaml.Unmarshal(data, &doc); err != nil {
		return fail(err)
	}
	if len(doc.Content) == 0 {
		return fail(fmt.Errorf("the file is empty: write a config of kind %s (apiVersion %s) listing the nodes", ConfigKind, ConfigAPIVersion))
	}
	if root := doc.Content[0]; root.Kind != goyaml.MappingNode {
		return nil, &ConfigError{File: path, Line: root.Line, Node: -1,
			Err: fmt.Errorf("want a mapping (apiVersion: %s, kind: %s, nodes: ...)", ConfigAPIVersion, ConfigKind)}
	}
	w := &fieldWalker{lines: map[fieldAt]int{}, names: map[int]string{}}
	w.walk(doc.Content[0], reflect.TypeFor[Config](), fieldAt{node: -1})
	at := func(node int, field string, err error) *ConfigError {
		e := &ConfigError{File: path, Line: w.lines[fieldAt{node, field}], Node: node, Field: field, Err: err}
		if node >= 0 {
			e.NodeName = nodeName(NodeConfig{Name: w.names[node]}, node)
		}
		return e
	}
	if len(w.problems) > 0 {
		p := w.problems[0]
		e := at(p.at.node, p.at.field, p.err)
		e.Line = p.line
		return nil, e
	}
	var cfg Config
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return fail(err)
	}
	// Belt and braces: what the walker let through, decoded strictly.
	if err := yaml.UnmarshalStrict(data, &Config{}); err != nil {
		return fail(err)
	}

	switch {
	case cfg.APIVersion == "":
		return nil, at(-1, "apiVersion", fmt.Errorf("missing: write apiVersion: %s", ConfigAPIVersion))
	case cfg.APIVersion != ConfigAPIVersion:
		return nil, at(-1, "apiVersion", fmt.Errorf("%q is not known: write apiVersion: %s", cfg.APIVersion, ConfigAPIVersion))
	case cfg.Kind == "":
		return nil, at(-1, "kind", fmt.Errorf("missing: write kind: %s", ConfigKind))
	case cfg.Kind != ConfigKind:
		return nil, at(-1, "kind", fmt.Errorf("%q is not known: write kind: %s", cfg.Kind, ConfigKind))
	case len(cfg.Nodes) == 0:
		return nil, at(-1, "nodes", errors.New("no nodes: list at least one (- {} takes every default)"))
	}
	if err := runtime.CheckName(cfg.Runtime); err != nil {
		return nil, at(-1, "runtime", err)
	}
	nodes, err := ResolveNodes(cfg.Nodes, cfg.Runtime)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			e := at(ce.Node, ce.Field, ce.Err)
			e.NodeName = ce.NodeName
			if e.Line == 0 {
				e.Line = w.lines[fieldAt{ce.Node, ""}]
			}
			return nil, e
		}
		return fail(err)
	}
	cfg.Nodes = nodes
	return &cfg, nil
}

// nodeName is the name of nodes[i]: its own, else pkg-node-<i+1>.
func nodeName(n NodeConfig, i int) string {
	if n.Name != "" {
		return n.Name
	}
	return fmt.Sprintf("pkg-node-%d", i+1)
}

// DefaultNodes are n nodes without configuration: pkg-node-1..n, each
// with the runtime rt (as `--nodes N --runtime RT`).
func DefaultNodes(n int, rt string) []NodeConfig {
	nodes := make([]NodeConfig, n)
	for i := range nodes {
		nodes[i] = NodeConfig{Name: nodeName(NodeConfig{}, i), Runtime: rt}
	}
	return nodes
}

// reservedLabels are the labels the node agent sets itself.
var reservedLabels = []string{
	corev1.LabelHostname, corev1.LabelOSStable, corev1.LabelArchStable,
	"beta.kubernetes.io/os", "beta.kubernetes.io/arch",
}

// taintEffects are the effects a taint may have.
var taintEffects = []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute}

// ResolveNodes returns a copy of nodes with the names they leave out
// (pkg-node-<position>) and the runtime rt where they name none, after
// checking them: names (DNS subdomains, each once), labels, zone and
// region (Kubernetes label syntax, none of the agent's own), capacity
// (quantities above zero), taints (a key, and an effect among NoSchedule,
// PreferNoSchedule and NoExecute, each key and effect once) and runtime.
// It fails with a *ConfigError naming the node and the field.
func ResolveNodes(nodes []NodeConfig, rt string) ([]NodeConfig, error) {
	out := make([]NodeConfig, len(nodes))
	seen := map[string]int{}
	for i, n := range nodes {
		n.Name = nodeName(n, i)
		if n.Runtime == "" {
			n.Runtime = rt
		}
		fail := func(field string, format string, args ...any) error {
			return &ConfigError{Node: i, NodeName: n.Name, Field: field, Err: fmt.Errorf(format, args...)}
		}
		if errs := validation.IsDNS1123Subdomain(n.Name); len(errs) > 0 {
			return nil, fail("name", "%q is not a node name: %s", n.Name, strings.Join(errs, "; "))
		}
		if j, dup := seen[n.Name]; dup {
			if nodes[i].Name == "" {
				return nil, fail("", "its default name %s is the name of nodes[%d]: give one of them another name", n.Name, j)
			}
			return nil, fail("name", "nodes[%d] has this name too: give each node a name of its own", j)
		}
		seen[n.Name] = i
		for _, l := range []struct{ field, key, value string }{
			{"zone", corev1.LabelTopologyZone, n.Zone},
			{"region", corev1.LabelTopologyRegion, n.Region},
		} {
			if l.value == "" {
				continue
			}
			if errs := validation.IsValidLabelValue(l.value); len(errs) > 0 {
				return nil, fail(l.field, "%q is not a label value: %s", l.value, strings.Join(errs, "; "))
			}
			if v, ok := n.Labels[l.key]; ok && v != l.value {
				return nil, fail(l.field, "%q, but labels give %s the value %q: say it once", l.value, l.key, v)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(n.Labels)) {
			field := "labels." + k
			if errs := validation.IsQualifiedName(k); len(errs) > 0 {
				return nil, fail(field, "%q is not a label key: %s", k, strings.Join(errs, "; "))
			}
			if slices.Contains(reservedLabels, k) {
				return nil, fail(field, "the node agent sets this label itself: remove it")
			}
			if errs := validation.IsValidLabelValue(n.Labels[k]); len(errs) > 0 {
				return nil, fail(field, "%q is not a label value: %s", n.Labels[k], strings.Join(errs, "; "))
			}
		}
		for _, q := range []struct {
			field string
			value Quantity
			like  string
		}{
			{"capacity.cpu", n.Capacity.CPU, `"2", "1.5" or "500m"`},
			{"capacity.memory", n.Capacity.Memory, `"4Gi", "512Mi" or "1G"`},
		} {
			if q.value == "" {
				continue
			}
			v, err := resource.ParseQuantity(string(q.value))
			if err != nil {
				return nil, fail(q.field, "%q is not a quantity: write one like %s", q.value, q.like)
			}
			if v.Sign() <= 0 {
				return nil, fail(q.field, "%q: want more than 0, like %s", q.value, q.like)
			}
		}
		if p := n.Capacity.Pods; p != nil && *p <= 0 {
			return nil, fail("capacity.pods", "%d: want at least 1 (leave it out for %d)", *p, DefaultNodePods)
		}
		for j, t := range n.Taints {
			field := fmt.Sprintf("taints[%d]", j)
			if t.Key == "" {
				return nil, fail(field+".key", "missing: a taint needs a key")
			}
			if errs := validation.IsQualifiedName(t.Key); len(errs) > 0 {
				return nil, fail(field+".key", "%q is not a taint key: %s", t.Key, strings.Join(errs, "; "))
			}
			if t.Value != "" {
				if errs := validation.IsValidLabelValue(t.Value); len(errs) > 0 {
					return nil, fail(field+".value", "%q is not a taint value: %s", t.Value, strings.Join(errs, "; "))
				}
			}
			if !slices.Contains(taintEffects, corev1.TaintEffect(t.Effect)) {
				what := "missing"
				if t.Effect != "" {
					what = fmt.Sprintf("%q is not an effect", t.Effect)
				}
				return nil, fail(field+".effect", "%s: want NoSchedule, PreferNoSchedule or NoExecute", what)
			}
			for k, u := range n.Taints[:j] {
				if u.Key == t.Key && u.Effect == t.Effect {
					return nil, fail(field, "taints[%d] has the key %s and effect %s too: keep one", k, t.Key, t.Effect)
				}
			}
		}
		if err := runtime.CheckName(n.Runtime); err != nil {
			return nil, fail("runtime", "%w", err)
		}
		out[i] = n
	}
	return out, nil
}

// labels are the node's labels: its own, with zone and region.
func (n NodeConfig) labels() map[string]string {
	if len(n.Labels) == 0 && n.Zone == "" && n.Region == "" {
		return nil
	}
	l := make(map[string]string, len(n.Labels)+2)
	for k, v := range n.Labels {
		l[k] = v
	}
	if n.Zone != "" {
		l[corev1.LabelTopologyZone] = n.Zone
	}
	if n.Region != "" {
		l[corev1.LabelTopologyRegion] = n.Region
	}
	return l
}

// taints are the node's taints as the API has them.
func (n NodeConfig) taints() []corev1.Taint {
	var ts []corev1.Taint
	for _, t := range n.Taints {
		ts = append(ts, corev1.Taint{Key: t.Key, Value: t.Value, Effect: corev1.TaintEffect(t.Effect)})
	}
	return ts
}

// fieldAt is where a value is: the index of its node (-1 outside one)
// and its field path, relative to the node when in one.
type fieldAt struct {
	node  int
	field string
}

// walkProblem is a key no field takes, or a value of the wrong kind.
type walkProblem struct {
	at   fieldAt
	line int
	err  error
}

// fieldWalker walks a YAML node tree alongside the Go type it decodes
// into, recording the line of every field, the names of the nodes, and
// the keys no field takes and values of the wrong kind (a list for a
// mapping, text for a number), in the order of the file. Types that
// decode themselves (Quantity) are left to the decoder.
type fieldWalker struct {
	lines    map[fieldAt]int
	names    map[int]string
	problems []walkProblem
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

func (w *fieldWalker) walk(n *goyaml.Node, t reflect.Type, at fieldAt) {
	for n.Kind == goyaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if _, ok := w.lines[at]; !ok {
		w.lines[at] = n.Line
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) || n.ShortTag() == "!!null" {
		return
	}
	wrong := func(want string) {
		what := "a list"
		switch n.Kind {
		case goyaml.MappingNode:
			what = "a mapping"
		case goyaml.ScalarNode:
			what = fmt.Sprintf("%q", n.Value)
		}
		w.problems = append(w.problems, walkProblem{at: at, line: n.Line, err: fmt.Errorf("%s: want %s", what, want)})
	}
	join := func(name string) fieldAt {
		if at.field == "" {
			return fieldAt{at.node, name}
		}
		return fieldAt{at.node, at.field + "." + name}
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != goyaml.MappingNode {
			wrong("a mapping")
			return
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			fields[name] = f.Type
			names = append(names, name)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				w.problems = append(w.problems, walkProblem{at: at, line: k.Line,
					err: fmt.Errorf("unknown field %q: the fields here are %s", k.Value, strings.Join(names, ", "))})
				continue
			}
			if t == reflect.TypeFor[NodeConfig]() && k.Value == "name" {
				w.names[at.node] = v.Value
			}
			w.walk(v, ft, join(k.Value))
		}
	case reflect.Map:
		if n.Kind != goyaml.MappingNode {
			wrong("a mapping")
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			w.walk(n.Content[i+1], t.Elem(), join(n.Content[i].Value))
		}
	case reflect.Slice:
		if n.Kind != goyaml.SequenceNode {
			wrong("a list")
			return
		}
		for i, c := range n.Content {
			if t.Elem() == reflect.TypeFor[NodeConfig]() {
				// A node: its fields are relative to it.
				w.walk(c, t.Elem(), fieldAt{node: i})
				continue
			}
			w.walk(c, t.Elem(), fieldAt{at.node, fmt.Sprintf("%s[%d]", at.field, i)})
		}
	case reflect.Int, reflect.Int32, reflect.Int64:
		if n.Kind != goyaml.ScalarNode || n.ShortTag() != "!!int" {
			wrong("a whole number")
		}
	case reflect.String:
		if n.Kind != goyaml.ScalarNode {
			wrong("text")
		}
	}
}
