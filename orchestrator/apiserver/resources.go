package apiserver

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
)

// defaultVerbs returns the verbs every resource serves unless its entry
// says otherwise.
func defaultVerbs() []string {
	return []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
}

// Resource describes one served resource: everything discovery, routing,
// storage and printing need to know about it.
type Resource struct {
	// Group is the API group, "" for the core group.
	Group string
	// Version is the API version, for example "v1".
	Version string
	// Kind is the object kind, for example "Deployment".
	Kind string
	// Resource is the plural, lower-case name used in URLs.
	Resource string
	// Singular is the singular name; lower-case Kind when empty.
	Singular string
	// Namespaced says whether objects live in a namespace.
	Namespaced bool
	// ShortNames are kubectl's abbreviations, for example "deploy".
	ShortNames []string
	// Categories are kubectl's groups of resources, for example "all".
	Categories []string
	// Verbs are the verbs served; defaultVerbs when empty.
	Verbs []string
	// Status says the kind has a status subresource: writes to the main
	// resource keep the stored status, writes to /status change only it.
	Status bool
	// Scale says the kind has a scale subresource driven by spec.replicas.
	Scale bool
	// FieldLabels are the field selector labels accepted beyond
	// metadata.name and metadata.namespace, as dotted JSON paths.
	FieldLabels []string
	// NameRule validates metadata.name; DNS-1123 subdomain when nil.
	NameRule func(string) []string
	// ReturnDeleted says DELETE answers with the deleted object rather
	// than a Success Status.
	ReturnDeleted bool
	// Printer gives the Table columns beyond NAME and AGE; nil prints
	// just those two.
	Printer *Printer

	// custom is a custom resource version's schema, nil for the
	// built-in kinds and for versions without one (crdschema.go).
	custom *customSchema
	// otherVersions says the resource is a custom resource whose CRD
	// serves it in more than one version: objects, stored as written,
	// are read with the apiVersion asked for, the None conversion
	// strategy.
	otherVersions bool
	// conv says the resource is a version of a built-in kind whose
	// objects are stored in another version, and converts between them
	// (conversion.go).
	conv *conversion
}

// servedForm gives an object read from the store the apiVersion of the
// version it is read through.
func (r *Resource) servedForm(o object) object {
	if r.otherVersions && o != nil {
		o["apiVersion"] = r.APIVersion()
	}
	return o
}

// sn is shorthand for a list of names (short names, categories).
func sn(names ...string) []string { return names }

// Resources returns the table of served resources. It is built afresh on
// each call so that callers may keep and change their copy.
func Resources() []Resource {
	return append([]Resource{
		{Version: "v1", Kind: "Namespace", Resource: "namespaces", ShortNames: sn("ns"), Status: true, NameRule: validation.IsDNS1123Label, ReturnDeleted: true, FieldLabels: []string{"status.phase"}, Printer: namespacePrinter()},
		{Version: "v1", Kind: "ConfigMap", Resource: "configmaps", Namespaced: true, ShortNames: sn("cm"), Printer: configMapPrinter()},
		{Version: "v1", Kind: "Secret", Resource: "secrets", Namespaced: true, FieldLabels: []string{"type"}, Printer: secretPrinter()},
		{Version: "v1", Kind: "Service", Resource: "services", Namespaced: true, ShortNames: sn("svc"), Categories: sn("all"), Status: true, NameRule: validation.IsDNS1035Label, Printer: servicePrinter()},
		{Version: "v1", Kind: "Pod", Resource: "pods", Namespaced: true, ShortNames: sn("po"), Categories: sn("all"), Status: true, ReturnDeleted: true, FieldLabels: []string{"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.phase", "status.podIP", "status.nominatedNodeName"}, Printer: podPrinter()},
		{Version: "v1", Kind: "ServiceAccount", Resource: "serviceaccounts", Namespaced: true, ShortNames: sn("sa")},
		{Version: "v1", Kind: "Event", Resource: "events", Namespaced: true, ShortNames: sn("ev"), FieldLabels: []string{"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"}, Printer: eventPrinter()},
		{Version: "v1", Kind: "Endpoints", Resource: "endpoints", Singular: "endpoints", Namespaced: true, ShortNames: sn("ep"), Printer: endpointsPrinter()},
		{Version: "v1", Kind: "PersistentVolumeClaim", Resource: "persistentvolumeclaims", Namespaced: true, ShortNames: sn("pvc"), Status: true, Printer: pvcPrinter()},
		{Group: "apps", Version: "v1", Kind: "Deployment", Resource: "deployments", Namespaced: true, ShortNames: sn("deploy"), Categories: sn("all"), Status: true, Scale: true, Printer: deploymentPrinter()},
		{Group: "apps", Version: "v1", Kind: "ReplicaSet", Resource: "replicasets", Namespaced: true, ShortNames: sn("rs"), Categories: sn("all"), Status: true, Scale: true, Printer: replicaSetPrinter()},
		{Group: "apps", Version: "v1", Kind: "StatefulSet", Resource: "statefulsets", Namespaced: true, ShortNames: sn("sts"), Categories: sn("all"), Status: true, Scale: true, Printer: statefulSetPrinter()},
		{Group: "apps", Version: "v1", Kind: "DaemonSet", Resource: "daemonsets", Namespaced: true, ShortNames: sn("ds"), Categories: sn("all"), Status: true, Printer: daemonSetPrinter()},
		{Group: "batch", Version: "v1", Kind: "Job", Resource: "jobs", Namespaced: true, Categories: sn("all"), Status: true, Printer: jobPrinter()},
		{Group: "batch", Version: "v1", Kind: "CronJob", Resource: "cronjobs", Namespaced: true, ShortNames: sn("cj"), Categories: sn("all"), Status: true, Printer: cronJobPrinter()},
		{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress", Resource: "ingresses", Namespaced: true, ShortNames: sn("ing"), Status: true, Printer: ingressPrinter()},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role", Resource: "roles", NameRule: pathSegmentName, Namespaced: true, Printer: createdAtPrinter()},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "RoleBinding", Resource: "rolebindings", NameRule: pathSegmentName, Namespaced: true, Printer: roleBindingPrinter()},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole", Resource: "clusterroles", NameRule: pathSegmentName, Printer: createdAtPrinter()},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding", Resource: "clusterrolebindings", NameRule: pathSegmentName, Printer: roleBindingPrinter()},
		{Group: "coordination.k8s.io", Version: "v1", Kind: "Lease", Resource: "leases", Namespaced: true, Printer: leasePrinter()},
		// Questions to the authorizer, answered and never stored
		// (accessreview.go): kubectl auth can-i asks them.
		{Group: "authorization.k8s.io", Version: "v1", Kind: "SelfSubjectAccessReview", Resource: "selfsubjectaccessreviews", Verbs: []string{"create"}},
		{Group: "authorization.k8s.io", Version: "v1", Kind: "SelfSubjectRulesReview", Resource: "selfsubjectrulesreviews", Verbs: []string{"create"}},
		{Group: "authorization.k8s.io", Version: "v1", Kind: "SubjectAccessReview", Resource: "subjectaccessreviews", Verbs: []string{"create"}},
		{Group: "authorization.k8s.io", Version: "v1", Kind: "LocalSubjectAccessReview", Resource: "localsubjectaccessreviews", Namespaced: true, Verbs: []string{"create"}},
		// Who am I (kubectl auth whoami), answered and never stored.
		{Group: "authentication.k8s.io", Version: "v1", Kind: "SelfSubjectReview", Resource: "selfsubjectreviews", Verbs: []string{"create"}},
	}, builtinResources()...)
}

