package apiserver

import (
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"pkg.dev/pkg/orchestrator/internal/cron"
)

// The workloads' validation follows kube-apiserver's
// (k8s.io/kubernetes pkg/apis/apps/validation and pkg/apis/batch/validation)
// for its most common rules, with its messages and field paths: the
// selector given, valid and matching the template, counts not negative,
// the rollout strategy sound, a template (and a Pod's spec) with
// containers, volumes, mounts, ports, resources and a restart policy the
// kind runs (validatePodSpecBasics), its labels and annotations, the
// fields Kubernetes makes immutable unchanged, and a CronJob's schedule,
// time zone and name length. The values in messages render as
// apimachinery renders them (JSON). Not checked: each volume source's own
// fields, probes, security contexts and the rest of a pod spec, and the
// rules of the rarer features (pod failure policies, success policies,
// backoff per index).

// validateWorkload validates a Deployment, ReplicaSet, StatefulSet,
// DaemonSet, Job or CronJob written through its main resource; ok is false
// for other kinds.
//
// An update that leaves the spec as stored is not validated: only an
// object stored before these rules existed can be invalid, and it must
// stay possible to change its metadata (finalizers, owners, labels) and to
// delete it.
func validateWorkload(kind string, cur, o object) (errs field.ErrorList, ok bool, err error) {
	update := cur != nil
	if update && equalJSON(specOf(cur), specOf(o)) {
		switch kind {
		case "apps/v1/Deployment", "apps/v1/ReplicaSet", "apps/v1/StatefulSet", "apps/v1/DaemonSet", "batch/v1/Job", "batch/v1/CronJob":
			return nil, true, nil
		}
	}
	// decode converts o into newObj and, on update, cur into oldObj
	// (nil: not needed).
	decode := func(newObj, oldObj any) error {
		if err := fromObject(o, newObj); err != nil {
			return err
		}
		if update && oldObj != nil {
			return fromObject(cur, oldObj)
		}
		return nil
	}
	// Where the stored object matters only for its immutable selector,
	// it is converted only when the selector was written differently:
	// a selector equal as JSON is equal as a Go value (a Helm upgrade
	// patches Deployments with their selector untouched).
	selectorChanged := update && !equalJSON(get(cur, "spec", "selector"), get(o, "spec", "selector"))
	oldFor := func(old any) any {
		if selectorChanged {
			return old
		}
		return nil
	}
	switch kind {
	case "apps/v1/Deployment":
		var d, old appsv1.Deployment
		if err := decode(&d, oldFor(&old)); err != nil {
			return nil, true, err
		}
		errs = validateDeploymentSpec(&d.Spec, field.NewPath("spec"))
		if selectorChanged {
			errs = append(errs, validateImmutable(d.Spec.Selector, old.Spec.Selector, field.NewPath("spec", "selector"))...)
		}
	case "apps/v1/ReplicaSet":
		var rs, old appsv1.ReplicaSet
		if err := decode(&rs, oldFor(&old)); err != nil {
			return nil, true, err
		}
		errs = validateReplicaSetSpec(&rs.Spec, field.NewPath("spec"))
		if selectorChanged {
			errs = append(errs, validateImmutable(rs.Spec.Selector, old.Spec.Selector, field.NewPath("spec", "selector"))...)
		}
	case "apps/v1/StatefulSet":
		var s, old appsv1.StatefulSet
		if err := decode(&s, &old); err != nil {
			return nil, true, err
		}
		errs = validateStatefulSetSpec(&s.Spec, field.NewPath("spec"))
		if update {
			errs = append(errs, validateStatefulSetUpdate(&s.Spec, &old.Spec)...)
		}
	case "apps/v1/DaemonSet":
		var ds, old appsv1.DaemonSet
		if err := decode(&ds, oldFor(&old)); err != nil {
			return nil, true, err
		}
		errs = validateDaemonSetSpec(&ds.Spec, field.NewPath("spec"))
		if selectorChanged {
			errs = append(errs, validateImmutable(ds.Spec.Selector, old.Spec.Selector, field.NewPath("spec", "selector"))...)
		}
	case "batch/v1/Job":
		var j, old batchv1.Job
		if err := decode(&j, &old); err != nil {
			return nil, true, err
		}
		errs = validateJobSpecWithSelector(&j.Spec, field.NewPath("spec"))
		if update {
			errs = append(errs, validateJobSpecUpdate(&j, &old)...)
		}
	case "batch/v1/CronJob":
		var cj, old batchv1.CronJob
		if err := decode(&cj, &old); err != nil {
			return nil, true, err
		}
		var oldSpec *batchv1.CronJobSpec
		if update {
			oldSpec = &old.Spec
		}
		errs = validateCronJobSpec(&cj.Spec, oldSpec, field.NewPath("spec"))
		// Its Jobs are named NAME-<11 characters of schedule time>, which
		// must fit a label: kube-apiserver refuses longer names at create.
		if !update && len(cj.Name) > 63-11 {
			errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), cj.Name, "must be no more than 52 characters"))
		}
	default:
		return nil, false, nil
	}
	return errs, true, nil
}

