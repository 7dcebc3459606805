package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func wlTemplate(app string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
	}
}

func wlSelector(app string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
}

func i32(v int32) *int32 { return &v }
func i64(v int64) *int64 { return &v }

func wlDeployment(name string) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{Selector: wlSelector("a"), Template: wlTemplate("a")}}
}

func wlReplicaSet(name string) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.ReplicaSetSpec{Selector: wlSelector("a"), Template: wlTemplate("a")}}
}

func wlStatefulSet(name string) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.StatefulSetSpec{ServiceName: name, Selector: wlSelector("a"), Template: wlTemplate("a")}}
}

func wlDaemonSet(name string) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DaemonSetSpec{Selector: wlSelector("a"), Template: wlTemplate("a")}}
}

func wlJob(name string) *batchv1.Job {
	t := wlTemplate("a")
	t.Spec.RestartPolicy = corev1.RestartPolicyNever
	return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: batchv1.JobSpec{Template: t}}
}

func wlCronJob(name string) *batchv1.CronJob {
	return &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: batchv1.CronJobSpec{Schedule: "*/5 * * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: wlJob("").Spec}}}
}

// wantInvalid checks err is kube-apiserver's 422 Invalid for kind/name
// with a cause of field and message.
func wantInvalid(t *testing.T, err error, kind, name, fld, msg string) {
	t.Helper()
	if !apierrors.IsInvalid(err) {
		t.Fatalf("got %v, want 422 Invalid", err)
	}
	st := err.(apierrors.APIStatus).Status()
	if st.Code != 422 || st.Details == nil || st.Details.Kind != kind || st.Details.Name != name {
		t.Fatalf("status %+v", st)
	}
	for _, c := range st.Details.Causes {
		if c.Field == fld && c.Message == msg {
			if !strings.Contains(err.Error(), fld+": "+msg) {
				t.Errorf("message %q lacks %q", err.Error(), fld+": "+msg)
			}
			return
		}
	}
	t.Errorf("no cause %s: %s in %+v", fld, msg, st.Details.Causes)
}

// kube-apiserver's messages for a bad label value and a bad key's name
// part (apimachinery's, word for word).
const (
	labelValueMsg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
	namePartMsg   = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)

func TestWorkloadValidationCreate(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	ns := "default"
	apps, batch := ts.client.AppsV1(), ts.client.BatchV1()
	deploy := func(f func(*appsv1.Deployment)) func(string) error {
		return func(n string) error {
			d := wlDeployment(n)
			f(d)
			_, err := apps.Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
			return err
		}
	}
	rs := func(f func(*appsv1.ReplicaSet)) func(string) error {
		return func(n string) error {
			o := wlReplicaSet(n)
			f(o)
			_, err := apps.ReplicaSets(ns).Create(ctx, o, metav1.CreateOptions{})
			return err
		}
	}
	sts := func(f func(*appsv1.StatefulSet)) func(string) error {
		return func(n string) error {
			o := wlStatefulSet(n)
			f(o)
			_, err := apps.StatefulSets(ns).Create(ctx, o, metav1.CreateOptions{})
			return err
		}
	}
	ds := func(f func(*appsv1.DaemonSet)) func(string) error {
		return func(n string) error {
			o := wlDaemonSet(n)
			f(o)
			_, err := apps.DaemonSets(ns).Create(ctx, o, metav1.CreateOptions{})
			return err
		}
	}
	job := func(f func(*batchv1.Job)) func(string) error {
		return func(n string) error {
			o := wlJob(n)
			f(o)
			_, err := batch.Jobs(ns).Create(ctx, o, metav1.CreateOptions{})
			return err
		}
	}
	cj := func(f func(*batchv1.CronJob)) func(string) error {
		return func(n string) error {
			o := wlCronJob(n)
			f(o)
			_, err := batch.CronJobs(ns).Create(ctx, o, metav1.CreateOptions{})
			return err
		}
	}
	ptrIntstr := func(v intstr.IntOrString) *intstr.IntOrString { return &v }
	tests := []struct {
		name, kind string
		create     func(name string) error
		fld, msg   string
	}{
		{"deploy-no-selector", "Deployment", deploy(func(d *appsv1.Deployment) { d.Spec.Selector = nil }), "spec.selector", "Required value"},
		{"deploy-empty-selector", "Deployment", deploy(func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} }),
			"spec.selector", "Invalid value: {}: empty selector is invalid for deployment"},
		{"deploy-bad-selector", "Deployment", deploy(func(d *appsv1.Deployment) {
			d.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Sometimes"}}
		}), "spec.selector.matchExpressions[0].operator", `Invalid value: "Sometimes": not a valid selector operator`},
		{"deploy-mismatch", "Deployment", deploy(func(d *appsv1.Deployment) { d.Spec.Template.Labels["app"] = "b" }),
			"spec.template.metadata.labels", `Invalid value: {"app":"b"}: ` + "`selector` does not match template `labels`"},
		{"deploy-label-value", "Deployment", deploy(func(d *appsv1.Deployment) { d.Spec.Template.Labels["tier"] = "not a valid value!" }),
			"spec.template.labels", `Invalid value: "not a valid value!": ` + labelValueMsg},
		{"deploy-annotation-key", "Deployment", deploy(func(d *appsv1.Deployment) {
			d.Spec.Template.Annotations = map[string]string{"bad key!": "x"}
		}), "spec.template.annotations", `Invalid value: "bad key!": ` + namePartMsg},
		{"deploy-own-label", "Deployment", deploy(func(d *appsv1.Deployment) { d.Labels = map[string]string{"tier": "a b"} }),
			"metadata.labels", `Invalid value: "a b": ` + labelValueMsg},
		{"rs-label-key", "ReplicaSet", rs(func(o *appsv1.ReplicaSet) { o.Spec.Template.Labels["-bad"] = "x" }),
			"spec.template.labels", `Invalid value: "-bad": ` + namePartMsg},
		{"deploy-negative", "Deployment", deploy(func(d *appsv1.Deployment) { d.Spec.Replicas = i32(-1) }),
			"spec.replicas", "Invalid value: -1: must be greater than or equal to 0"},
		{"deploy-history", "Deployment", deploy(func(d *appsv1.Deployment) { d.Spec.RevisionHistoryLimit = i32(-2) }),
			"spec.revisionHistoryLimit", "Invalid value: -2: must be greater than or equal to 0"},
		{"deploy-minready", "Deployment", deploy(func(d *appsv1.Deployment) { d.Spec.MinReadySeconds = -1 }),
			"spec.minReadySeconds", "Invalid value: -1: must be greater than or equal to 0"},
		{"deploy-deadline", "Deployment", deploy(func(d *appsv1.Deployment) {
			d.Spec.MinReadySeconds = 30
			d.Spec.ProgressDeadlineSeconds = i32(30)
		}), "spec.progressDeadlineSeconds", "Invalid value: 30: must be greater than minReadySeconds"},
		{"deploy-zero-zero", "Deployment", deploy(func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: ptrIntstr(intstr.FromInt32(0)), MaxUnavailable: ptrIntstr(intstr.FromInt32(0))}
		}), "spec.strategy.rollingUpdate.maxUnavailable", "Invalid value: 0: may not be 0 when `maxSurge` is 0"},
		{"deploy-percent", "Deployment", deploy(func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: ptrIntstr(intstr.FromString("150%"))}
		}), "spec.strategy.rollingUpdate.maxUnavailable", `Invalid value: "150%": must not be greater than 100%`},
		{"deploy-recreate-rolling", "Deployment", deploy(func(d *appsv1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{}}
		}), "spec.strategy.rollingUpdate", "Forbidden: may not be specified when strategy `type` is 'Recreate'"},
		{"deploy-no-containers", "Deployment", deploy(func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers = nil }),
			"spec.template.spec.containers", "Required value"},
		{"deploy-no-image", "Deployment", deploy(func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "" }),
			"spec.template.spec.containers[0].image", "Required value"},
		{"deploy-no-name", "Deployment", deploy(func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Name = "" }),
			"spec.template.spec.containers[0].name", "Required value"},
		{"deploy-restart", "Deployment", deploy(func(d *appsv1.Deployment) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever }),
			"spec.template.spec.restartPolicy", `Unsupported value: "Never": supported values: "Always"`},
		{"rs-negative", "ReplicaSet", rs(func(o *appsv1.ReplicaSet) { o.Spec.Replicas = i32(-1) }),
			"spec.replicas", "Invalid value: -1: must be greater than or equal to 0"},
		{"rs-no-selector", "ReplicaSet", rs(func(o *appsv1.ReplicaSet) { o.Spec.Selector = nil }), "spec.selector", "Required value"},
		{"rs-mismatch", "ReplicaSet", rs(func(o *appsv1.ReplicaSet) { o.Spec.Template.Labels = map[string]string{"app": "b"} }),
			"spec.template.metadata.labels", `Invalid value: {"app":"b"}: ` + "`selector` does not match template `labels`"},
		{"sts-no-selector", "StatefulSet", sts(func(o *appsv1.StatefulSet) { o.Spec.Selector = nil }), "spec.selector", "Required value"},
		{"sts-mismatch", "StatefulSet", sts(func(o *appsv1.StatefulSet) { o.Spec.Template.Labels = map[string]string{"app": "b"} }),
			"spec.template.metadata.labels", `Invalid value: {"app":"b"}: ` + "`selector` does not match template `labels`"},
		{"sts-negative", "StatefulSet", sts(func(o *appsv1.StatefulSet) { o.Spec.Replicas = i32(-3) }),
			"spec.replicas", "Invalid value: -3: must be greater than or equal to 0"},
		{"sts-restart", "StatefulSet", sts(func(o *appsv1.StatefulSet) { o.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure }),
			"spec.template.spec.restartPolicy", `Unsupported value: "OnFailure": supported values: "Always"`},
		{"ds-mismatch", "DaemonSet", ds(func(o *appsv1.DaemonSet) { o.Spec.Template.Labels = map[string]string{"app": "b"} }),
			"spec.template.metadata.labels", `Invalid value: {"app":"b"}: ` + "`selector` does not match template `labels`"},
		{"ds-empty-selector", "DaemonSet", ds(func(o *appsv1.DaemonSet) { o.Spec.Selector = &metav1.LabelSelector{} }),
			"spec.selector", "Invalid value: {}: empty selector is invalid for daemonset"},
		{"ds-no-containers", "DaemonSet", ds(func(o *appsv1.DaemonSet) { o.Spec.Template.Spec.Containers = nil }),
			"spec.template.spec.containers", "Required value"},
		{"ds-zero-zero", "DaemonSet", ds(func(o *appsv1.DaemonSet) {
			o.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxSurge: ptrIntstr(intstr.FromInt32(0)), MaxUnavailable: ptrIntstr(intstr.FromInt32(0))}
		}), "spec.updateStrategy.rollingUpdate.maxUnavailable", "Required value: cannot be 0 when maxSurge is 0"},
		{"job-restart", "Job", job(func(o *batchv1.Job) { o.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways }),
			"spec.template.spec.restartPolicy", `Unsupported value: "Always": supported values: "OnFailure", "Never"`},
		{"ds-label-value", "DaemonSet", ds(func(o *appsv1.DaemonSet) { o.Spec.Template.Labels["tier"] = "a b" }),
			"spec.template.labels", `Invalid value: "a b": ` + labelValueMsg},
		{"job-label-value", "Job", job(func(o *batchv1.Job) { o.Spec.Template.Labels = map[string]string{"tier": "a b"} }),
			"spec.template.labels", `Invalid value: "a b": ` + labelValueMsg},
		{"job-parallelism", "Job", job(func(o *batchv1.Job) { o.Spec.Parallelism = i32(-1) }),
			"spec.parallelism", "Invalid value: -1: must be greater than or equal to 0"},
		{"job-completions", "Job", job(func(o *batchv1.Job) { o.Spec.Completions = i32(-1) }),
			"spec.completions", "Invalid value: -1: must be greater than or equal to 0"},
		{"job-backoff", "Job", job(func(o *batchv1.Job) { o.Spec.BackoffLimit = i32(-1) }),
			"spec.backoffLimit", "Invalid value: -1: must be greater than or equal to 0"},
		{"job-deadline", "Job", job(func(o *batchv1.Job) { o.Spec.ActiveDeadlineSeconds = i64(-5) }),
			"spec.activeDeadlineSeconds", "Invalid value: -5: must be greater than or equal to 0"},
		{"job-manual-no-selector", "Job", job(func(o *batchv1.Job) { t := true; o.Spec.ManualSelector = &t }),
			"spec.selector", "Required value"},
		{"job-manual-mismatch", "Job", job(func(o *batchv1.Job) {
			t := true
			o.Spec.ManualSelector = &t
			o.Spec.Selector = wlSelector("b")
		}), "spec.template.metadata.labels", `Invalid value: {"app":"a"}: ` + "`selector` does not match template `labels`"},
		{"job-no-containers", "Job", job(func(o *batchv1.Job) { o.Spec.Template.Spec.Containers = nil }),
			"spec.template.spec.containers", "Required value"},
		// The pod spec mistakes charts make most.
		{"deploy-mount-no-volume", "Deployment", deploy(func(o *appsv1.Deployment) {
			o.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		}), "spec.template.spec.containers[0].volumeMounts[0].name", `Not found: "data"`},
		{"deploy-volume-twice", "Deployment", deploy(func(o *appsv1.Deployment) {
			v := corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
			o.Spec.Template.Spec.Volumes = []corev1.Volume{v, v}
		}), "spec.template.spec.volumes[1].name", `Duplicate value: "data"`},
		{"deploy-volume-no-source", "Deployment", deploy(func(o *appsv1.Deployment) {
			o.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "data"}}
		}), "spec.template.spec.volumes[0]", "Required value: must specify a volume type"},
		{"deploy-volume-two-sources", "Deployment", deploy(func(o *appsv1.Deployment) {
			o.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				EmptyDir: &corev1.EmptyDirVolumeSource{}, PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
		}), "spec.template.spec.volumes[0].persistentVolumeClaim", "Forbidden: may not specify more than 1 volume type"},
		{"deploy-mount-path-twice", "Deployment", deploy(func(o *appsv1.Deployment) {
			o.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "a", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "b", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
			o.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "a", MountPath: "/x"}, {Name: "b", MountPath: "/x"}}
		}), "spec.template.spec.containers[0].volumeMounts[1].mountPath", `Invalid value: "/x": must be unique`},
		{"deploy-port-range", "Deployment", deploy(func(o *appsv1.Deployment) {
			o.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 70000}}
		}), "spec.template.spec.containers[0].ports[0].containerPort", "Invalid value: 70000: must be between 1 and 65535, inclusive"},
		{"deploy-port-name", "Deployment", deploy(func(o *appsv1.Deployment) {
			o.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 80}, {Name: "http", ContainerPort: 81}}
		}), "spec.template.spec.containers[0].ports[1].name", `Duplicate value: "http"`},
		{"deploy-requests-over-limits", "Deployment", deploy(func(o *appsv1.Deployment) {
			o.Spec.Template.Spec.Containers[0].Resources = corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
			}
		}), "spec.template.spec.containers[0].resources.requests", `Invalid value: "2": must be less than or equal to cpu limit of 1`},
		{"sts-mount-no-claim", "StatefulSet", sts(func(o *appsv1.StatefulSet) {
			o.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}}
			o.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "logs", MountPath: "/logs"}}
		}), "spec.template.spec.containers[0].volumeMounts[0].name", `Not found: "logs"`},
		{"pod-mount-no-volume", "Pod", func(n string) error {
			_, err := ts.client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: n}, Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "c", Image: "nginx", VolumeMounts: []corev1.VolumeMount{{Name: "conf", MountPath: "/etc/conf"}}}}}}, metav1.CreateOptions{})
			return err
		}, "spec.containers[0].volumeMounts[0].name", `Not found: "conf"`},
		// A probe whose handler changed kind, merged by an upgrade into
		// having both: the classic case.
		{"deploy-probe-two-handlers", "Deployment", deploy(func(o *appsv1.Deployment) {
			o.Spec.Template.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
				Exec: &corev1.ExecAction{Command: []string{"true"}}, TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}}}
		}), "spec.template.spec.containers[0].livenessProbe.tcpSocket", "Forbidden: may not specify more than 1 handler type"},
		{"deploy-probe-no-handler", "Deployment", deploy(func(o *appsv1.Deployment) {
			o.Spec.Template.Spec.Containers[0].ReadinessProbe = &corev1.Probe{PeriodSeconds: 5}
		}), "spec.template.spec.containers[0].readinessProbe", "Required value: must specify a handler type"},
		{"deploy-probe-port", "Deployment", deploy(func(o *appsv1.Deployment) {
			o.Spec.Template.Spec.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(0)}}}
		}), "spec.template.spec.containers[0].readinessProbe.httpGet.port", "Invalid value: 0: must be between 1 and 65535, inclusive"},
		{"deploy-probe-port-name", "Deployment", deploy(func(o *appsv1.Deployment) {
			o.Spec.Template.Spec.Containers[0].StartupProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("web_port")}}}
		}), "spec.template.spec.containers[0].startupProbe.tcpSocket.port", `Invalid value: "web_port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`},
		{"deploy-probe-exec-empty", "Deployment", deploy(func(o *appsv1.Deployment) {
			o.Spec.Template.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{}}}
		}), "spec.template.spec.containers[0].livenessProbe.exec.command", "Required value"},
		{"deploy-probe-negative", "Deployment", deploy(func(o *appsv1.Deployment) {
			o.Spec.Template.Spec.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}, InitialDelaySeconds: -5}
		}), "spec.template.spec.containers[0].readinessProbe.initialDelaySeconds", "Invalid value: -5: must be greater than or equal to 0"},
		{"deploy-liveness-success", "Deployment", deploy(func(o *appsv1.Deployment) {
			o.Spec.Template.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}, SuccessThreshold: 2}
		}), "spec.template.spec.containers[0].livenessProbe.successThreshold", "Invalid value: 2: must be 1"},
		{"deploy-prestop-two-handlers", "Deployment", deploy(func(o *appsv1.Deployment) {
			o.Spec.Template.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{
				Exec: &corev1.ExecAction{Command: []string{"sleep", "5"}}, Sleep: &corev1.SleepAction{Seconds: 5}}}
		}), "spec.template.spec.containers[0].lifecycle.preStop.sleep", "Forbidden: may not specify more than 1 handler type"},
		{"deploy-init-probe", "Deployment", deploy(func(o *appsv1.Deployment) {
			o.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox",
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}}}
		}), "spec.template.spec.initContainers[0].readinessProbe", "Forbidden: may not be set for init containers without restartPolicy=Always"},
		{"cron-schedule", "CronJob", cj(func(o *batchv1.CronJob) { o.Spec.Schedule = "61 * * * *" }),
			"spec.schedule", `Invalid value: "61 * * * *": end of range (61) above maximum (59): 61`},
		{"cron-fields", "CronJob", cj(func(o *batchv1.CronJob) { o.Spec.Schedule = "every minute" }),
			"spec.schedule", `Invalid value: "every minute": expected exactly 5 fields, found 2: [every minute]`},
		{"cron-no-schedule", "CronJob", cj(func(o *batchv1.CronJob) { o.Spec.Schedule = "" }), "spec.schedule", "Required value"},
		{"cron-tz", "CronJob", cj(func(o *batchv1.CronJob) { o.Spec.Schedule = "TZ=UTC 0 * * * *" }),
			"spec.schedule", `Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead`},
		{"cron-timezone", "CronJob", cj(func(o *batchv1.CronJob) { z := "Mars/Olympus"; o.Spec.TimeZone = &z }),
			"spec.timeZone", `Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus`},
		{"cron-deadline", "CronJob", cj(func(o *batchv1.CronJob) { o.Spec.StartingDeadlineSeconds = i64(-1) }),
			"spec.startingDeadlineSeconds", "Invalid value: -1: must be greater than or equal to 0"},
		{"cron-job-restart", "CronJob", cj(func(o *batchv1.CronJob) {
			o.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
		}),
			"spec.jobTemplate.spec.template.spec.restartPolicy", `Unsupported value: "Always": supported values: "OnFailure", "Never"`},
		{"cron-job-backoff", "CronJob", cj(func(o *batchv1.CronJob) { o.Spec.JobTemplate.Spec.BackoffLimit = i32(-1) }),
			"spec.jobTemplate.spec.backoffLimit", "Invalid value: -1: must be greater than or equal to 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantInvalid(t, tt.create(tt.name), tt.kind, tt.name, tt.fld, tt.msg)
		})
	}
	// A CronJob's Jobs are named after it plus 11 characters.
	long := strings.Repeat("c", 53)
	wantInvalid(t, cj(func(*batchv1.CronJob) {})(long), "CronJob", long, "metadata.name", `Invalid value: "`+long+`": must be no more than 52 characters`)
	if err := cj(func(*batchv1.CronJob) {})(long[:52]); err != nil {
		t.Errorf("a CronJob named with 52 characters: %v", err)
	}
	// The valid forms are accepted.
	for i, create := range []func(string) error{
		deploy(func(*appsv1.Deployment) {}), rs(func(*appsv1.ReplicaSet) {}), sts(func(*appsv1.StatefulSet) {}),
		ds(func(*appsv1.DaemonSet) {}), job(func(*batchv1.Job) {}), cj(func(o *batchv1.CronJob) { z := "Europe/Paris"; o.Spec.TimeZone = &z }),
		// Probes and hooks as charts write them; the server fills in
		// the rest (path, scheme, thresholds).
		deploy(func(o *appsv1.Deployment) {
			c := &o.Spec.Template.Spec.Containers[0]
			c.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}
			c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromString("http")}}}
			c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}}, SuccessThreshold: 2}
			c.StartupProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9090}}, FailureThreshold: 30}
			c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 5}}}
			always := corev1.ContainerRestartPolicyAlways
			o.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "sidecar", Image: "busybox", RestartPolicy: &always,
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}}}
		}),
		// A StatefulSet's Pods mount the volumes of its claim templates.
		sts(func(o *appsv1.StatefulSet) {
			o.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}}
			o.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		}),
	} {
		if err := create(fmt.Sprintf("ok-%d", i)); err != nil {
			t.Errorf("valid object %d refused: %v", i, err)
		}
	}
}

