package apiserver

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// PriorityClasses, as kube-apiserver serves them (scheduling.k8s.io/v1)
// with the two system classes it creates at start, and its Priority
// admission plugin, which gives each new Pod the priority of its class.

const (
	// highestUserPriority is the largest value a class not named system-*
	// may have.
	highestUserPriority  = 1000000000
	systemPriorityPrefix = "system-"
)

// systemPriorityClasses are the classes kube-apiserver creates.
var systemPriorityClasses = []struct {
	name  string
	value int64
	desc  string
}{
	{"system-node-critical", 2000001000, "Used for system critical pods that must not be moved from their current node."},
	{"system-cluster-critical", 2000000000, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."},
}

func isPriorityClasses(res *Resource) bool {
	return res.Group == "scheduling.k8s.io" && res.Resource == "priorityclasses"
}

// bootstrapPriorityClasses creates the system classes that are missing.
func (s *Server) bootstrapPriorityClasses(ctx context.Context) error {
	res := s.byGV["scheduling.k8s.io/v1"]["priorityclasses"]
	if res == nil {
		return nil
	}
	for _, c := range systemPriorityClasses {
		o := object{
			"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
			"metadata": map[string]any{"name": c.name},
			"value":    c.value, "description": c.desc, "preemptionPolicy": string(corev1.PreemptLowerPriority),
		}
		if _, err := s.create(ctx, res, "", o, false); err != nil && statusOf(err).Reason != "AlreadyExists" {
			return fmt.Errorf("creating priority class %s: %w", c.name, err)
		}
	}
	return nil
}

// validatePriorityClass checks a class as ValidatePriorityClass and
// ValidatePriorityClassUpdate do.
func validatePriorityClass(cur, o object) field.ErrorList {
	var errs field.ErrorList
	name := str(o, "metadata", "name")
	value := num(o, "value")
	if strings.HasPrefix(name, systemPriorityPrefix) {
		known := false
		for _, c := range systemPriorityClasses {
			if c.name == name && c.value == value {
				known = true
			}
		}
		if !known {
			errs = append(errs, field.Forbidden(field.NewPath("metadata", "name"),
				"priority class names with '"+systemPriorityPrefix+"' prefix are reserved for system use only. error: "+
					fmt.Sprintf("%v is not a known system priority class", name)))
		}
	} else if value > highestUserPriority {
		errs = append(errs, field.Forbidden(field.NewPath("value"), fmt.Sprintf("maximum allowed value of a user defined priority is %v", highestUserPriority)))
	}
	switch p := str(o, "preemptionPolicy"); p {
	case "", string(corev1.PreemptLowerPriority), string(corev1.PreemptNever):
	default:
		errs = append(errs, field.NotSupported(field.NewPath("preemptionPolicy"), p, []string{string(corev1.PreemptLowerPriority), string(corev1.PreemptNever)}))
	}
	if cur != nil {
		if num(cur, "value") != value {
			errs = append(errs, field.Forbidden(field.NewPath("value"), "may not be changed in an update."))
		}
		// Compared as defaulted: admission fills an omitted policy in
		// after validation here.
		policy := func(o object) string {
			if p := str(o, "preemptionPolicy"); p != "" {
				return p
			}
			return string(corev1.PreemptLowerPriority)
		}
		if policy(cur) != policy(o) {
			errs = append(errs, field.Invalid(field.NewPath("preemptionPolicy"), policy(o), "field is immutable"))
		}
	}
	return errs
}

// priorityClasses lists every class.
func (s *Server) priorityClasses(ctx context.Context) ([]object, error) {
	res := s.byGV["scheduling.k8s.io/v1"]["priorityclasses"]
	if res == nil {
		return nil, nil
	}
	page, err := s.list(ctx, res, "", nil, 0, "")
	return page.items, err
}

// admitPriorityClass defaults the preemption policy and refuses a second
// global default, as the Priority admission plugin does.
func (s *Server) admitPriorityClass(ctx context.Context, res *Resource, o object) error {
	if str(o, "preemptionPolicy") == "" {
		o["preemptionPolicy"] = string(corev1.PreemptLowerPriority) // SetDefaults_PriorityClass
	}
	if def, _ := get(o, "globalDefault").(bool); !def {
		return nil
	}
	all, err := s.priorityClasses(ctx)
	if err != nil {
		return err
	}
	for _, c := range all {
		if d, _ := get(c, "globalDefault").(bool); d && str(c, "metadata", "name") != str(o, "metadata", "name") {
			return apierrors.NewForbidden(res.GroupResource(), str(o, "metadata", "name"),
				fmt.Errorf("PriorityClass %s is already marked as default. Only one default can exist", str(c, "metadata", "name")))
		}
	}
	return nil
}

// admitPodPriority gives a new Pod the priority and preemption policy of
// its class (or of the global default class, else 0), as the Priority
// admission plugin does: a class that does not exist, or a priority that
// differs from the class's, is refused.
func (s *Server) admitPodPriority(ctx context.Context, res *Resource, o object) error {
	spec := mapOf(o, "spec")
	if spec == nil {
		return nil
	}
	className := str(spec, "priorityClassName")
	var priority int64
	policy := string(corev1.PreemptLowerPriority)
	all, err := s.priorityClasses(ctx)
	if err != nil {
		return err
	}
	found := className == ""
	for _, c := range all {
		def, _ := get(c, "globalDefault").(bool)
		if className == "" && def || className != "" && str(c, "metadata", "name") == className {
			found = true
			priority = num(c, "value")
			if p := str(c, "preemptionPolicy"); p != "" {
				policy = p
			}
			if className == "" {
				spec["priorityClassName"] = str(c, "metadata", "name")
			}
		}
	}
	name := str(o, "metadata", "name")
	if name == "" {
		name = str(o, "metadata", "generateName")
	}
	if !found {
		return apierrors.NewForbidden(res.GroupResource(), name, fmt.Errorf("no PriorityClass with name %s was found", className))
	}
	if _, ok := spec["priority"]; ok && num(spec, "priority") != priority {
		return apierrors.NewForbidden(res.GroupResource(), name, fmt.Errorf("the integer value of priority (%d) must not be provided in pod spec; priority admission controller computed %d from the given PriorityClass name", num(spec, "priority"), priority))
	}
	spec["priority"] = priority
	if _, ok := spec["preemptionPolicy"]; !ok {
		spec["preemptionPolicy"] = policy
	}
	return nil
}