// Kubernetes' messages.
const (
	isNegativeErrorMsg    = "must be greater than or equal to 0"
	fieldImmutableMessage = "field is immutable"
	selectorMismatchMsg   = "`selector` does not match template `labels`"
)

// validateNonnegative is apivalidation.ValidateNonnegativeField.
func validateNonnegative(v int64, fld *field.Path) field.ErrorList {
	if v < 0 {
		return field.ErrorList{field.Invalid(fld, v, isNegativeErrorMsg)}
	}
	return nil
}

// validateImmutable is apivalidation.ValidateImmutableField.
func validateImmutable(newVal, oldVal any, fld *field.Path) field.ErrorList {
	if !equality.Semantic.DeepEqual(oldVal, newVal) {
		return field.ErrorList{field.Invalid(fld, newVal, fieldImmutableMessage)}
	}
	return nil
}

func int32Value(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

// validateWorkloadSelector checks a required, non-empty, valid selector
// and returns it as a labels.Selector, nil when it cannot be made one.
// emptyMsg is the kind's message for an empty selector, badMsg its message
// for one LabelSelectorAsSelector refuses.
func validateWorkloadSelector(sel *metav1.LabelSelector, fld *field.Path, emptyMsg, badMsg string) (labels.Selector, field.ErrorList) {
	var errs field.ErrorList
	if sel == nil {
		errs = append(errs, field.Required(fld, ""))
	} else {
		errs = append(errs, metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, fld)...)
		if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
			errs = append(errs, field.Invalid(fld, sel, emptyMsg))
		}
	}
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		errs = append(errs, field.Invalid(fld, sel, badMsg))
		return nil, errs
	}
	return selector, errs
}

// validateTemplateForWorkload is ValidatePodTemplateSpecForReplicaSet: the
// selector matches the template's labels, the pod spec is valid and its
// pods restart Always. kind names the kind in the activeDeadlineSeconds
// message ("" for the StatefulSet's own).
func validateTemplateForWorkload(t *corev1.PodTemplateSpec, selector labels.Selector, fld *field.Path, kind string) field.ErrorList {
	var errs field.ErrorList
	if !selector.Empty() && !selector.Matches(labels.Set(t.Labels)) {
		errs = append(errs, field.Invalid(fld.Child("metadata", "labels"), t.Labels, selectorMismatchMsg))
	}
	errs = append(errs, validateTemplateMeta(t, fld)...)
	errs = append(errs, validatePodSpecBasics(&t.Spec, fld.Child("spec"))...)
	if t.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(fld.Child("spec", "restartPolicy"), t.Spec.RestartPolicy, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		msg := "must not be specified"
		if kind != "" {
			msg = "activeDeadlineSeconds in " + kind + " is not Supported"
		}
		errs = append(errs, field.Invalid(fld.Child("spec", "activeDeadlineSeconds"), t.Spec.ActiveDeadlineSeconds, msg))
	}
	return errs
}

// validateTemplateMeta checks a pod template's labels and annotations as
// ValidatePodTemplateSpec does, at its paths: spec.template.labels and
// spec.template.annotations, without "metadata".
func validateTemplateMeta(t *corev1.PodTemplateSpec, fld *field.Path) field.ErrorList {
	errs := metav1validation.ValidateLabels(t.Labels, fld.Child("labels"))
	return append(errs, apivalidation.ValidateAnnotations(t.Annotations, fld.Child("annotations"))...)
}

// validateContainerParts checks a container's mounts, ports, resources
// and environment; volumes are the Pod's volume names, portNames the
// port names seen so far in the Pod.
func validateContainerParts(c *corev1.Container, fld *field.Path, volumes, portNames sets.Set[string]) field.ErrorList {
	var errs field.ErrorList
	paths := sets.New[string]()
	for j, m := range c.VolumeMounts {
		mp := fld.Child("volumeMounts").Index(j)
		switch {
		case m.Name == "":
			errs = append(errs, field.Required(mp.Child("name"), ""))
		case !volumes.Has(m.Name):
			errs = append(errs, field.NotFound(mp.Child("name"), m.Name))
		}
		switch {
		case m.MountPath == "":
			errs = append(errs, field.Required(mp.Child("mountPath"), ""))
		case paths.Has(m.MountPath):
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		paths.Insert(m.MountPath)
	}
	for j, p := range c.Ports {
		pp := fld.Child("ports").Index(j)
		if p.Name != "" {
			for _, msg := range validation.IsValidPortName(p.Name) {
				errs = append(errs, field.Invalid(pp.Child("name"), p.Name, msg))
			}
			if portNames.Has(p.Name) {
				errs = append(errs, field.Duplicate(pp.Child("name"), p.Name))
			}
			portNames.Insert(p.Name)
		}
		if p.ContainerPort == 0 {
			errs = append(errs, field.Required(pp.Child("containerPort"), ""))
		} else {
			for _, msg := range validation.IsValidPortNum(int(p.ContainerPort)) {
				errs = append(errs, field.Invalid(pp.Child("containerPort"), p.ContainerPort, msg))
			}
		}
		if p.HostPort != 0 {
			for _, msg := range validation.IsValidPortNum(int(p.HostPort)) {
				errs = append(errs, field.Invalid(pp.Child("hostPort"), p.HostPort, msg))
			}
		}
		switch p.Protocol {
		case "":
			errs = append(errs, field.Required(pp.Child("protocol"), ""))
		case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		default:
			errs = append(errs, field.NotSupported(pp.Child("protocol"), p.Protocol, []corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}))
		}
	}
	reqPath := fld.Child("resources", "requests")
	for _, name := range slices.Sorted(maps.Keys(c.Resources.Requests)) {
		q := c.Resources.Requests[name]
		if limit, ok := c.Resources.Limits[name]; ok && q.Cmp(limit) > 0 {
			errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		}
	}
	for j, e := range c.Env {
		if e.Name == "" {
			errs = append(errs, field.Required(fld.Child("env").Index(j).Child("name"), ""))
		}
	}
	return errs
}

