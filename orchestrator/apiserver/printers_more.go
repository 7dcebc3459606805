package apiserver

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"
)

// This file holds the Table printers of the kinds beyond the core few in
// printers.go, with the columns kubectl shows for them.

// statefulSetPrinter prints NAME READY AGE [CONTAINERS IMAGES].
func statefulSetPrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "Ready", Type: "string", Description: "Number of the pod with ready state", Cell: func(o map[string]any, _ time.Time) any {
			return fmt.Sprintf("%d/%d", num(o, "status", "readyReplicas"), replicas(o))
		}},
		containersColumn(), imagesColumn(),
	}}
}

// daemonSetPrinter prints NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE
// NODE SELECTOR AGE [CONTAINERS IMAGES SELECTOR].
func daemonSetPrinter() *Printer {
	count := func(name, field, desc string) Column {
		return Column{Name: name, Type: "integer", Description: desc, Cell: func(o map[string]any, _ time.Time) any { return num(o, "status", field) }}
	}
	return &Printer{Columns: []Column{
		count("Desired", "desiredNumberScheduled", "The desired number of pods."),
		count("Current", "currentNumberScheduled", "The current number of pods."),
		count("Ready", "numberReady", "The number of pods ready."),
		count("Up-to-date", "updatedNumberScheduled", "The number of pods updated."),
		count("Available", "numberAvailable", "The number of pods ready and available."),
		{Name: "Node Selector", Type: "string", Description: "The node selector of the pods.", Cell: func(o map[string]any, _ time.Time) any {
			return orNone(joinLabels(mapOf(o, "spec", "template", "spec", "nodeSelector")))
		}},
		containersColumn(), imagesColumn(), selectorColumn(),
	}}
}

// jobPrinter prints NAME STATUS COMPLETIONS DURATION AGE [CONTAINERS
// IMAGES SELECTOR].
func jobPrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "Status", Type: "string", Description: "Status of the job.", Cell: jobStatus},
		{Name: "Completions", Type: "string", Description: "The completion status of the job.", Cell: func(o map[string]any, _ time.Time) any {
			if get(o, "spec", "completions") == nil {
				return fmt.Sprintf("%d/1 of %d", num(o, "status", "succeeded"), num(o, "spec", "parallelism"))
			}
			return fmt.Sprintf("%d/%d", num(o, "status", "succeeded"), num(o, "spec", "completions"))
		}},
		{Name: "Duration", Type: "string", Description: "Time required to complete the job.", Cell: func(o map[string]any, _ time.Time) any {
			start, err := time.Parse(time.RFC3339, str(o, "status", "startTime"))
			if err != nil {
				return ""
			}
			end, err := time.Parse(time.RFC3339, str(o, "status", "completionTime"))
			if err != nil {
				return ""
			}
			return duration.HumanDuration(end.Sub(start))
		}},
		containersColumn(), imagesColumn(), selectorColumn(),
	}}
}

// jobStatus is the STATUS cell of a job, from its conditions.
func jobStatus(o map[string]any, _ time.Time) any {
	status := "Running"
	if b, _ := get(o, "spec", "suspend").(bool); b {
		status = "Suspended"
	}
	for _, c := range slice(o, "status", "conditions") {
		if str(c, "status") != "True" {
			continue
		}
		switch str(c, "type") {
		case "Complete":
			return "Complete"
		case "Failed":
			return "Failed"
		case "FailureTarget", "SuccessCriteriaMet":
			status = str(c, "type")
		}
	}
	return status
}

