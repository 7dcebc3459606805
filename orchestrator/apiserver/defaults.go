package apiserver

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// setDefaults fills in the most used of the defaults kube-apiserver applies
// when it decodes an object, so that clients and controllers reading the
// object find the fields they expect (spec.replicas, the rollout
// strategy, container port protocols, ...). It is a subset of
// Kubernetes' defaulting, applied to objects of client-go's Go types.
func setDefaults(obj any) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		defaultReplicas(&o.Spec.Replicas)
		if o.Spec.Strategy.Type == "" {
			o.Spec.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
		}
		if o.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
			if o.Spec.Strategy.RollingUpdate == nil {
				o.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
			}
			quarter := intstr.FromString("25%")
			if o.Spec.Strategy.RollingUpdate.MaxUnavailable == nil {
				o.Spec.Strategy.RollingUpdate.MaxUnavailable = &quarter
			}
			if o.Spec.Strategy.RollingUpdate.MaxSurge == nil {
				o.Spec.Strategy.RollingUpdate.MaxSurge = &quarter
			}
		}
		defaultInt32(&o.Spec.RevisionHistoryLimit, 10)
		defaultInt32(&o.Spec.ProgressDeadlineSeconds, 600)
		defaultPodSpec(&o.Spec.Template.Spec)
	case *appsv1.ReplicaSet:
		defaultReplicas(&o.Spec.Replicas)
		defaultPodSpec(&o.Spec.Template.Spec)
	case *appsv1.StatefulSet:
		defaultReplicas(&o.Spec.Replicas)
		if o.Spec.PodManagementPolicy == "" {
			o.Spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
		}
		if o.Spec.UpdateStrategy.Type == "" {
			o.Spec.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
		}
		if o.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && o.Spec.UpdateStrategy.RollingUpdate == nil {
			zero := int32(0)
			o.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: &zero}
		}
		defaultInt32(&o.Spec.RevisionHistoryLimit, 10)
		defaultPodSpec(&o.Spec.Template.Spec)
	case *appsv1.DaemonSet:
		if o.Spec.UpdateStrategy.Type == "" {
			o.Spec.UpdateStrategy.Type = appsv1.RollingUpdateDaemonSetStrategyType
		}
		if o.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
			if o.Spec.UpdateStrategy.RollingUpdate == nil {
				o.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
			}
			one, zero := intstr.FromInt32(1), intstr.FromInt32(0)
			if o.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable == nil {
				o.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = &one
			}
			if o.Spec.UpdateStrategy.RollingUpdate.MaxSurge == nil {
				o.Spec.UpdateStrategy.RollingUpdate.MaxSurge = &zero
			}
		}
		defaultInt32(&o.Spec.RevisionHistoryLimit, 10)
		defaultPodSpec(&o.Spec.Template.Spec)
	case *batchv1.Job:
		defaultJobSelector(o)
		defaultInt32(&o.Spec.BackoffLimit, 6)
		if o.Spec.Completions == nil && o.Spec.Parallelism == nil {
			defaultInt32(&o.Spec.Completions, 1)
		}
		defaultInt32(&o.Spec.Parallelism, 1)
		if o.Spec.Template.Spec.RestartPolicy == "" {
			o.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
		}
		defaultPodSpec(&o.Spec.Template.Spec)
	case *batchv1.CronJob:
		if o.Spec.ConcurrencyPolicy == "" {
			o.Spec.ConcurrencyPolicy = batchv1.AllowConcurrent
		}
		defaultInt32(&o.Spec.SuccessfulJobsHistoryLimit, 3)
		defaultInt32(&o.Spec.FailedJobsHistoryLimit, 1)
		if o.Spec.Suspend == nil {
			f := false
			o.Spec.Suspend = &f
		}
		defaultPodSpec(&o.Spec.JobTemplate.Spec.Template.Spec)
	case *corev1.Pod:
		defaultPodSpec(&o.Spec)
	case *corev1.Service:
		defaultService(o)
	default:
		setBuiltinDefaults(obj)
	}
}

// defaultReplicas sets a workload's replicas to 1 when unset.
func defaultReplicas(p **int32) { defaultInt32(p, 1) }