// validateContainerHooks checks a container's lifecycle handlers and
// probes as kube-apiserver does: each names exactly one handler (a probe
// whose handler changed kind across an upgrade, merged into having two,
// is the classic case), with a command, a port and a scheme that can
// work; probe periods and thresholds not negative; liveness and startup
// probes succeeding once. An init container that is not a sidecar
// (restartPolicy Always) may have none of them.
func validateContainerHooks(c *corev1.Container, fld *field.Path, init bool) field.ErrorList {
	var errs field.ErrorList
	if init && (c.RestartPolicy == nil || *c.RestartPolicy != corev1.ContainerRestartPolicyAlways) {
		const msg = "may not be set for init containers without restartPolicy=Always"
		if c.Lifecycle != nil {
			errs = append(errs, field.Forbidden(fld.Child("lifecycle"), msg))
		}
		if c.LivenessProbe != nil {
			errs = append(errs, field.Forbidden(fld.Child("livenessProbe"), msg))
		}
		if c.ReadinessProbe != nil {
			errs = append(errs, field.Forbidden(fld.Child("readinessProbe"), msg))
		}
		if c.StartupProbe != nil {
			errs = append(errs, field.Forbidden(fld.Child("startupProbe"), msg))
		}
		return errs
	}
	if l := c.Lifecycle; l != nil {
		for _, h := range []struct {
			name string
			h    *corev1.LifecycleHandler
		}{{"postStart", l.PostStart}, {"preStop", l.PreStop}} {
			if h.h == nil {
				continue
			}
			hp := fld.Child("lifecycle", h.name)
			errs = append(errs, validateHandlers(hp, &corev1.ProbeHandler{Exec: h.h.Exec, HTTPGet: h.h.HTTPGet, TCPSocket: h.h.TCPSocket}, h.h.Sleep != nil)...)
			if h.h.Sleep != nil && h.h.Sleep.Seconds < 0 {
				errs = append(errs, field.Invalid(hp.Child("sleep", "seconds"), h.h.Sleep.Seconds, "must be non-negative"))
			}
		}
	}
	for _, p := range []struct {
		name string
		p    *corev1.Probe
	}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}} {
		if p.p == nil {
			continue
		}
		pp := fld.Child(p.name)
		errs = append(errs, validateHandlers(pp, &p.p.ProbeHandler, false)...)
		for _, n := range []struct {
			name string
			v    int32
		}{{"initialDelaySeconds", p.p.InitialDelaySeconds}, {"timeoutSeconds", p.p.TimeoutSeconds}, {"periodSeconds", p.p.PeriodSeconds}, {"successThreshold", p.p.SuccessThreshold}, {"failureThreshold", p.p.FailureThreshold}} {
			errs = append(errs, validateNonnegative(int64(n.v), pp.Child(n.name))...)
		}
		if g := p.p.TerminationGracePeriodSeconds; g != nil && *g <= 0 {
			errs = append(errs, field.Invalid(pp.Child("terminationGracePeriodSeconds"), *g, "must be greater than 0"))
		}
		if p.name != "readinessProbe" && p.p.SuccessThreshold != 1 {
			errs = append(errs, field.Invalid(pp.Child("successThreshold"), p.p.SuccessThreshold, "must be 1"))
		}
		if p.name == "readinessProbe" && p.p.TerminationGracePeriodSeconds != nil {
			errs = append(errs, field.Invalid(pp.Child("terminationGracePeriodSeconds"), *p.p.TerminationGracePeriodSeconds, "must not be set for readinessProbes"))
		}
	}
	return errs
}

