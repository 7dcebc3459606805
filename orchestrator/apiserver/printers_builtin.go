package apiserver

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// nameColumn is the NAME column of printers that list all their columns.
func nameColumn() Column {
	return Column{Name: "Name", Type: "string", Description: "Name must be unique within a namespace.", Cell: func(o map[string]any, _ time.Time) any { return str(o, "metadata", "name") }}
}

// ageColumn is the AGE column of printers that list all their columns.
func ageColumn() Column {
	return Column{Name: "Age", Type: "string", Description: "CreationTimestamp is a timestamp representing the server time when this object was created.", Cell: func(o map[string]any, now time.Time) any { return age(o, now) }}
}

// createdAtPrinter prints NAME CREATED AT, kube-apiserver's table for
// LimitRanges, Roles, ClusterRoles and CustomResourceDefinitions.
func createdAtPrinter() *Printer {
	return &Printer{Full: true, Columns: []Column{
		nameColumn(),
		{Name: "Created At", Type: "date", Description: "CreationTimestamp is a timestamp representing the server time when this object was created.", Cell: func(o map[string]any, _ time.Time) any {
			return str(o, "metadata", "creationTimestamp")
		}},
	}}
}

// shortAccessModes formats access modes as kubectl does: RWO,ROX,RWX,RWOP.
func shortAccessModes(modes []any) string {
	short := map[string]string{"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
	var out []string
	for _, m := range modes {
		if s, ok := m.(string); ok && short[s] != "" {
			out = append(out, short[s])
		}
	}
	return strings.Join(out, ",")
}

// pvPrinter prints NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM
// STORAGECLASS VOLUMEATTRIBUTESCLASS REASON AGE, and VOLUMEMODE wide.
func pvPrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "Capacity", Type: "string", Description: "capacity is the description of the persistent volume's resources and capacity.", Cell: func(o map[string]any, _ time.Time) any { return str(o, "spec", "capacity", "storage") }},
		{Name: "Access Modes", Type: "string", Description: "accessModes contains all ways the volume can be mounted.", Cell: func(o map[string]any, _ time.Time) any { return shortAccessModes(slice(o, "spec", "accessModes")) }},
		{Name: "Reclaim Policy", Type: "string", Description: "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.", Cell: func(o map[string]any, _ time.Time) any { return str(o, "spec", "persistentVolumeReclaimPolicy") }},
		{Name: "Status", Type: "string", Description: "phase indicates if a volume is available, bound to a claim, or released by a claim.", Cell: func(o map[string]any, _ time.Time) any {
			if str(o, "metadata", "deletionTimestamp") != "" {
				return "Terminating"
			}
			return str(o, "status", "phase")
		}},
		{Name: "Claim", Type: "string", Description: "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.", Cell: func(o map[string]any, _ time.Time) any {
			if mapOf(o, "spec", "claimRef") == nil {
				return ""
			}
			return str(o, "spec", "claimRef", "namespace") + "/" + str(o, "spec", "claimRef", "name")
		}},
		{Name: "StorageClass", Type: "string", Description: "storageClassName is the name of StorageClass to which this persistent volume belongs.", Cell: func(o map[string]any, _ time.Time) any { return str(o, "spec", "storageClassName") }},
		{Name: "VolumeAttributesClass", Type: "string", Description: "Name of VolumeAttributesClass to which this persistent volume belongs.", Cell: func(o map[string]any, _ time.Time) any { return orUnset(str(o, "spec", "volumeAttributesClassName")) }},
		{Name: "Reason", Type: "string", Description: "reason is a brief CamelCase string that describes any failure.", Cell: func(o map[string]any, _ time.Time) any { return str(o, "status", "reason") }},
		{Name: "VolumeMode", Type: "string", Wide: true, Description: "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.", Cell: func(o map[string]any, _ time.Time) any { return orUnset(str(o, "spec", "volumeMode")) }},
	}}
}

// orUnset returns s, or "<unset>" when it is empty.
func orUnset(s string) string {
	if s == "" {
		return "<unset>"
	}
	return s
}

