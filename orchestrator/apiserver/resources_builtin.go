package apiserver

// builtinResources returns the built-in kinds served beyond the first
// table in Resources: cluster infrastructure (nodes, volumes, storage
// classes), quotas, autoscaling, policy, discovery and API extensions. Short
// names, categories and subresources are kube-apiserver's.
func builtinResources() []Resource {
	return []Resource{
		{Version: "v1", Kind: "PersistentVolume", Resource: "persistentvolumes", ShortNames: sn("pv"), Status: true, Printer: pvPrinter()},
		{Version: "v1", Kind: "Node", Resource: "nodes", ShortNames: sn("no"), Status: true, ReturnDeleted: false, FieldLabels: []string{"spec.unschedulable"}, Printer: nodePrinter()},
		{Version: "v1", Kind: "LimitRange", Resource: "limitranges", Namespaced: true, ShortNames: sn("limits"), Printer: createdAtPrinter()},
		{Version: "v1", Kind: "ResourceQuota", Resource: "resourcequotas", Namespaced: true, ShortNames: sn("quota"), Status: true, Printer: resourceQuotaPrinter()},
		{Group: "apps", Version: "v1", Kind: "ControllerRevision", Resource: "controllerrevisions", Namespaced: true, Printer: controllerRevisionPrinter()},
		{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler", Resource: "horizontalpodautoscalers", Namespaced: true, ShortNames: sn("hpa"), Categories: sn("all"), Status: true, Printer: hpaPrinter()},
		// The same objects in autoscaling/v1, after v2 so that v2 is the
		// preferred version (hpaconvert.go).
		{Group: "autoscaling", Version: "v1", Kind: "HorizontalPodAutoscaler", Resource: "horizontalpodautoscalers", Namespaced: true, ShortNames: sn("hpa"), Categories: sn("all"), Status: true, Printer: hpaPrinter(), conv: hpaV1Conversion()},
		{Group: "networking.k8s.io", Version: "v1", Kind: "IngressClass", Resource: "ingressclasses", Printer: ingressClassPrinter()},
		{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy", Resource: "networkpolicies", Namespaced: true, ShortNames: sn("netpol"), Printer: networkPolicyPrinter()},
		{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget", Resource: "poddisruptionbudgets", Namespaced: true, ShortNames: sn("pdb"), Status: true, Printer: pdbPrinter()},
		{Group: "scheduling.k8s.io", Version: "v1", Kind: "PriorityClass", Resource: "priorityclasses", ShortNames: sn("pc"), Printer: priorityClassPrinter()},
		{Group: "storage.k8s.io", Version: "v1", Kind: "StorageClass", Resource: "storageclasses", ShortNames: sn("sc"), Printer: storageClassPrinter()},
		{Group: "discovery.k8s.io", Version: "v1", Kind: "EndpointSlice", Resource: "endpointslices", Namespaced: true, Printer: endpointSlicePrinter()},
		{Group: crdGroup, Version: "v1", Kind: "CustomResourceDefinition", Resource: crdResource, ShortNames: sn("crd", "crds"), Categories: sn("api-extensions"), Status: true, Printer: createdAtPrinter()},
	}
}