// validateHandlers checks that h (sleep: a lifecycle handler's sleep is
// set too) names exactly one handler, and the one it names.
func validateHandlers(fld *field.Path, h *corev1.ProbeHandler, sleep bool) field.ErrorList {
	var errs field.ErrorList
	n := 0
	one := func(name string) bool {
		n++
		if n > 1 {
			errs = append(errs, field.Forbidden(fld.Child(name), "may not specify more than 1 handler type"))
			return false
		}
		return true
	}
	if h.Exec != nil && one("exec") && len(h.Exec.Command) == 0 {
		errs = append(errs, field.Required(fld.Child("exec", "command"), ""))
	}
	if h.HTTPGet != nil && one("httpGet") {
		g, gp := h.HTTPGet, fld.Child("httpGet")
		if g.Path == "" {
			errs = append(errs, field.Required(gp.Child("path"), ""))
		}
		errs = append(errs, validatePortNumOrName(g.Port, gp.Child("port"))...)
		if g.Scheme != corev1.URISchemeHTTP && g.Scheme != corev1.URISchemeHTTPS {
			errs = append(errs, field.NotSupported(gp.Child("scheme"), g.Scheme, []string{string(corev1.URISchemeHTTP), string(corev1.URISchemeHTTPS)}))
		}
		for _, hd := range g.HTTPHeaders {
			for _, msg := range validation.IsHTTPHeaderName(hd.Name) {
				errs = append(errs, field.Invalid(gp.Child("httpHeaders"), hd.Name, msg))
			}
		}
	}
	if h.TCPSocket != nil && one("tcpSocket") {
		errs = append(errs, validatePortNumOrName(h.TCPSocket.Port, fld.Child("tcpSocket", "port"))...)
	}
	if h.GRPC != nil && one("grpc") {
		for _, msg := range validation.IsValidPortNum(int(h.GRPC.Port)) {
			errs = append(errs, field.Invalid(fld.Child("grpc", "port"), h.GRPC.Port, msg))
		}
	}
	if sleep {
		one("sleep")
	}
	if n == 0 {
		errs = append(errs, field.Required(fld, "must specify a handler type"))
	}
	return errs
}

// validateVolumeType checks that a volume names exactly one source, as
// kube-apiserver does: a chart whose conditions render a volume with no
// source ("- name: data" when persistence and emptyDir are both off) or
// two is refused there.
func validateVolumeType(src *corev1.VolumeSource, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	v := reflect.ValueOf(src).Elem()
	for i := range v.NumField() {
		if v.Field(i).IsNil() {
			continue
		}
		if n++; n > 1 {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
			errs = append(errs, field.Forbidden(fld.Child(name), "may not specify more than 1 volume type"))
		}
	}
	if n == 0 {
		errs = append(errs, field.Required(fld, "must specify a volume type"))
	}
	return errs
}

// validatePortNumOrName checks a port given by number or by name.
func validatePortNumOrName(p intstr.IntOrString, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if p.Type == intstr.String {
		for _, msg := range validation.IsValidPortName(p.StrVal) {
			errs = append(errs, field.Invalid(fld, p.StrVal, msg))
		}
		return errs
	}
	for _, msg := range validation.IsValidPortNum(p.IntValue()) {
		errs = append(errs, field.Invalid(fld, p.IntValue(), msg))
	}
	return errs
}

var restartPolicies = []corev1.RestartPolicy{corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}

// validatePodSpecBasics checks the parts of a pod spec every workload
// needs, with kube-apiserver's paths and words: containers, each named (a
// DNS label, unique) and with an image; volumes named once; each
// container's mounts naming a volume at a path of their own, its ports in
// range with a known protocol and unique names, its requests within its
// limits, its environment variables named, its probes and hooks
// (validateContainerHooks); a known restart policy; a
// positive activeDeadlineSeconds. These are the mistakes charts make
// that a real cluster refuses at install.
func validatePodSpecBasics(s *corev1.PodSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	volumes := sets.New[string]()
	for i, v := range s.Volumes {
		vp := fld.Child("volumes").Index(i).Child("name")
		switch {
		case v.Name == "":
			errs = append(errs, field.Required(vp, ""))
		case volumes.Has(v.Name):
			errs = append(errs, field.Duplicate(vp, v.Name))
		default:
			for _, msg := range validation.IsDNS1123Label(v.Name) {
				errs = append(errs, field.Invalid(vp, v.Name, msg))
			}
		}
		errs = append(errs, validateVolumeType(&v.VolumeSource, fld.Child("volumes").Index(i))...)
		volumes.Insert(v.Name)
	}
	portNames := sets.New[string]()
	names := sets.New[string]()
	check := func(cs []corev1.Container, fld *field.Path, init bool) {
		for i, c := range cs {
			ip := fld.Index(i)
			errs = append(errs, validateContainerParts(&c, ip, volumes, portNames)...)
			errs = append(errs, validateContainerHooks(&c, ip, init)...)
			if c.Name == "" {
				errs = append(errs, field.Required(ip.Child("name"), ""))
			} else {
				for _, msg := range validation.IsDNS1123Label(c.Name) {
					errs = append(errs, field.Invalid(ip.Child("name"), c.Name, msg))
				}
				if names.Has(c.Name) {
					errs = append(errs, field.Duplicate(ip.Child("name"), c.Name))
				}
				names.Insert(c.Name)
			}
			if c.Image == "" {
				errs = append(errs, field.Required(ip.Child("image"), ""))
			}
		}
	}
	check(s.InitContainers, fld.Child("initContainers"), true)
	if len(s.Containers) == 0 {
		errs = append(errs, field.Required(fld.Child("containers"), ""))
	}
	check(s.Containers, fld.Child("containers"), false)
	switch s.RestartPolicy {
	case "":
		errs = append(errs, field.Required(fld.Child("restartPolicy"), ""))
	case corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever:
	default:
		errs = append(errs, field.NotSupported(fld.Child("restartPolicy"), s.RestartPolicy, restartPolicies))
	}
	if d := s.ActiveDeadlineSeconds; d != nil && *d <= 0 {
		errs = append(errs, field.Invalid(fld.Child("activeDeadlineSeconds"), *d, validation.InclusiveRangeError(1, 1<<31-1)))
	}
	return errs
}