// nodePrinter prints NAME STATUS ROLES AGE VERSION, and INTERNAL-IP
// EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME wide.
func nodePrinter() *Printer {
	address := func(kind string) func(map[string]any, time.Time) any {
		return func(o map[string]any, _ time.Time) any {
			for _, a := range slice(o, "status", "addresses") {
				if str(a, "type") == kind {
					return str(a, "address")
				}
			}
			return "<none>"
		}
	}
	info := func(field string) func(map[string]any, time.Time) any {
		return func(o map[string]any, _ time.Time) any {
			if v := str(o, "status", "nodeInfo", field); v != "" {
				return v
			}
			return "<unknown>"
		}
	}
	return &Printer{Full: true, Columns: []Column{
		nameColumn(),
		{Name: "Status", Type: "string", Description: "The status of the node", Cell: nodeStatus},
		{Name: "Roles", Type: "string", Description: "The roles of the node", Cell: func(o map[string]any, _ time.Time) any {
			var roles []string
			for k, v := range mapOf(o, "metadata", "labels") {
				switch {
				case strings.HasPrefix(k, "node-role.kubernetes.io/"):
					if r := strings.TrimPrefix(k, "node-role.kubernetes.io/"); r != "" {
						roles = append(roles, r)
					}
				case k == "kubernetes.io/role":
					if s, _ := v.(string); s != "" {
						roles = append(roles, s)
					}
				}
			}
			sort.Strings(roles)
			return orNone(strings.Join(roles, ","))
		}},
		ageColumn(),
		{Name: "Version", Type: "string", Description: "Kubelet Version reported by the node.", Cell: func(o map[string]any, _ time.Time) any { return str(o, "status", "nodeInfo", "kubeletVersion") }},
		{Name: "Internal-IP", Type: "string", Wide: true, Description: "List of addresses reachable to the node. Queried from cloud provider, if available.", Cell: address("InternalIP")},
		{Name: "External-IP", Type: "string", Wide: true, Description: "List of addresses reachable to the node. Queried from cloud provider, if available.", Cell: address("ExternalIP")},
		{Name: "OS-Image", Type: "string", Wide: true, Description: "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", Cell: info("osImage")},
		{Name: "Kernel-Version", Type: "string", Wide: true, Description: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", Cell: info("kernelVersion")},
		{Name: "Container-Runtime", Type: "string", Wide: true, Description: "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", Cell: info("containerRuntimeVersion")},
	}}
}

// nodeStatus is a node's STATUS cell: its Ready condition, and
// SchedulingDisabled when it is cordoned.
func nodeStatus(o map[string]any, _ time.Time) any {
	status := "Unknown"
	for _, c := range slice(o, "status", "conditions") {
		if str(c, "type") != "Ready" {
			continue
		}
		if str(c, "status") == "True" {
			status = "Ready"
		} else {
			status = "NotReady"
		}
	}
	if b, _ := get(o, "spec", "unschedulable").(bool); b {
		status += ",SchedulingDisabled"
	}
	return status
}

// resourceQuotaPrinter prints NAME AGE REQUEST LIMIT.
func resourceQuotaPrinter() *Printer {
	usage := func(limits bool) func(map[string]any, time.Time) any {
		return func(o map[string]any, _ time.Time) any {
			hard := mapOf(o, "status", "hard")
			var parts []string
			for _, k := range sortedKeys(hard) {
				if strings.HasPrefix(k, "limits") != limits {
					continue
				}
				used := str(o, "status", "used", k)
				if used == "" {
					used = "0"
				}
				parts = append(parts, fmt.Sprintf("%s: %s/%v", k, used, hard[k]))
			}
			return strings.Join(parts, ", ")
		}
	}
	return &Printer{Full: true, Columns: []Column{
		nameColumn(),
		ageColumn(),
		{Name: "Request", Type: "string", Description: "Request represents a minimum amount of cpu/memory that a container may consume.", Cell: usage(false)},
		{Name: "Limit", Type: "string", Description: "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.", Cell: usage(true)},
	}}
}

// controllerRevisionPrinter prints NAME CONTROLLER REVISION AGE.
func controllerRevisionPrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "Controller", Type: "string", Description: "Controller of the object.", Cell: func(o map[string]any, _ time.Time) any {
			for _, ref := range slice(o, "metadata", "ownerReferences") {
				if c, _ := get(ref, "controller").(bool); !c {
					continue
				}
				kind := strings.ToLower(str(ref, "kind"))
				if g, _, ok := strings.Cut(str(ref, "apiVersion"), "/"); ok {
					kind += "." + g
				}
				return kind + "/" + str(ref, "name")
			}
			return "<none>"
		}},
		{Name: "Revision", Type: "integer", Description: "Revision indicates the revision of the state represented by Data.", Cell: func(o map[string]any, _ time.Time) any { return num(o, "revision") }},
	}}
}