// defaultInt32 sets *p to v when unset.
func defaultInt32(p **int32, v int32) {
	if *p == nil {
		*p = &v
	}
}

// defaultPodSpec fills in a pod spec's and its containers' defaults.
func defaultPodSpec(s *corev1.PodSpec) {
	if s.RestartPolicy == "" {
		s.RestartPolicy = corev1.RestartPolicyAlways
	}
	if s.DNSPolicy == "" {
		s.DNSPolicy = corev1.DNSClusterFirst
	}
	if s.SchedulerName == "" {
		s.SchedulerName = corev1.DefaultSchedulerName
	}
	if s.TerminationGracePeriodSeconds == nil {
		v := int64(corev1.DefaultTerminationGracePeriodSeconds)
		s.TerminationGracePeriodSeconds = &v
	}
	if s.SecurityContext == nil {
		s.SecurityContext = &corev1.PodSecurityContext{}
	}
	for i := range s.InitContainers {
		defaultContainer(&s.InitContainers[i])
	}
	for i := range s.Containers {
		defaultContainer(&s.Containers[i])
	}
}

// defaultContainer fills in a container's defaults.
func defaultContainer(c *corev1.Container) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = corev1.PullIfNotPresent
		if imageTag(c.Image) == "latest" {
			c.ImagePullPolicy = corev1.PullAlways
		}
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		defaultProbe(p)
	}
	if l := c.Lifecycle; l != nil {
		for _, h := range []*corev1.LifecycleHandler{l.PostStart, l.PreStop} {
			if h != nil {
				defaultHTTPGet(h.HTTPGet)
			}
		}
	}
}

// defaultProbe fills in a probe's timing (1 s timeout, every 10 s, one
// success, three failures) and its HTTP request's path and scheme.
func defaultProbe(p *corev1.Probe) {
	if p == nil {
		return
	}
	for _, d := range []struct {
		v   *int32
		def int32
	}{{&p.TimeoutSeconds, 1}, {&p.PeriodSeconds, 10}, {&p.SuccessThreshold, 1}, {&p.FailureThreshold, 3}} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	defaultHTTPGet(p.HTTPGet)
}

// defaultHTTPGet fills in an HTTP handler's path ("/") and scheme (HTTP).
func defaultHTTPGet(g *corev1.HTTPGetAction) {
	if g == nil {
		return
	}
	if g.Path == "" {
		g.Path = "/"
	}
	if g.Scheme == "" {
		g.Scheme = corev1.URISchemeHTTP
	}
}

// imageTag returns an image reference's tag, "latest" when it has neither
// tag nor digest.
func imageTag(image string) string {
	if strings.Contains(image, "@") {
		return ""
	}
	last := image[strings.LastIndex(image, "/")+1:]
	if i := strings.LastIndex(last, ":"); i >= 0 {
		return last[i+1:]
	}
	return "latest"
}

// defaultService fills in a service's defaults.
func defaultService(s *corev1.Service) {
	if s.Spec.Type == "" {
		s.Spec.Type = corev1.ServiceTypeClusterIP
	}
	if s.Spec.SessionAffinity == "" {
		s.Spec.SessionAffinity = corev1.ServiceAffinityNone
	}
	for i := range s.Spec.Ports {
		p := &s.Spec.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort == (intstr.IntOrString{}) {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
}

// defaultJobSelector generates a Job's selector and its Pods' labels from
// its uid, as kube-apiserver does on create unless manualSelector is set.
func defaultJobSelector(j *batchv1.Job) {
	if j.Spec.Selector != nil || (j.Spec.ManualSelector != nil && *j.Spec.ManualSelector) || j.UID == "" {
		return
	}
	uid := string(j.UID)
	j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{batchv1.ControllerUidLabel: uid}}
	if j.Spec.Template.Labels == nil {
		j.Spec.Template.Labels = map[string]string{}
	}
	for k, v := range map[string]string{
		batchv1.ControllerUidLabel: uid, batchv1.JobNameLabel: j.Name,
		"controller-uid": uid, "job-name": j.Name,
	} {
		if _, ok := j.Spec.Template.Labels[k]; !ok {
			j.Spec.Template.Labels[k] = v
		}
	}
}