func validateDeploymentSpec(spec *appsv1.DeploymentSpec, fld *field.Path) field.ErrorList {
	errs := validateNonnegative(int64(int32Value(spec.Replicas, 1)), fld.Child("replicas"))
	selector, serrs := validateWorkloadSelector(spec.Selector, fld.Child("selector"), "empty selector is invalid for deployment", "invalid label selector")
	errs = append(errs, serrs...)
	if selector != nil {
		errs = append(errs, validateTemplateForWorkload(&spec.Template, selector, fld.Child("template"), "Deployment")...)
	}
	errs = append(errs, validateDeploymentStrategy(&spec.Strategy, fld.Child("strategy"))...)
	errs = append(errs, validateNonnegative(int64(spec.MinReadySeconds), fld.Child("minReadySeconds"))...)
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, validateNonnegative(int64(*spec.RevisionHistoryLimit), fld.Child("revisionHistoryLimit"))...)
	}
	if p := spec.ProgressDeadlineSeconds; p != nil {
		errs = append(errs, validateNonnegative(int64(*p), fld.Child("progressDeadlineSeconds"))...)
		if *p <= spec.MinReadySeconds {
			errs = append(errs, field.Invalid(fld.Child("progressDeadlineSeconds"), *p, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

func validateDeploymentStrategy(s *appsv1.DeploymentStrategy, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch s.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if s.RollingUpdate != nil {
			errs = append(errs, field.Forbidden(fld.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
		if s.RollingUpdate == nil {
			return append(errs, field.Required(fld.Child("rollingUpdate"), "this should be defaulted and never be nil"))
		}
		fp := fld.Child("rollingUpdate")
		unavailable, surge := intOrZero(s.RollingUpdate.MaxUnavailable), intOrZero(s.RollingUpdate.MaxSurge)
		errs = append(errs, validatePositiveIntOrPercent(unavailable, fp.Child("maxUnavailable"))...)
		errs = append(errs, validatePositiveIntOrPercent(surge, fp.Child("maxSurge"))...)
		if intOrPercentValue(unavailable) == 0 && intOrPercentValue(surge) == 0 {
			errs = append(errs, field.Invalid(fp.Child("maxUnavailable"), unavailable, "may not be 0 when `maxSurge` is 0"))
		}
		errs = append(errs, notMoreThan100Percent(unavailable, fp.Child("maxUnavailable"))...)
	default:
		errs = append(errs, field.NotSupported(fld, s, []appsv1.DeploymentStrategyType{appsv1.RecreateDeploymentStrategyType, appsv1.RollingUpdateDeploymentStrategyType}))
	}
	return errs
}

func intOrZero(p *intstr.IntOrString) intstr.IntOrString {
	if p == nil {
		return intstr.FromInt32(0)
	}
	return *p
}

func validatePositiveIntOrPercent(v intstr.IntOrString, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch v.Type {
	case intstr.String:
		for _, msg := range validation.IsValidPercent(v.StrVal) {
			errs = append(errs, field.Invalid(fld, v, msg))
		}
	case intstr.Int:
		errs = append(errs, validateNonnegative(int64(v.IntValue()), fld)...)
	default:
		errs = append(errs, field.Invalid(fld, v, "must be an integer or percentage (e.g '5%')"))
	}
	return errs
}

// percentValue returns a valid percentage's number.
func percentValue(v intstr.IntOrString) (int, bool) {
	if v.Type != intstr.String || len(validation.IsValidPercent(v.StrVal)) != 0 {
		return 0, false
	}
	n, _ := strconv.Atoi(v.StrVal[:len(v.StrVal)-1])
	return n, true
}

func intOrPercentValue(v intstr.IntOrString) int {
	if n, ok := percentValue(v); ok {
		return n
	}
	return v.IntValue()
}

func notMoreThan100Percent(v intstr.IntOrString, fld *field.Path) field.ErrorList {
	if n, ok := percentValue(v); ok && n > 100 {
		return field.ErrorList{field.Invalid(fld, v, "must not be greater than 100%")}
	}
	return nil
}

func validateReplicaSetSpec(spec *appsv1.ReplicaSetSpec, fld *field.Path) field.ErrorList {
	errs := validateNonnegative(int64(int32Value(spec.Replicas, 1)), fld.Child("replicas"))
	errs = append(errs, validateNonnegative(int64(spec.MinReadySeconds), fld.Child("minReadySeconds"))...)
	selector, serrs := validateWorkloadSelector(spec.Selector, fld.Child("selector"), "empty selector is invalid for deployment", "invalid label selector")
	errs = append(errs, serrs...)
	if selector != nil {
		errs = append(errs, validateTemplateForWorkload(&spec.Template, selector, fld.Child("template"), "ReplicaSet")...)
	}
	return errs
}

var (
	podManagementPolicies = []appsv1.PodManagementPolicyType{appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement}
	stsUpdateStrategies   = []appsv1.StatefulSetUpdateStrategyType{appsv1.RollingUpdateStatefulSetStrategyType, appsv1.OnDeleteStatefulSetStrategyType}
)

func validateStatefulSetSpec(spec *appsv1.StatefulSetSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch spec.PodManagementPolicy {
	case "":
		errs = append(errs, field.Required(fld.Child("podManagementPolicy"), ""))
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		errs = append(errs, field.NotSupported(fld.Child("podManagementPolicy"), spec.PodManagementPolicy, podManagementPolicies))
	}
	up := fld.Child("updateStrategy")
	switch spec.UpdateStrategy.Type {
	case "":
		errs = append(errs, field.Required(up, ""))
	case appsv1.OnDeleteStatefulSetStrategyType:
		if spec.UpdateStrategy.RollingUpdate != nil {
			errs = append(errs, field.Invalid(up.Child("rollingUpdate"), spec.UpdateStrategy.RollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"))
		}
	case appsv1.RollingUpdateStatefulSetStrategyType:
		if ru := spec.UpdateStrategy.RollingUpdate; ru != nil {
			if ru.Partition != nil {
				errs = append(errs, validateNonnegative(int64(*ru.Partition), up.Child("rollingUpdate", "partition"))...)
			}
			if ru.MaxUnavailable != nil {
				mp := up.Child("rollingUpdate", "maxUnavailable")
				errs = append(errs, validatePositiveIntOrPercent(*ru.MaxUnavailable, mp)...)
				if intOrPercentValue(*ru.MaxUnavailable) == 0 {
					errs = append(errs, field.Invalid(mp, *ru.MaxUnavailable, "cannot be 0"))
				}
				errs = append(errs, notMoreThan100Percent(*ru.MaxUnavailable, mp)...)
			}
		}
	default:
		errs = append(errs, field.NotSupported(up, spec.UpdateStrategy, stsUpdateStrategies))
	}
	errs = append(errs, validateNonnegative(int64(int32Value(spec.Replicas, 1)), fld.Child("replicas"))...)
	errs = append(errs, validateNonnegative(int64(spec.MinReadySeconds), fld.Child("minReadySeconds"))...)
	if spec.Ordinals != nil {
		errs = append(errs, validateNonnegative(int64(spec.Ordinals.Start), fld.Child("ordinals", "start"))...)
	}
	selector, serrs := validateWorkloadSelector(spec.Selector, fld.Child("selector"), "empty selector is invalid for statefulset", "")
	errs = append(errs, serrs...)
	if selector != nil {
		// The controller gives each Pod a volume per claim template (in
		// place of a template volume of the same name): the template's
		// mounts may name them.
		t := &spec.Template
		for _, c := range spec.VolumeClaimTemplates {
			if !slices.ContainsFunc(t.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == c.Name }) {
				if t == &spec.Template {
					t = spec.Template.DeepCopy()
				}
				t.Spec.Volumes = append(t.Spec.Volumes, corev1.Volume{Name: c.Name,
					VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c.Name}}})
			}
		}
		errs = append(errs, validateTemplateForWorkload(t, selector, fld.Child("template"), "")...)
	}
	return errs
}

// validateStatefulSetUpdate refuses changes to a StatefulSet's spec other
// than those Kubernetes allows.
func validateStatefulSetUpdate(spec, old *appsv1.StatefulSetSpec) field.ErrorList {
	c := spec.DeepCopy()
	c.Replicas = old.Replicas
	c.Template = old.Template
	c.UpdateStrategy = old.UpdateStrategy
	c.MinReadySeconds = old.MinReadySeconds
	c.Ordinals = old.Ordinals
	c.RevisionHistoryLimit = old.RevisionHistoryLimit
	c.PersistentVolumeClaimRetentionPolicy = old.PersistentVolumeClaimRetentionPolicy
	if !equality.Semantic.DeepEqual(c, old) {
		return field.ErrorList{field.Forbidden(field.NewPath("spec"), "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")}
	}
	return nil
}

func validateDaemonSetSpec(spec *appsv1.DaemonSetSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, fld.Child("selector"))...)
	selector, err := metav1.LabelSelectorAsSelector(spec.Selector)
	if err == nil && !selector.Matches(labels.Set(spec.Template.Labels)) {
		errs = append(errs, field.Invalid(fld.Child("template", "metadata", "labels"), spec.Template.Labels, selectorMismatchMsg))
	}
	if spec.Selector != nil && len(spec.Selector.MatchLabels)+len(spec.Selector.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(fld.Child("selector"), spec.Selector, "empty selector is invalid for daemonset"))
	}
	tp := fld.Child("template", "spec")
	errs = append(errs, validateTemplateMeta(&spec.Template, fld.Child("template"))...)
	errs = append(errs, validatePodSpecBasics(&spec.Template.Spec, tp)...)
	if spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(tp.Child("restartPolicy"), spec.Template.Spec.RestartPolicy, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if spec.Template.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Invalid(tp.Child("activeDeadlineSeconds"), spec.Template.Spec.ActiveDeadlineSeconds, "activeDeadlineSeconds in DaemonSet is not Supported"))
	}
	errs = append(errs, validateNonnegative(int64(spec.MinReadySeconds), fld.Child("minReadySeconds"))...)
	up := fld.Child("updateStrategy")
	switch spec.UpdateStrategy.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
	case appsv1.RollingUpdateDaemonSetStrategyType:
		ru := spec.UpdateStrategy.RollingUpdate
		if ru == nil {
			errs = append(errs, field.Required(up.Child("rollingUpdate"), ""))
			break
		}
		rp := up.Child("rollingUpdate")
		unavailable, surge := intOrZero(ru.MaxUnavailable), intOrZero(ru.MaxSurge)
		errs = append(errs, validatePositiveIntOrPercent(unavailable, rp.Child("maxUnavailable"))...)
		errs = append(errs, validatePositiveIntOrPercent(surge, rp.Child("maxSurge"))...)
		errs = append(errs, notMoreThan100Percent(unavailable, rp.Child("maxUnavailable"))...)
		errs = append(errs, notMoreThan100Percent(surge, rp.Child("maxSurge"))...)
		hasUnavailable, hasSurge := intOrPercentValue(unavailable) != 0, intOrPercentValue(surge) != 0
		switch {
		case hasUnavailable && hasSurge:
			errs = append(errs, field.Invalid(rp.Child("maxSurge"), surge, "may not be set when maxUnavailable is non-zero"))
		case !hasUnavailable && !hasSurge:
			errs = append(errs, field.Required(rp.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
		}
	default:
		errs = append(errs, field.NotSupported(up, spec.UpdateStrategy, []string{string(appsv1.RollingUpdateDaemonSetStrategyType), string(appsv1.OnDeleteDaemonSetStrategyType)}))
	}
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, validateNonnegative(int64(*spec.RevisionHistoryLimit), fld.Child("revisionHistoryLimit"))...)
	}
	return errs
}