// hpaPrinter prints NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE.
func hpaPrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "Reference", Type: "string", Description: "scaleTargetRef points to the target resource to scale.", Cell: func(o map[string]any, _ time.Time) any {
			return str(o, "spec", "scaleTargetRef", "kind") + "/" + str(o, "spec", "scaleTargetRef", "name")
		}},
		{Name: "Targets", Type: "string", Description: "metrics contains the specifications for which to use to calculate the desired replica count.", Cell: hpaTargets},
		{Name: "MinPods", Type: "string", Description: "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.", Cell: func(o map[string]any, _ time.Time) any {
			if get(o, "spec", "minReplicas") == nil {
				return "<unset>"
			}
			return strconv.FormatInt(num(o, "spec", "minReplicas"), 10)
		}},
		{Name: "MaxPods", Type: "integer", Description: "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.", Cell: func(o map[string]any, _ time.Time) any { return num(o, "spec", "maxReplicas") }},
		{Name: "Replicas", Type: "integer", Description: "currentReplicas is current number of replicas of pods managed by this autoscaler.", Cell: func(o map[string]any, _ time.Time) any { return num(o, "status", "currentReplicas") }},
	}}
}

// hpaTargets is the TARGETS cell: each resource metric as
// "NAME: CURRENT/TARGET", "<unknown>" for a current value not yet known.
func hpaTargets(o map[string]any, _ time.Time) any {
	metrics := slice(o, "spec", "metrics")
	if len(metrics) == 0 {
		return "<none>"
	}
	var parts []string
	for i, m := range metrics {
		if str(m, "type") != "Resource" {
			parts = append(parts, "<unknown>/<unknown>")
			continue
		}
		name := str(m, "resource", "name")
		current := "<unknown>"
		if cur := slice(o, "status", "currentMetrics"); i < len(cur) && get(cur[i], "resource", "current", "averageUtilization") != nil {
			current = fmt.Sprintf("%d%%", num(cur[i], "resource", "current", "averageUtilization"))
		}
		switch {
		case get(m, "resource", "target", "averageUtilization") != nil:
			parts = append(parts, fmt.Sprintf("%s: %s/%d%%", name, current, num(m, "resource", "target", "averageUtilization")))
		case str(m, "resource", "target", "averageValue") != "":
			parts = append(parts, fmt.Sprintf("%s: %s/%s", name, current, str(m, "resource", "target", "averageValue")))
		default:
			parts = append(parts, fmt.Sprintf("%s: %s/<unknown>", name, current))
		}
	}
	if len(parts) > 2 {
		return fmt.Sprintf("%s + %d more...", strings.Join(parts[:2], ", "), len(parts)-2)
	}
	return strings.Join(parts, ", ")
}

// ingressClassPrinter prints NAME CONTROLLER PARAMETERS AGE.
func ingressClassPrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "Controller", Type: "string", Description: "controller refers to the name of the controller that should handle this class.", Cell: func(o map[string]any, _ time.Time) any { return str(o, "spec", "controller") }},
		{Name: "Parameters", Type: "string", Description: "parameters is a link to a custom resource containing additional configuration for the controller.", Cell: func(o map[string]any, _ time.Time) any {
			p := mapOf(o, "spec", "parameters")
			if p == nil {
				return "<none>"
			}
			out := str(p, "kind")
			if g := str(p, "apiGroup"); g != "" {
				out += "." + g
			}
			return out + "/" + str(p, "name")
		}},
	}}
}