// GroupVersion returns the resource's group and version.
func (r *Resource) GroupVersion() schema.GroupVersion {
	return schema.GroupVersion{Group: r.Group, Version: r.Version}
}

// GroupVersionKind returns the resource's kind with its group and version.
func (r *Resource) GroupVersionKind() schema.GroupVersionKind {
	return r.GroupVersion().WithKind(r.Kind)
}

// GroupResource returns the resource's group and plural name, the form
// Kubernetes' error messages use ("deployments.apps").
func (r *Resource) GroupResource() schema.GroupResource {
	return schema.GroupResource{Group: r.Group, Resource: r.Resource}
}

// APIVersion returns "GROUP/VERSION", or "VERSION" for the core group.
func (r *Resource) APIVersion() string { return r.GroupVersion().String() }

// singular returns the singular name.
func (r *Resource) singular() string {
	if r.Singular != "" {
		return r.Singular
	}
	return strings.ToLower(r.Kind)
}

// verbs returns the verbs served.
func (r *Resource) verbs() []string {
	if len(r.Verbs) > 0 {
		return r.Verbs
	}
	return defaultVerbs()
}

// serves reports whether verb is served.
func (r *Resource) serves(verb string) bool {
	for _, v := range r.verbs() {
		if v == verb {
			return true
		}
	}
	return false
}

// pathSegmentName is the name rule of RBAC objects (kube-apiserver's
// path.IsValidPathSegmentName): anything that is one path segment, so
// "system:discovery" is a valid ClusterRole name.
func pathSegmentName(name string) []string {
	var errs []string
	switch name {
	case ".", "..":
		errs = append(errs, fmt.Sprintf("may not be '%s'", name))
	}
	for _, illegal := range []string{"/", "%"} {
		if strings.Contains(name, illegal) {
			errs = append(errs, fmt.Sprintf("may not contain '%s'", illegal))
		}
	}
	return errs
}

// validateName returns the problems with name, none when it is valid.
func (r *Resource) validateName(name string) []string {
	if r.NameRule != nil {
		return r.NameRule(name)
	}
	return validation.IsDNS1123Subdomain(name)
}

// keyPrefix returns the storage prefix of the resource's objects in
// namespace ns, or of all of them when ns is empty. It ends with a slash.
func (r *Resource) keyPrefix(ns string) string {
	var b strings.Builder
	b.WriteString("/registry/")
	if r.Group != "" {
		b.WriteString(r.Group)
		b.WriteByte('/')
	}
	b.WriteString(r.Resource)
	b.WriteByte('/')
	if r.Namespaced && ns != "" {
		b.WriteString(ns)
		b.WriteByte('/')
	}
	return b.String()
}

// key returns the storage key of one object.
func (r *Resource) key(ns, name string) string {
	return r.keyPrefix(ns) + name
}

// fieldLabelAllowed reports whether a field selector may use label.
func (r *Resource) fieldLabelAllowed(label string) bool {
	if label == "metadata.name" || (label == "metadata.namespace" && r.Namespaced) {
		return true
	}
	for _, l := range r.FieldLabels {
		if l == label {
			return true
		}
	}
	return false
}