var (
	completionModes   = []batchv1.CompletionMode{batchv1.NonIndexedCompletion, batchv1.IndexedCompletion}
	jobRestartPolicy  = []corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}
	concurrencyPolicy = []batchv1.ConcurrencyPolicy{batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent}
)

// validateJobSpec checks the spec of a Job or of a CronJob's Job template.
func validateJobSpec(spec *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.Parallelism != nil {
		errs = append(errs, validateNonnegative(int64(*spec.Parallelism), fld.Child("parallelism"))...)
	}
	if spec.Completions != nil {
		errs = append(errs, validateNonnegative(int64(*spec.Completions), fld.Child("completions"))...)
	}
	if spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, validateNonnegative(*spec.ActiveDeadlineSeconds, fld.Child("activeDeadlineSeconds"))...)
	}
	if spec.BackoffLimit != nil {
		errs = append(errs, validateNonnegative(int64(*spec.BackoffLimit), fld.Child("backoffLimit"))...)
	}
	if spec.TTLSecondsAfterFinished != nil {
		errs = append(errs, validateNonnegative(int64(*spec.TTLSecondsAfterFinished), fld.Child("ttlSecondsAfterFinished"))...)
	}
	if m := spec.CompletionMode; m != nil {
		switch *m {
		case batchv1.NonIndexedCompletion, batchv1.IndexedCompletion:
		default:
			errs = append(errs, field.NotSupported(fld.Child("completionMode"), *m, completionModes))
		}
		if *m == batchv1.IndexedCompletion && spec.Completions == nil {
			errs = append(errs, field.Required(fld.Child("completions"), "when completion mode is Indexed"))
		}
	}
	tp := fld.Child("template", "spec")
	errs = append(errs, validateTemplateMeta(&spec.Template, fld.Child("template"))...)
	errs = append(errs, validatePodSpecBasics(&spec.Template.Spec, tp)...)
	if p := spec.Template.Spec.RestartPolicy; p != corev1.RestartPolicyOnFailure && p != corev1.RestartPolicyNever {
		errs = append(errs, field.NotSupported(tp.Child("restartPolicy"), p, jobRestartPolicy))
	}
	return errs
}