// priorityClassPrinter prints NAME VALUE GLOBAL-DEFAULT AGE
// PREEMPTIONPOLICY.
func priorityClassPrinter() *Printer {
	return &Printer{Full: true, Columns: []Column{
		{Name: "Name", Type: "string", Description: "Name must be unique within a namespace.", Cell: func(o map[string]any, _ time.Time) any { return str(o, "metadata", "name") }},
		{Name: "Value", Type: "integer", Description: "value represents the integer value of this priority class.", Cell: func(o map[string]any, _ time.Time) any { return num(o, "value") }},
		{Name: "Global-Default", Type: "boolean", Description: "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.", Cell: func(o map[string]any, _ time.Time) any {
			b, _ := get(o, "globalDefault").(bool)
			return b
		}},
		ageColumn(),
		{Name: "PreemptionPolicy", Type: "string", Description: "preemptionPolicy is the Policy for preempting pods with lower priority.", Cell: func(o map[string]any, _ time.Time) any { return str(o, "preemptionPolicy") }},
	}}
}

// networkPolicyPrinter prints NAME POD-SELECTOR AGE.
func networkPolicyPrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "Pod-Selector", Type: "string", Description: "podSelector selects the pods to which this NetworkPolicy object applies.", Cell: func(o map[string]any, _ time.Time) any {
			return formatSelector(mapOf(o, "spec", "podSelector"))
		}},
	}}
}

// formatSelector formats a label selector as metav1.FormatLabelSelector
// does: "<none>" when it selects everything.
func formatSelector(sel map[string]any) string {
	var parts []string
	if s := joinLabels(mapOf(sel, "matchLabels")); s != "" {
		parts = append(parts, s)
	}
	for _, e := range slice(sel, "matchExpressions") {
		key, op := str(e, "key"), str(e, "operator")
		var vals []string
		for _, v := range slice(e, "values") {
			vals = append(vals, fmt.Sprint(v))
		}
		switch op {
		case "In":
			parts = append(parts, fmt.Sprintf("%s in (%s)", key, strings.Join(vals, ",")))
		case "NotIn":
			parts = append(parts, fmt.Sprintf("%s notin (%s)", key, strings.Join(vals, ",")))
		case "Exists":
			parts = append(parts, key)
		case "DoesNotExist":
			parts = append(parts, "!"+key)
		}
	}
	return orNone(strings.Join(parts, ","))
}

// pdbPrinter prints NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS
// AGE.
func pdbPrinter() *Printer {
	intOrString := func(field string) func(map[string]any, time.Time) any {
		return func(o map[string]any, _ time.Time) any {
			v := get(o, "spec", field)
			if v == nil {
				return "N/A"
			}
			if s, ok := v.(string); ok {
				return s
			}
			return strconv.FormatInt(num(o, "spec", field), 10)
		}
	}
	return &Printer{Columns: []Column{
		{Name: "Min Available", Type: "string", Description: "An eviction is allowed if at least \"minAvailable\" pods selected by \"selector\" will still be available after the eviction.", Cell: intOrString("minAvailable")},
		{Name: "Max Unavailable", Type: "string", Description: "An eviction is allowed if at most \"maxUnavailable\" pods selected by \"selector\" are unavailable after the eviction.", Cell: intOrString("maxUnavailable")},
		{Name: "Allowed Disruptions", Type: "integer", Description: "Number of pod disruptions that are currently allowed.", Cell: func(o map[string]any, _ time.Time) any { return num(o, "status", "disruptionsAllowed") }},
	}}
}