func TestWorkloadValidationUpdate(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	ns := "default"
	apps, batch := ts.client.AppsV1(), ts.client.BatchV1()

	d, err := apps.Deployments(ns).Create(ctx, wlDeployment("web"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := apps.ReplicaSets(ns).Create(ctx, wlReplicaSet("rs"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := apps.StatefulSets(ns).Create(ctx, wlStatefulSet("db"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dset, err := apps.DaemonSets(ns).Create(ctx, wlDaemonSet("agent"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	j, err := batch.Jobs(ns).Create(ctx, wlJob("batch"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := batch.CronJobs(ns).Create(ctx, wlCronJob("nightly"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	immutable := `Invalid value: {"matchLabels":{"app":"a","tier":"x"}}: field is immutable`

	t.Run("deployment selector", func(t *testing.T) {
		o := d.DeepCopy()
		o.Spec.Selector.MatchLabels["tier"] = "x"
		o.Spec.Template.Labels["tier"] = "x"
		_, err := apps.Deployments(ns).Update(ctx, o, metav1.UpdateOptions{})
		wantInvalid(t, err, "Deployment", "web", "spec.selector", immutable)
	})
	t.Run("deployment replicas by patch", func(t *testing.T) {
		_, err := apps.Deployments(ns).Patch(ctx, "web", types.MergePatchType, []byte(`{"spec":{"replicas":-1}}`), metav1.PatchOptions{})
		wantInvalid(t, err, "Deployment", "web", "spec.replicas", "Invalid value: -1: must be greater than or equal to 0")
	})
	t.Run("deployment template mismatch by patch", func(t *testing.T) {
		_, err := apps.Deployments(ns).Patch(ctx, "web", types.MergePatchType, []byte(`{"spec":{"template":{"metadata":{"labels":{"app":"b"}}}}}`), metav1.PatchOptions{})
		wantInvalid(t, err, "Deployment", "web", "spec.template.metadata.labels", `Invalid value: {"app":"b"}: `+"`selector` does not match template `labels`")
	})
	t.Run("deployment scaled and reimaged", func(t *testing.T) {
		if _, err := apps.Deployments(ns).Patch(ctx, "web", types.MergePatchType, []byte(`{"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"c","image":"nginx:2"}]}}}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("replicaset selector", func(t *testing.T) {
		o := r.DeepCopy()
		o.Spec.Selector.MatchLabels["tier"] = "x"
		o.Spec.Template.Labels["tier"] = "x"
		_, err := apps.ReplicaSets(ns).Update(ctx, o, metav1.UpdateOptions{})
		wantInvalid(t, err, "ReplicaSet", "rs", "spec.selector", immutable)
	})
	t.Run("daemonset selector", func(t *testing.T) {
		o := dset.DeepCopy()
		o.Spec.Selector.MatchLabels["tier"] = "x"
		o.Spec.Template.Labels["tier"] = "x"
		_, err := apps.DaemonSets(ns).Update(ctx, o, metav1.UpdateOptions{})
		wantInvalid(t, err, "DaemonSet", "agent", "spec.selector", immutable)
	})
	t.Run("statefulset forbidden", func(t *testing.T) {
		o := s.DeepCopy()
		o.Spec.ServiceName = "other"
		_, err := apps.StatefulSets(ns).Update(ctx, o, metav1.UpdateOptions{})
		wantInvalid(t, err, "StatefulSet", "db", "spec", "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")
	})
	t.Run("statefulset allowed", func(t *testing.T) {
		if _, err := apps.StatefulSets(ns).Patch(ctx, "db", types.MergePatchType, []byte(`{"spec":{"replicas":2,"minReadySeconds":5,"revisionHistoryLimit":3,"template":{"spec":{"containers":[{"name":"c","image":"nginx:2"}]}}}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("job selector and template", func(t *testing.T) {
		o := j.DeepCopy()
		o.Spec.Template.Spec.Containers[0].Image = "busybox"
		_, err := batch.Jobs(ns).Update(ctx, o, metav1.UpdateOptions{})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.template: Invalid value: ") || !strings.Contains(err.Error(), ": field is immutable") {
			t.Fatalf("template change: %v", err)
		}
		o = j.DeepCopy()
		o.Spec.Selector.MatchLabels["tier"] = "x"
		_, err = batch.Jobs(ns).Update(ctx, o, metav1.UpdateOptions{})
		wantInvalid(t, err, "Job", "batch", "spec.selector", fmt.Sprintf(`Invalid value: {"matchLabels":{"batch.kubernetes.io/controller-uid":"%s","tier":"x"}}: field is immutable`, j.UID))
	})
	t.Run("job completions", func(t *testing.T) {
		_, err := batch.Jobs(ns).Patch(ctx, "batch", types.MergePatchType, []byte(`{"spec":{"completions":3}}`), metav1.PatchOptions{})
		wantInvalid(t, err, "Job", "batch", "spec.completions", "Invalid value: 3: field is immutable")
		// An Indexed Job may be scaled with completions kept equal to
		// parallelism (elastic Indexed Jobs).
		o := wlJob("elastic")
		indexed := batchv1.IndexedCompletion
		o.Spec.CompletionMode, o.Spec.Completions, o.Spec.Parallelism = &indexed, i32(2), i32(2)
		if _, err := batch.Jobs(ns).Create(ctx, o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := batch.Jobs(ns).Patch(ctx, "elastic", types.MergePatchType, []byte(`{"spec":{"completions":4,"parallelism":4}}`), metav1.PatchOptions{}); err != nil {
			t.Errorf("scaling an elastic Indexed Job: %v", err)
		}
		_, err = batch.Jobs(ns).Patch(ctx, "elastic", types.MergePatchType, []byte(`{"spec":{"completions":5}}`), metav1.PatchOptions{})
		wantInvalid(t, err, "Job", "elastic", "spec.completions", "Invalid value: 5: field is immutable")
	})
	t.Run("suspended job scheduling", func(t *testing.T) {
		o := wlJob("held")
		yes := true
		o.Spec.Suspend = &yes
		created, err := batch.Jobs(ns).Create(ctx, o, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		created.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "ssd"}
		created.Spec.Template.Labels["extra"] = "y"
		if _, err := batch.Jobs(ns).Update(ctx, created, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("scheduling directives of a suspended job: %v", err)
		}
	})
	t.Run("cronjob schedule", func(t *testing.T) {
		_, err := batch.CronJobs(ns).Patch(ctx, "nightly", types.MergePatchType, []byte(`{"spec":{"schedule":"* * * *"}}`), metav1.PatchOptions{})
		wantInvalid(t, err, "CronJob", "nightly", "spec.schedule", `Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]`)
		o := c.DeepCopy()
		o.Spec.Schedule = "@daily"
		if _, err := batch.CronJobs(ns).Update(ctx, o, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("status writes are not validated here", func(t *testing.T) {
		cur, err := apps.Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cur.Status.Replicas = 1
		if _, err := apps.Deployments(ns).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}

const mismatchedDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: x
spec:
  selector:
    matchLabels:
      app: a
  template:
    metadata:
      labels:
        app: b
    spec:
      containers:
      - name: c
        image: nginx
`

// TestKubectlRejectsInvalidDeployment: the real kubectl prints the API's
// refusal as it prints kube-apiserver's.
func TestKubectlRejectsInvalidDeployment(t *testing.T) {
	ts := newTestServer(t)
	dir := kubectlDir(t, ts)
	manifest := filepath.Join(dir, "x.yaml")
	if err := os.WriteFile(manifest, []byte(mismatchedDeployment), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"apply", "-f", manifest}, {"apply", "--server-side", "-f", manifest}, {"create", "-f", manifest}} {
		out, err := ts.kubectl(t, dir, args...)
		want := `The Deployment "x" is invalid: spec.template.metadata.labels: Invalid value: {"app":"b"}: ` + "`selector` does not match template `labels`"
		if err == nil || !strings.Contains(out, want) {
			t.Errorf("kubectl %s: %v\n%s\nwant %s", strings.Join(args, " "), err, out, want)
		}
	}
	fixed := strings.Replace(mismatchedDeployment, "app: b", "app: a", 1)
	if err := os.WriteFile(manifest, []byte(fixed), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := ts.kubectl(t, dir, "apply", "-f", manifest); err != nil || !strings.Contains(out, "deployment.apps/x created") {
		t.Fatalf("apply the fixed deployment: %v\n%s", err, out)
	}
	bad := strings.Replace(fixed, "  selector:\n    matchLabels:\n      app: a\n", "  selector:\n    matchLabels:\n      app: a\n      tier: web\n", 1)
	bad = strings.Replace(bad, "        app: a\n", "        app: a\n        tier: web\n", 1)
	if err := os.WriteFile(manifest, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := ts.kubectl(t, dir, "apply", "-f", manifest)
	if want := `The Deployment "x" is invalid: spec.selector: Invalid value: {"matchLabels":{"app":"a","tier":"web"}}: field is immutable`; err == nil || !strings.Contains(out, want) {
		t.Errorf("changed selector: %v\n%s\nwant %s", err, out, want)
	}
}

// storeEdit rewrites an object in the store behind the API, as an object
// stored by an older server that did not validate it.
func storeEdit(t *testing.T, ts *testServer, key string, edit func(o map[string]any)) {
	t.Helper()
	ctx := context.Background()
	kv, err := ts.srv.cfg.Store.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	var o map[string]any
	if err := json.Unmarshal(kv.Value, &o); err != nil {
		t.Fatal(err)
	}
	edit(o)
	data, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.srv.cfg.Store.Update(ctx, key, data, kv.ModRev); err != nil {
		t.Fatal(err)
	}
}

// An object stored invalid before validation existed keeps its metadata
// writable (and so can be deleted through its finalizers), while a change
// of its spec is validated; a Job stored without its generated selector
// can still be updated.
func TestWorkloadValidationStoredObjects(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	deployments := ts.client.AppsV1().Deployments("default")
	if _, err := deployments.Create(ctx, wlDeployment("legacy"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	storeEdit(t, ts, "/registry/apps/deployments/default/legacy", func(o map[string]any) {
		o["spec"].(map[string]any)["template"].(map[string]any)["metadata"] = map[string]any{"labels": map[string]any{"app": "b"}}
	})
	if _, err := deployments.Patch(ctx, "legacy", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"},"finalizers":["example.com/hold"]}}`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("metadata of a stored invalid deployment: %v", err)
	}
	_, err := deployments.Patch(ctx, "legacy", types.MergePatchType, []byte(`{"spec":{"replicas":2}}`), metav1.PatchOptions{})
	wantInvalid(t, err, "Deployment", "legacy", "spec.template.metadata.labels", `Invalid value: {"app":"b"}: `+"`selector` does not match template `labels`")
	if err := deployments.Delete(ctx, "legacy", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := deployments.Patch(ctx, "legacy", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("finalizer removal: %v", err)
	}

	jobs := ts.client.BatchV1().Jobs("default")
	if _, err := jobs.Create(ctx, wlJob("old-job"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	storeEdit(t, ts, "/registry/batch/jobs/default/old-job", func(o map[string]any) {
		spec := o["spec"].(map[string]any)
		delete(spec, "selector")
		spec["template"].(map[string]any)["metadata"] = map[string]any{"labels": map[string]any{"app": "a"}}
	})
	j, err := jobs.Patch(ctx, "old-job", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("update of a job stored without its selector: %v", err)
	}
	if j.Spec.Selector == nil || j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] != string(j.UID) {
		t.Errorf("selector %v", j.Spec.Selector)
	}
}