// cronJobPrinter prints NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST
// SCHEDULE AGE [CONTAINERS IMAGES SELECTOR].
func cronJobPrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "Schedule", Type: "string", Description: "The schedule in Cron format.", Cell: func(o map[string]any, _ time.Time) any { return str(o, "spec", "schedule") }},
		{Name: "Timezone", Type: "string", Description: "The time zone of the schedule.", Cell: func(o map[string]any, _ time.Time) any { return orNone(str(o, "spec", "timeZone")) }},
		{Name: "Suspend", Type: "boolean", Description: "Whether runs are suspended.", Cell: func(o map[string]any, _ time.Time) any {
			b, _ := get(o, "spec", "suspend").(bool)
			return strconv.FormatBool(b)
		}},
		{Name: "Active", Type: "integer", Description: "The number of running jobs.", Cell: func(o map[string]any, _ time.Time) any { return int64(len(slice(o, "status", "active"))) }},
		{Name: "Last Schedule", Type: "string", Description: "When the last job was scheduled.", Cell: func(o map[string]any, now time.Time) any {
			t, err := time.Parse(time.RFC3339, str(o, "status", "lastScheduleTime"))
			if err != nil {
				return "<none>"
			}
			return duration.HumanDuration(now.Sub(t))
		}},
		{Name: "Containers", Type: "string", Wide: true, Description: "Names of each container in the template.", Cell: func(o map[string]any, _ time.Time) any {
			return strings.Join(jobTemplateContainers(o, "name"), ",")
		}},
		{Name: "Images", Type: "string", Wide: true, Description: "Images referenced by each container in the template.", Cell: func(o map[string]any, _ time.Time) any {
			return strings.Join(jobTemplateContainers(o, "image"), ",")
		}},
	}}
}

// jobTemplateContainers returns one field of every container of a
// CronJob's job template.
func jobTemplateContainers(o map[string]any, field string) []string {
	var out []string
	for _, c := range slice(o, "spec", "jobTemplate", "spec", "template", "spec", "containers") {
		out = append(out, str(c, field))
	}
	return out
}

// ingressPrinter prints NAME CLASS HOSTS ADDRESS PORTS AGE.
func ingressPrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "Class", Type: "string", Description: "The ingress class.", Cell: func(o map[string]any, _ time.Time) any { return orNone(str(o, "spec", "ingressClassName")) }},
		{Name: "Hosts", Type: "string", Description: "Hosts that incoming requests are matched against.", Cell: func(o map[string]any, _ time.Time) any {
			var hosts []string
			for _, r := range slice(o, "spec", "rules") {
				if h := str(r, "host"); h != "" {
					hosts = append(hosts, h)
				}
			}
			if len(hosts) == 0 {
				return "*"
			}
			return strings.Join(hosts, ",")
		}},
		{Name: "Address", Type: "string", Description: "Address is a list containing ingress points for the load-balancer.", Cell: func(o map[string]any, _ time.Time) any {
			var addrs []string
			for _, in := range slice(o, "status", "loadBalancer", "ingress") {
				if ip := str(in, "ip"); ip != "" {
					addrs = append(addrs, ip)
				} else if h := str(in, "hostname"); h != "" {
					addrs = append(addrs, h)
				}
			}
			return strings.Join(addrs, ",")
		}},
		{Name: "Ports", Type: "string", Description: "Ports of TLS configurations that open.", Cell: func(o map[string]any, _ time.Time) any {
			if len(slice(o, "spec", "tls")) > 0 {
				return "80, 443"
			}
			return "80"
		}},
	}}
}

// pvcPrinter prints NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS
// AGE.
func pvcPrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "Status", Type: "string", Description: "The phase of the claim.", Cell: func(o map[string]any, _ time.Time) any { return str(o, "status", "phase") }},
		{Name: "Volume", Type: "string", Description: "The bound volume.", Cell: func(o map[string]any, _ time.Time) any { return str(o, "spec", "volumeName") }},
		{Name: "Capacity", Type: "string", Description: "The capacity of the bound volume.", Cell: func(o map[string]any, _ time.Time) any { return str(o, "status", "capacity", "storage") }},
		{Name: "Access Modes", Type: "string", Description: "The access modes of the bound volume.", Cell: func(o map[string]any, _ time.Time) any {
			short := map[string]string{"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
			var modes []string
			for _, m := range slice(o, "status", "accessModes") {
				if s, ok := m.(string); ok {
					modes = append(modes, short[s])
				}
			}
			return strings.Join(modes, ",")
		}},
		{Name: "StorageClass", Type: "string", Description: "The storage class of the claim.", Cell: func(o map[string]any, _ time.Time) any { return orNone(str(o, "spec", "storageClassName")) }},
	}}
}

