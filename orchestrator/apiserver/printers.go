package apiserver

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Column is one Table column of a Printer.
type Column struct {
	// Name is the column header, for example "READY".
	Name string
	// Type is the OpenAPI type of the cells: "string" or "integer".
	Type string
	// Description says what the column shows.
	Description string
	// Wide marks a column kubectl shows only with -o wide; wide columns
	// come after AGE.
	Wide bool
	// Cell computes the cell from the object; now is the server's clock,
	// for cells that show ages.
	Cell func(obj map[string]any, now time.Time) any
}

// Printer gives the Table columns of a kind beyond NAME and AGE.
type Printer struct {
	// Columns are printed in order, normal ones between NAME and AGE and
	// wide ones after AGE.
	Columns []Column
	// Full says Columns are the whole table, without the automatic NAME
	// and AGE columns (Events print LAST SEEN first and NAME as a wide
	// column).
	Full bool
}

// definitions returns the full column list: NAME, normal columns, AGE,
// wide columns.
func (p *Printer) definitions() []metav1.TableColumnDefinition {
	var defs, wide []metav1.TableColumnDefinition
	if p == nil || !p.Full {
		defs = append(defs, metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: "Name must be unique within a namespace."})
	}
	if p != nil {
		for _, c := range p.Columns {
			d := metav1.TableColumnDefinition{Name: c.Name, Type: c.Type, Description: c.Description}
			if c.Wide {
				d.Priority = 1
				wide = append(wide, d)
				continue
			}
			defs = append(defs, d)
		}
	}
	if p == nil || !p.Full {
		defs = append(defs, metav1.TableColumnDefinition{Name: "Age", Type: "string", Description: "CreationTimestamp is a timestamp representing the server time when this object was created."})
	}
	return append(defs, wide...)
}

// cells computes one row's cells in the order of definitions; age is the
// already formatted AGE cell.
func (p *Printer) cells(obj map[string]any, age string, now time.Time) []any {
	var row, wide []any
	if p == nil || !p.Full {
		row = append(row, str(obj, "metadata", "name"))
	}
	if p != nil {
		for _, c := range p.Columns {
			if c.Wide {
				wide = append(wide, c.Cell(obj, now))
				continue
			}
			row = append(row, c.Cell(obj, now))
		}
	}
	if p == nil || !p.Full {
		row = append(row, age)
	}
	return append(row, wide...)
}

// podPrinter prints NAME READY STATUS RESTARTS AGE [IP NODE].
func podPrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "Ready", Type: "string", Description: "The aggregate readiness state of this pod for accepting traffic.", Cell: func(o map[string]any, _ time.Time) any {
			ready := 0
			for _, cs := range slice(o, "status", "containerStatuses") {
				if b, _ := get(cs, "ready").(bool); b {
					ready++
				}
			}
			return fmt.Sprintf("%d/%d", ready, len(slice(o, "spec", "containers")))
		}},
		{Name: "Status", Type: "string", Description: "The aggregate status of the containers in this pod.", Cell: podStatus},
		{Name: "Restarts", Type: "string", Description: "The number of times the containers in this pod have been restarted.", Cell: func(o map[string]any, _ time.Time) any {
			n := int64(0)
			for _, cs := range slice(o, "status", "containerStatuses") {
				n += num(cs, "restartCount")
			}
			return strconv.FormatInt(n, 10)
		}},
		{Name: "IP", Type: "string", Wide: true, Description: "IP address allocated to the pod.", Cell: func(o map[string]any, _ time.Time) any { return orNone(str(o, "status", "podIP")) }},
		{Name: "Node", Type: "string", Wide: true, Description: "Name of the node the pod is assigned to.", Cell: func(o map[string]any, _ time.Time) any { return orNone(str(o, "spec", "nodeName")) }},
	}}
}

// podStatus is the STATUS cell of a pod: the most telling reason, as
// kubectl shows it.
func podStatus(o map[string]any, _ time.Time) any {
	if _, deleting := get(o, "metadata", "deletionTimestamp").(string); deleting {
		return "Terminating"
	}
	status := str(o, "status", "phase")
	if r := str(o, "status", "reason"); r != "" {
		status = r
	}
	for _, cs := range slice(o, "status", "containerStatuses") {
		if r := str(cs, "state", "waiting", "reason"); r != "" {
			status = r
		} else if r := str(cs, "state", "terminated", "reason"); r != "" {
			status = r
		}
	}
	if status == "" {
		status = "Pending"
	}
	return status
}

// deploymentPrinter prints NAME READY UP-TO-DATE AVAILABLE AGE
// [CONTAINERS IMAGES SELECTOR].
func deploymentPrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "Ready", Type: "string", Description: "Number of the pod with ready state", Cell: func(o map[string]any, _ time.Time) any {
			return fmt.Sprintf("%d/%d", num(o, "status", "readyReplicas"), replicas(o))
		}},
		{Name: "Up-to-date", Type: "string", Description: "Total number of non-terminated pods targeted by this deployment that have the desired template spec.", Cell: func(o map[string]any, _ time.Time) any { return num(o, "status", "updatedReplicas") }},
		{Name: "Available", Type: "string", Description: "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.", Cell: func(o map[string]any, _ time.Time) any { return num(o, "status", "availableReplicas") }},
		containersColumn(), imagesColumn(), selectorColumn(),
	}}
}