// storageClassPrinter prints NAME PROVISIONER RECLAIMPOLICY
// VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE; the default class's name
// ends in " (default)".
func storageClassPrinter() *Printer {
	return &Printer{Full: true, Columns: []Column{
		{Name: "Name", Type: "string", Description: "Name must be unique within a namespace.", Cell: func(o map[string]any, _ time.Time) any {
			name := str(o, "metadata", "name")
			for _, a := range []string{"storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class"} {
				if str(o, "metadata", "annotations", a) == "true" {
					return name + " (default)"
				}
			}
			return name
		}},
		{Name: "Provisioner", Type: "string", Description: "provisioner indicates the type of the provisioner.", Cell: func(o map[string]any, _ time.Time) any { return str(o, "provisioner") }},
		{Name: "ReclaimPolicy", Type: "string", Description: "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.", Cell: func(o map[string]any, _ time.Time) any {
			if p := str(o, "reclaimPolicy"); p != "" {
				return p
			}
			return "Delete"
		}},
		{Name: "VolumeBindingMode", Type: "string", Description: "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.", Cell: func(o map[string]any, _ time.Time) any {
			if m := str(o, "volumeBindingMode"); m != "" {
				return m
			}
			return "Immediate"
		}},
		{Name: "AllowVolumeExpansion", Type: "string", Description: "allowVolumeExpansion shows whether the storage class allow volume expand.", Cell: func(o map[string]any, _ time.Time) any {
			b, _ := get(o, "allowVolumeExpansion").(bool)
			return strconv.FormatBool(b)
		}},
		ageColumn(),
	}}
}

// endpointSlicePrinter prints NAME ADDRESSTYPE PORTS ENDPOINTS AGE.
func endpointSlicePrinter() *Printer {
	return &Printer{Columns: []Column{
		{Name: "AddressType", Type: "string", Description: "addressType specifies the type of address carried by this EndpointSlice.", Cell: func(o map[string]any, _ time.Time) any { return str(o, "addressType") }},
		{Name: "Ports", Type: "string", Description: "ports specifies the list of network ports exposed by each endpoint in this slice.", Cell: func(o map[string]any, _ time.Time) any {
			ports := slice(o, "ports")
			if len(ports) == 0 {
				return "<unset>"
			}
			var out []string
			for _, p := range ports {
				if get(p, "port") == nil {
					out = append(out, "<unset>")
					continue
				}
				out = append(out, strconv.FormatInt(num(p, "port"), 10))
			}
			return strings.Join(out, ",")
		}},
		{Name: "Endpoints", Type: "string", Description: "endpoints is a list of unique endpoints in this slice.", Cell: func(o map[string]any, _ time.Time) any {
			var addrs []string
			for _, e := range slice(o, "endpoints") {
				for _, a := range slice(e, "addresses") {
					addrs = append(addrs, fmt.Sprint(a))
				}
			}
			switch {
			case len(addrs) == 0:
				return "<unset>"
			case len(addrs) > 3:
				return fmt.Sprintf("%s + %d more...", strings.Join(addrs[:3], ","), len(addrs)-3)
			}
			return strings.Join(addrs, ",")
		}},
	}}
}

// roleBindingPrinter prints NAME ROLE AGE, and USERS GROUPS
// SERVICEACCOUNTS wide, for RoleBindings and ClusterRoleBindings.
func roleBindingPrinter() *Printer {
	subjects := func(kind string) func(map[string]any, time.Time) any {
		return func(o map[string]any, _ time.Time) any {
			var names []string
			for _, sub := range slice(o, "subjects") {
				if str(sub, "kind") != kind {
					continue
				}
				if kind == "ServiceAccount" {
					names = append(names, str(sub, "namespace")+"/"+str(sub, "name"))
					continue
				}
				names = append(names, str(sub, "name"))
			}
			return strings.Join(names, ", ")
		}
	}
	return &Printer{Columns: []Column{
		{Name: "Role", Type: "string", Description: "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.", Cell: func(o map[string]any, _ time.Time) any {
			return str(o, "roleRef", "kind") + "/" + str(o, "roleRef", "name")
		}},
		{Name: "Users", Type: "string", Wide: true, Description: "Users in the binding", Cell: subjects("User")},
		{Name: "Groups", Type: "string", Wide: true, Description: "Groups in the binding", Cell: subjects("Group")},
		{Name: "ServiceAccounts", Type: "string", Wide: true, Description: "ServiceAccounts in the binding", Cell: subjects("ServiceAccount")},
	}}
}
