package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// MetricsGroup is the API group of resource metrics, which kubectl top
// and the HorizontalPodAutoscaler read.
const MetricsGroup = "metrics.k8s.io"

// ErrNoMetrics says a node has no current usage figures; its Pods and the
// node itself are then left out of metrics.k8s.io answers.
var ErrNoMetrics = errors.New("no metrics")

// NodeMetricsFunc returns what the agent of node measured last, or an
// error wrapping ErrNoMetrics when it has nothing current.
type NodeMetricsFunc func(ctx context.Context, node string) (*NodeUsage, error)

// NodeUsage is one node's measured usage.
type NodeUsage struct {
	// Timestamp is when it was measured and Window the span cpu was
	// averaged over.
	Timestamp time.Time
	Window    time.Duration
	// CPU and Memory are the node's totals.
	CPU, Memory resource.Quantity
	// Pods are its Pods' usage, by uid.
	Pods map[types.UID]PodUsage
}

// PodUsage is one Pod's measured usage.
type PodUsage struct {
	Window     time.Duration
	Containers []ContainerUsage
}

// ContainerUsage is one container's cpu rate and memory working set.
type ContainerUsage struct {
	Name        string
	CPU, Memory resource.Quantity
}

// metricsResources are the resources of metrics.k8s.io, served when
// Config.Metrics is set: read-only, as metrics-server serves them.
func metricsResources() []Resource {
	return []Resource{
		{Group: MetricsGroup, Version: "v1beta1", Kind: "PodMetrics", Resource: "pods", Namespaced: true, Verbs: sn("get", "list"), Printer: metricsPrinter()},
		{Group: MetricsGroup, Version: "v1beta1", Kind: "NodeMetrics", Resource: "nodes", Verbs: sn("get", "list"), Printer: metricsPrinter()},
	}
}

// metricsPrinter prints Name, cpu, memory and Window, as metrics-server's
// Tables do (kubectl get podmetrics); a Pod's usage is its containers'
// sum.
func metricsPrinter() *Printer {
	usage := func(res corev1.ResourceName) func(map[string]any, time.Time) any {
		return func(o map[string]any, _ time.Time) any {
			if u := mapOf(o, "usage"); u != nil {
				q, err := resource.ParseQuantity(str(u, string(res)))
				if err != nil {
					return ""
				}
				return q.String()
			}
			var sum resource.Quantity
			for _, c := range slice(o, "containers") {
				if q, err := resource.ParseQuantity(str(c, "usage", string(res))); err == nil {
					sum.Add(q)
				}
			}
			return sum.String()
		}
	}
	return &Printer{Full: true, Columns: []Column{
		{Name: "Name", Type: "string", Description: "Name of the resource", Cell: func(o map[string]any, _ time.Time) any { return str(o, "metadata", "name") }},
		{Name: "cpu", Type: "string", Description: "cpu usage", Cell: usage(corev1.ResourceCPU)},
		{Name: "memory", Type: "string", Description: "memory usage", Cell: usage(corev1.ResourceMemory)},
		{Name: "Window", Type: "string", Description: "span the usage was averaged over", Cell: func(o map[string]any, _ time.Time) any {
			d, err := time.ParseDuration(str(o, "window"))
			if err != nil {
				return ""
			}
			return d.String()
		}},
	}}
}

// The wire forms of metrics.k8s.io/v1beta1.
type podMetrics struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Timestamp         metav1.Time        `json:"timestamp"`
	Window            metav1.Duration    `json:"window"`
	Containers        []containerMetrics `json:"containers"`
}

type containerMetrics struct {
	Name  string              `json:"name"`
	Usage corev1.ResourceList `json:"usage"`
}

type nodeMetrics struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Timestamp         metav1.Time         `json:"timestamp"`
	Window            metav1.Duration     `json:"window"`
	Usage             corev1.ResourceList `json:"usage"`
}