// replicaSetPrinter prints NAME DESIRED CURRENT READY AGE [CONTAINERS
// IMAGES SELECTOR].
func replicaSetPrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "Desired", Type: "integer", Description: "Number of desired pods.", Cell: func(o map[string]any, _ time.Time) any { return replicas(o) }},
		{Name: "Current", Type: "integer", Description: "Number of actual replicas.", Cell: func(o map[string]any, _ time.Time) any { return num(o, "status", "replicas") }},
		{Name: "Ready", Type: "integer", Description: "Number of ready replicas.", Cell: func(o map[string]any, _ time.Time) any { return num(o, "status", "readyReplicas") }},
		containersColumn(), imagesColumn(), selectorColumn(),
	}}
}

// servicePrinter prints NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE
// [SELECTOR].
func servicePrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "Type", Type: "string", Description: "How the service is exposed.", Cell: func(o map[string]any, _ time.Time) any { return serviceType(o) }},
		{Name: "Cluster-IP", Type: "string", Description: "The IP address of the service.", Cell: func(o map[string]any, _ time.Time) any { return orNone(str(o, "spec", "clusterIP")) }},
		{Name: "External-IP", Type: "string", Description: "External IPs of the service.", Cell: externalIPs},
		{Name: "Port(s)", Type: "string", Description: "The ports exposed by the service.", Cell: servicePorts},
		{Name: "Selector", Type: "string", Wide: true, Description: "Route service traffic to pods with label keys and values matching this selector.", Cell: func(o map[string]any, _ time.Time) any {
			return orNone(joinLabels(mapOf(o, "spec", "selector")))
		}},
	}}
}

// serviceType returns spec.type, ClusterIP when unset.
func serviceType(o map[string]any) string {
	if t := str(o, "spec", "type"); t != "" {
		return t
	}
	return "ClusterIP"
}

// externalIPs is the EXTERNAL-IP cell of a service.
func externalIPs(o map[string]any, _ time.Time) any {
	var ips []string
	for _, ip := range slice(o, "spec", "externalIPs") {
		if s, ok := ip.(string); ok {
			ips = append(ips, s)
		}
	}
	switch serviceType(o) {
	case "ExternalName":
		return str(o, "spec", "externalName")
	case "LoadBalancer":
		for _, in := range slice(o, "status", "loadBalancer", "ingress") {
			if ip := str(in, "ip"); ip != "" {
				ips = append(ips, ip)
			} else if h := str(in, "hostname"); h != "" {
				ips = append(ips, h)
			}
		}
		if len(ips) == 0 {
			return "<pending>"
		}
	}
	return orNone(strings.Join(ips, ","))
}

// servicePorts is the PORT(S) cell: "80/TCP,443:30443/TCP".
func servicePorts(o map[string]any, _ time.Time) any {
	var parts []string
	for _, p := range slice(o, "spec", "ports") {
		proto := str(p, "protocol")
		if proto == "" {
			proto = "TCP"
		}
		s := strconv.FormatInt(num(p, "port"), 10)
		if np := num(p, "nodePort"); np != 0 {
			s += ":" + strconv.FormatInt(np, 10)
		}
		parts = append(parts, s+"/"+proto)
	}
	return orNone(strings.Join(parts, ","))
}

// namespacePrinter prints NAME STATUS AGE.
func namespacePrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "Status", Type: "string", Description: "The status of the namespace", Cell: func(o map[string]any, _ time.Time) any {
			if p := str(o, "status", "phase"); p != "" {
				return p
			}
			return "Active"
		}},
	}}
}

// configMapPrinter prints NAME DATA AGE.
func configMapPrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "Data", Type: "integer", Description: "Number of keys in the config map.", Cell: func(o map[string]any, _ time.Time) any {
			return int64(len(mapOf(o, "data")) + len(mapOf(o, "binaryData")))
		}},
	}}
}

// secretPrinter prints NAME TYPE DATA AGE.
func secretPrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "Type", Type: "string", Description: "The type of the secret", Cell: func(o map[string]any, _ time.Time) any { return str(o, "type") }},
		{Name: "Data", Type: "integer", Description: "Number of keys in the secret.", Cell: func(o map[string]any, _ time.Time) any { return int64(len(mapOf(o, "data"))) }},
	}}
}

// containersColumn is the wide CONTAINERS column of workloads.
func containersColumn() Column {
	return Column{Name: "Containers", Type: "string", Wide: true, Description: "Names of each container in the template.", Cell: func(o map[string]any, _ time.Time) any {
		return strings.Join(containerFields(o, "name"), ",")
	}}
}

// imagesColumn is the wide IMAGES column of workloads.
func imagesColumn() Column {
	return Column{Name: "Images", Type: "string", Wide: true, Description: "Images referenced by each container in the template.", Cell: func(o map[string]any, _ time.Time) any {
		return strings.Join(containerFields(o, "image"), ",")
	}}
}

// selectorColumn is the wide SELECTOR column of workloads.
func selectorColumn() Column {
	return Column{Name: "Selector", Type: "string", Wide: true, Description: "Label selector for pods.", Cell: func(o map[string]any, _ time.Time) any {
		return orNone(joinLabels(mapOf(o, "spec", "selector", "matchLabels")))
	}}
}

// containerFields returns one field of every container of the pod template.
func containerFields(o map[string]any, field string) []string {
	var out []string
	for _, c := range slice(o, "spec", "template", "spec", "containers") {
		out = append(out, str(c, field))
	}
	return out
}

// replicas returns spec.replicas, 1 when unset as the defaulting does.
func replicas(o map[string]any) int64 {
	if get(o, "spec", "replicas") == nil {
		return 1
	}
	return num(o, "spec", "replicas")
}

// joinLabels formats a map as "k=v,k=v" in key order.
func joinLabels(m map[string]any) string {
	keys := sortedKeys(m)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, m[k]))
	}
	return strings.Join(parts, ",")
}

// orNone returns s, or "<none>" when it is empty.
func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