// validateJobSpecWithSelector is ValidateJobSpec: a Job's spec, whose
// selector (generated unless manualSelector) must match its template.
func validateJobSpecWithSelector(spec *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	errs := validateJobSpec(spec, fld)
	if spec.Selector == nil {
		errs = append(errs, field.Required(fld.Child("selector"), ""))
	} else {
		errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, fld.Child("selector"))...)
	}
	if selector, err := metav1.LabelSelectorAsSelector(spec.Selector); err == nil {
		if !selector.Matches(labels.Set(spec.Template.Labels)) {
			errs = append(errs, field.Invalid(fld.Child("template", "metadata", "labels"), spec.Template.Labels, selectorMismatchMsg))
		}
	}
	return errs
}

// validateJobSpecUpdate refuses changes to a Job's selector, completion
// mode and template; a suspended Job that never started may change its
// template's labels, annotations and scheduling directives.
func validateJobSpecUpdate(j, old *batchv1.Job) field.ErrorList {
	fld := field.NewPath("spec")
	if old.Spec.Selector == nil {
		// Stored before the selector was generated on create: the
		// update generates it, which is no change of the selector.
		old = old.DeepCopy()
		defaultJobSelector(old)
	}
	var errs field.ErrorList
	errs = append(errs, validateImmutable(j.Spec.Selector, old.Spec.Selector, fld.Child("selector"))...)
	oldTemplate := &old.Spec.Template
	if old.Spec.Suspend != nil && *old.Spec.Suspend && old.Status.StartTime == nil {
		oldTemplate = old.Spec.Template.DeepCopy()
		oldTemplate.Labels = j.Spec.Template.Labels
		oldTemplate.Annotations = j.Spec.Template.Annotations
		oldTemplate.Spec.NodeSelector = j.Spec.Template.Spec.NodeSelector
		oldTemplate.Spec.Tolerations = j.Spec.Template.Spec.Tolerations
		oldTemplate.Spec.Affinity = j.Spec.Template.Spec.Affinity
		oldTemplate.Spec.SchedulingGates = j.Spec.Template.Spec.SchedulingGates
	}
	errs = append(errs, validateImmutable(&j.Spec.Template, oldTemplate, fld.Child("template"))...)
	errs = append(errs, validateImmutable(j.Spec.CompletionMode, old.Spec.CompletionMode, fld.Child("completionMode"))...)
	// completions is immutable, except for an Indexed Job scaled with
	// completions kept equal to parallelism (elastic Indexed Jobs).
	elastic := j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion &&
		j.Spec.Completions != nil && j.Spec.Parallelism != nil && *j.Spec.Completions == *j.Spec.Parallelism &&
		old.Spec.Completions != nil && old.Spec.Parallelism != nil && *old.Spec.Completions == *old.Spec.Parallelism
	if !elastic {
		errs = append(errs, validateImmutable(j.Spec.Completions, old.Spec.Completions, fld.Child("completions"))...)
	}
	return errs
}