// serveMetrics answers GET on metrics.k8s.io: PodMetrics of the Pods (in
// a namespace, by name, or selected by labels and fields as Pods are) and
// NodeMetrics of the nodes, from the usage Config.Metrics reports. Pods
// and nodes without current figures are left out, and getting one of
// them by name is NotFound, as with metrics-server.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request, req request) {
	if r.Method != http.MethodGet || req.watch || req.sub != "" || boolParam(r, "watch") {
		verb := "watch"
		if r.Method != http.MethodGet {
			verb = map[string]string{http.MethodPost: "create", http.MethodPut: "update", http.MethodPatch: "patch", http.MethodDelete: "delete"}[r.Method]
		}
		s.fail(w, apierrors.NewMethodNotSupported(req.res.GroupResource(), verb))
		return
	}
	src := s.byGV["v1"][req.res.Resource] // the Pods or Nodes measured
	if src == nil {
		s.fail(w, errPathNotFound())
		return
	}
	q := r.URL.Query()
	sel, err := parseSelector(src, q)
	if err != nil {
		s.fail(w, err)
		return
	}
	if req.name != "" {
		sel.name = req.name
	}
	page, err := s.list(r.Context(), src, req.ns, sel, 0, "")
	if err != nil {
		s.fail(w, err)
		return
	}
	ctx := r.Context()
	usage := map[string]*NodeUsage{}
	nodeUsage := func(node string) *NodeUsage {
		if node == "" {
			return nil
		}
		if u, ok := usage[node]; ok {
			return u
		}
		u, err := s.cfg.Metrics(ctx, node)
		if err != nil {
			if !errors.Is(err, ErrNoMetrics) {
				s.log.Warn("reading a node's metrics", "node", node, "err", err)
			}
			u = nil
		}
		usage[node] = u
		return u
	}
	now := s.now()
	items := []object{}
	for _, o := range page.items {
		var m any
		if req.res.Kind == "NodeMetrics" {
			u := nodeUsage(str(o, "metadata", "name"))
			if u == nil {
				continue
			}
			m = nodeMetrics{
				TypeMeta:   metav1.TypeMeta{Kind: "NodeMetrics", APIVersion: req.res.APIVersion()},
				ObjectMeta: metricsMeta(o, now),
				Timestamp:  metav1.NewTime(u.Timestamp),
				Window:     metav1.Duration{Duration: u.Window},
				Usage:      corev1.ResourceList{corev1.ResourceCPU: u.CPU, corev1.ResourceMemory: u.Memory},
			}
		} else {
			u := nodeUsage(str(o, "spec", "nodeName"))
			if u == nil {
				continue
			}
			pu, ok := u.Pods[types.UID(str(o, "metadata", "uid"))]
			if !ok {
				continue
			}
			pm := podMetrics{
				TypeMeta:   metav1.TypeMeta{Kind: "PodMetrics", APIVersion: req.res.APIVersion()},
				ObjectMeta: metricsMeta(o, now),
				Timestamp:  metav1.NewTime(u.Timestamp),
				Window:     metav1.Duration{Duration: pu.Window},
				Containers: []containerMetrics{},
			}
			for _, c := range pu.Containers {
				pm.Containers = append(pm.Containers, containerMetrics{Name: c.Name, Usage: corev1.ResourceList{corev1.ResourceCPU: c.CPU, corev1.ResourceMemory: c.Memory}})
			}
			m = pm
		}
		data, err := json.Marshal(m)
		if err != nil {
			s.fail(w, apierrors.NewInternalError(err))
			return
		}
		obj, err := decodeObject(data)
		if err != nil {
			s.fail(w, apierrors.NewInternalError(err))
			return
		}
		items = append(items, obj)
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if na, nb := str(a, "metadata", "namespace"), str(b, "metadata", "namespace"); na != nb {
			return na < nb
		}
		return str(a, "metadata", "name") < str(b, "metadata", "name")
	})
	if req.name != "" {
		if len(items) == 0 {
			// metrics-server's words: "podmetrics.metrics.k8s.io
			// \"default/web\" not found".
			name := req.name
			if req.ns != "" {
				name = req.ns + "/" + name
			}
			s.fail(w, apierrors.NewNotFound(schema.GroupResource{Group: MetricsGroup, Resource: strings.ToLower(req.res.Kind)}, name))
			return
		}
		s.writeObjects(w, r, req.res, items[0], nil, metav1.ListMeta{})
		return
	}
	s.writeObjects(w, r, req.res, nil, items, metav1.ListMeta{})
}

// metricsMeta is the metadata of a metrics object: its Pod's or node's
// name, namespace and labels, created now, as metrics-server makes it.
func metricsMeta(o object, now time.Time) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:              str(o, "metadata", "name"),
		Namespace:         str(o, "metadata", "namespace"),
		Labels:            stringMap(o, "metadata", "labels"),
		CreationTimestamp: metav1.NewTime(now.Truncate(time.Second)),
	}
}