// leasePrinter prints NAME HOLDER AGE.
func leasePrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "Holder", Type: "string", Description: "The holder of the lease.", Cell: func(o map[string]any, _ time.Time) any { return str(o, "spec", "holderIdentity") }},
	}}
}

// endpointsPrinter prints NAME ENDPOINTS AGE.
func endpointsPrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "Endpoints", Type: "string", Description: "Endpoints of the service.", Cell: func(o map[string]any, _ time.Time) any {
			var eps []string
			for _, sub := range slice(o, "subsets") {
				for _, a := range slice(sub, "addresses") {
					for _, p := range slice(sub, "ports") {
						eps = append(eps, fmt.Sprintf("%s:%d", str(a, "ip"), num(p, "port")))
					}
				}
			}
			if len(eps) > 3 {
				return strings.Join(eps[:3], ",") + fmt.Sprintf(" + %d more...", len(eps)-3)
			}
			return orNone(strings.Join(eps, ","))
		}},
	}}
}

// eventPrinter prints LAST SEEN TYPE REASON OBJECT MESSAGE [SOURCE
// SUBOBJECT FIRST SEEN COUNT NAME], as kubectl get events does.
func eventPrinter() *Printer {
	since := func(ts string, now time.Time) string {
		t, err := time.Parse(time.RFC3339, ts)
		if err != nil {
			return "<unknown>"
		}
		return duration.HumanDuration(now.Sub(t))
	}
	return &Printer{Full: true, Columns: []Column{
		{Name: "Last Seen", Type: "string", Description: "When the event was last seen.", Cell: func(o map[string]any, now time.Time) any {
			for _, ts := range []string{str(o, "series", "lastObservedTime"), str(o, "lastTimestamp"), str(o, "eventTime"), str(o, "metadata", "creationTimestamp")} {
				if ts != "" {
					return since(ts, now)
				}
			}
			return "<unknown>"
		}},
		{Name: "Type", Type: "string", Description: "Type of this event.", Cell: func(o map[string]any, _ time.Time) any { return str(o, "type") }},
		{Name: "Reason", Type: "string", Description: "Why the event happened.", Cell: func(o map[string]any, _ time.Time) any { return str(o, "reason") }},
		{Name: "Object", Type: "string", Description: "The object the event is about.", Cell: func(o map[string]any, _ time.Time) any {
			return strings.ToLower(str(o, "involvedObject", "kind")) + "/" + str(o, "involvedObject", "name")
		}},
		{Name: "Message", Type: "string", Description: "A human-readable description of the event.", Cell: func(o map[string]any, _ time.Time) any {
			return strings.TrimSpace(str(o, "message"))
		}},
		{Name: "Source", Type: "string", Wide: true, Description: "The component reporting the event.", Cell: func(o map[string]any, _ time.Time) any {
			src := str(o, "source", "component")
			if src == "" {
				src = str(o, "reportingComponent")
			}
			if h := str(o, "source", "host"); h != "" {
				src += ", " + h
			}
			return src
		}},
		{Name: "Subobject", Type: "string", Wide: true, Description: "The part of the object the event is about.", Cell: func(o map[string]any, _ time.Time) any {
			return str(o, "involvedObject", "fieldPath")
		}},
		{Name: "First Seen", Type: "string", Wide: true, Description: "When the event was first seen.", Cell: func(o map[string]any, now time.Time) any {
			if ts := str(o, "firstTimestamp"); ts != "" {
				return since(ts, now)
			}
			return since(str(o, "metadata", "creationTimestamp"), now)
		}},
		{Name: "Count", Type: "string", Wide: true, Description: "How many times the event happened.", Cell: func(o map[string]any, _ time.Time) any {
			if n := num(o, "series", "count"); n > 0 {
				return strconv.FormatInt(n, 10)
			}
			return strconv.FormatInt(max(num(o, "count"), 1), 10)
		}},
		{Name: "Name", Type: "string", Wide: true, Description: "Name of the event.", Cell: func(o map[string]any, _ time.Time) any {
			return str(o, "metadata", "name")
		}},
	}}
}