// validTimeZoneCharacters is what Kubernetes allows in each part of a
// time zone's name.
var validTimeZoneCharacters = regexp.MustCompile(`^[A-Za-z\.\-_0-9+]{1,14}$`)

func validateCronJobSpec(spec, old *batchv1.CronJobSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	sp := fld.Child("schedule")
	if spec.Schedule == "" {
		errs = append(errs, field.Required(sp, ""))
	} else {
		if _, err := cron.Parse(spec.Schedule, time.UTC); err != nil {
			errs = append(errs, field.Invalid(sp, spec.Schedule, err.Error()))
		}
		allowTZ := old != nil && strings.Contains(old.Schedule, "TZ")
		switch {
		case allowTZ && strings.Contains(spec.Schedule, "TZ") && spec.TimeZone != nil:
			errs = append(errs, field.Invalid(sp, spec.Schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"))
		case !allowTZ && strings.Contains(spec.Schedule, "TZ"):
			errs = append(errs, field.Invalid(sp, spec.Schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
		}
	}
	if spec.StartingDeadlineSeconds != nil {
		errs = append(errs, validateNonnegative(*spec.StartingDeadlineSeconds, fld.Child("startingDeadlineSeconds"))...)
	}
	if old == nil || !equality.Semantic.DeepEqual(old.TimeZone, spec.TimeZone) {
		errs = append(errs, validateTimeZone(spec.TimeZone, fld.Child("timeZone"))...)
	}
	switch spec.ConcurrencyPolicy {
	case "":
		errs = append(errs, field.Required(fld.Child("concurrencyPolicy"), ""))
	case batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent:
	default:
		errs = append(errs, field.NotSupported(fld.Child("concurrencyPolicy"), spec.ConcurrencyPolicy, concurrencyPolicy))
	}
	jp := fld.Child("jobTemplate", "spec")
	errs = append(errs, validateJobSpec(&spec.JobTemplate.Spec, jp)...)
	if spec.JobTemplate.Spec.Selector != nil {
		errs = append(errs, field.Invalid(jp.Child("selector"), spec.JobTemplate.Spec.Selector, "`selector` will be auto-generated"))
	}
	if m := spec.JobTemplate.Spec.ManualSelector; m != nil && *m {
		errs = append(errs, field.NotSupported(jp.Child("manualSelector"), m, []string{"nil", "false"}))
	}
	if spec.SuccessfulJobsHistoryLimit != nil {
		errs = append(errs, validateNonnegative(int64(*spec.SuccessfulJobsHistoryLimit), fld.Child("successfulJobsHistoryLimit"))...)
	}
	if spec.FailedJobsHistoryLimit != nil {
		errs = append(errs, validateNonnegative(int64(*spec.FailedJobsHistoryLimit), fld.Child("failedJobsHistoryLimit"))...)
	}
	return errs
}

func validateTimeZone(tz *string, fld *field.Path) field.ErrorList {
	if tz == nil {
		return nil
	}
	if *tz == "" {
		return field.ErrorList{field.Invalid(fld, tz, "timeZone must be nil or non-empty string")}
	}
	for _, part := range strings.Split(*tz, "/") {
		if part == "." || part == ".." || strings.HasPrefix(part, "-") || !validTimeZoneCharacters.MatchString(part) {
			return field.ErrorList{field.Invalid(fld, tz, fmt.Sprintf("unknown time zone %s", *tz))}
		}
	}
	var errs field.ErrorList
	if strings.EqualFold(*tz, "Local") {
		errs = append(errs, field.Invalid(fld, tz, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"))
	}
	if _, err := time.LoadLocation(*tz); err != nil {
		errs = append(errs, field.Invalid(fld, tz, err.Error()))
	}
	return errs
}
