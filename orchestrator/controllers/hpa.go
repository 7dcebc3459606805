package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	autoscalinglisters "k8s.io/client-go/listers/autoscaling/v2"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// Defaults of HPAOptions, kube-controller-manager's.
const (
	// DefaultHPASyncPeriod is how often each autoscaler is evaluated.
	DefaultHPASyncPeriod = 15 * time.Second
	// DefaultHPADownscaleStabilization is the scale-down stabilization
	// window of autoscalers whose behavior does not set one.
	DefaultHPADownscaleStabilization = 5 * time.Minute
)

// HPAOptions tune the HorizontalPodAutoscaler controller. Zero values
// take kube-controller-manager's defaults; tests shorten the periods.
type HPAOptions struct {
	// SyncPeriod is how often each autoscaler is evaluated
	// (--horizontal-pod-autoscaler-sync-period).
	SyncPeriod time.Duration
	// DownscaleStabilization is the default scale-down window
	// (--horizontal-pod-autoscaler-downscale-stabilization).
	DownscaleStabilization time.Duration
	// Tolerance is how far the usage ratio must be from 1.0 to scale
	// (--horizontal-pod-autoscaler-tolerance).
	Tolerance float64
	// CPUInitializationPeriod and InitialReadinessDelay decide when a
	// starting Pod's cpu samples are trusted.
	CPUInitializationPeriod time.Duration
	InitialReadinessDelay   time.Duration
}

// hpaController scales the targets of HorizontalPodAutoscalers through
// their scale subresource from the usage metrics.k8s.io reports, with
// Kubernetes' algorithm, behavior and conditions.
type hpaController struct {
	env    *env
	hpas   autoscalinglisters.HorizontalPodAutoscalerLister
	pods   corelisters.PodLister
	q      *queue
	rec    record.EventRecorder
	calc   *replicaCalc
	period time.Duration
	down   time.Duration

	mu      sync.Mutex
	history map[string]*hpaHistory
	// plurals caches the resource of each scale target kind, by
	// "apiVersion kind".
	plurals map[string]string
}

func newHPAController(e *env, o HPAOptions) *hpaController {
	c := &hpaController{
		env:     e,
		hpas:    e.factory.Autoscaling().V2().HorizontalPodAutoscalers().Lister(),
		pods:    e.factory.Core().V1().Pods().Lister(),
		rec:     e.recorder("horizontal-pod-autoscaler"),
		period:  orDefault(o.SyncPeriod, DefaultHPASyncPeriod),
		down:    orDefault(o.DownscaleStabilization, DefaultHPADownscaleStabilization),
		history: map[string]*hpaHistory{},
		plurals: map[string]string{},
	}
	tol := o.Tolerance
	if tol <= 0 {
		tol = DefaultHPATolerance
	}
	c.calc = &replicaCalc{
		metrics:   &apiMetrics{rest: e.client.CoreV1().RESTClient()},
		tolerance: tol,
		cpuInit:   orDefault(o.CPUInitializationPeriod, DefaultHPACPUInitializationPeriod),
		readiness: orDefault(o.InitialReadinessDelay, DefaultHPAInitialReadinessDelay),
		now:       e.now,
	}
	c.q = newQueue("horizontalpodautoscaling", e, c.sync)
	_, _ = e.factory.Autoscaling().V2().HorizontalPodAutoscalers().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.enqueue,
		UpdateFunc: func(o, n any) {
			// Its own status writes do not make it evaluate sooner.
			oh, ok1 := o.(*autoscalingv2.HorizontalPodAutoscaler)
			nh, ok2 := n.(*autoscalingv2.HorizontalPodAutoscaler)
			if ok1 && ok2 && oh.Generation == nh.Generation && apiequality.Semantic.DeepEqual(oh.Spec, nh.Spec) {
				return
			}
			c.enqueue(n)
		},
		DeleteFunc: func(obj any) {
			if k, ok := keyOf(obj); ok {
				c.mu.Lock()
				delete(c.history, k)
				c.mu.Unlock()
			}
		},
	})
	return c
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (c *hpaController) run(ctx context.Context) { c.q.run(ctx, c.env.workers) }

func (c *hpaController) enqueue(obj any) {
	if k, ok := keyOf(obj); ok {
		c.q.add(k)
	}
}

// sync evaluates one autoscaler and queues its next evaluation a sync
// period later.
func (c *hpaController) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.hpas.HorizontalPodAutoscalers(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer c.q.addAfter(key, c.period)
	hpa := cached.DeepCopy()
	st := hpa.Status.DeepCopy()
	err = c.reconcile(ctx, key, hpa, st)
	st.ObservedGeneration = &hpa.Generation
	if !apiequality.Semantic.DeepEqual(st, &cached.Status) {
		hpa.Status = *st
		if _, uerr := c.env.client.AutoscalingV2().HorizontalPodAutoscalers(ns).UpdateStatus(ctx, hpa, metav1.UpdateOptions{}); uerr != nil {
			if apierrors.IsNotFound(uerr) {
				return nil
			}
			return errors.Join(err, uerr)
		}
	}
	// Failures are reported in conditions and Events and retried at the
	// next period, as kube-controller-manager does.
	if err != nil {
		c.env.log.Debug("autoscaler not evaluated", "hpa", key, "err", err)
	}
	return nil
}

// reconcile computes and applies the desired replica count, filling st.
func (c *hpaController) reconcile(ctx context.Context, key string, hpa *autoscalingv2.HorizontalPodAutoscaler, st *autoscalingv2.HorizontalPodAutoscalerStatus) error {
	now := c.env.now()
	if errs := ValidateHPA(&hpa.Spec, field.NewPath("spec")); len(errs) > 0 {
		// kube-apiserver would have refused it; here it is left alone,
		// saying why, until it is fixed.
		err := invalidHPAError(hpa, errs)
		c.rec.Event(hpa, corev1.EventTypeWarning, "InvalidSpec", err.Error())
		setHPACondition(st, autoscalingv2.ScalingActive, corev1.ConditionFalse, "InvalidSpec", err.Error(), now)
		return err
	}
	ref := hpa.Spec.ScaleTargetRef
	reference := fmt.Sprintf("%s/%s", ref.Kind, ref.Name)
	scale, path, err := c.getScale(ctx, hpa.Namespace, ref)
	if err != nil {
		c.rec.Event(hpa, corev1.EventTypeWarning, "FailedGetScale", err.Error())
		setHPACondition(st, autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedGetScale", fmt.Sprintf("the HPA controller was unable to get the target's current scale: %v", err), now)
		return fmt.Errorf("getting the scale of %s: %w", reference, err)
	}
	setHPACondition(st, autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededGetScale", "the HPA controller was able to get the target's current scale", now)
	current := scale.Spec.Replicas
	st.CurrentReplicas = scale.Status.Replicas
	minR := int32(1)
	if hpa.Spec.MinReplicas != nil {
		minR = *hpa.Spec.MinReplicas
	}
	maxR := hpa.Spec.MaxReplicas
	up := hpaRules(behaviorUp(hpa), true, 0)
	down := hpaRules(behaviorDown(hpa), false, c.down)

	desired := int32(0)
	reason := ""
	switch {
	case current == 0 && minR != 0:
		// Scaling to zero by hand switches the autoscaler off.
		setHPACondition(st, autoscalingv2.ScalingActive, corev1.ConditionFalse, "ScalingDisabled", "scaling is disabled since the replica count of the target is zero", now)
		st.DesiredReplicas = 0
		return nil
	case current > maxR:
		reason, desired = "Current number of replicas above Spec.MaxReplicas", maxR
		setHPACondition(st, autoscalingv2.ScalingLimited, corev1.ConditionTrue, "TooManyReplicas", "the desired replica count is more than the maximum replica count", now)
	case current < minR:
		reason, desired = "Current number of replicas below Spec.MinReplicas", minR
		setHPACondition(st, autoscalingv2.ScalingLimited, corev1.ConditionTrue, "TooFewReplicas", "the desired replica count is less than the minimum replica count", now)
	default:
		proposed, metric, statuses, err := c.metricsReplicas(ctx, hpa, scale, current, st, now)
		st.CurrentMetrics = statuses
		if err != nil {
			st.DesiredReplicas = current
			return err
		}
		switch {
		case proposed > current:
			reason = metric + " above target"
		case proposed < current:
			reason = "All metrics below target"
		}
		c.mu.Lock()
		h := c.history[key]
		if h == nil {
			h = &hpaHistory{}
			c.history[key] = h
		}
		stabilized, sreason, smsg := h.stabilize(now, current, proposed, up, down)
		setHPACondition(st, autoscalingv2.AbleToScale, corev1.ConditionTrue, sreason, smsg, now)
		var lreason, lmsg string
		desired, lreason, lmsg = h.limitRate(now, current, stabilized, minR, maxR, up, down)
		c.mu.Unlock()
		c.env.log.Debug("autoscaler evaluated", "hpa", key, "current", current, "proposed", proposed, "stabilized", stabilized, "desired", desired)
		setHPACondition(st, autoscalingv2.ScalingLimited, boolCondition(lreason != "DesiredWithinRange"), lreason, lmsg, now)
	}
	st.DesiredReplicas = desired
	if desired == current {
		return nil
	}
	if err := c.updateScale(ctx, path, scale, desired); err != nil {
		c.rec.Eventf(hpa, corev1.EventTypeWarning, "FailedRescale", "New size: %d; reason: %s; error: %v", desired, reason, err)
		setHPACondition(st, autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedUpdateScale", fmt.Sprintf("the HPA controller was unable to update the target scale: %v", err), now)
		return err
	}
	setHPACondition(st, autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededRescale", fmt.Sprintf("the HPA controller was able to update the target scale to %d", desired), now)
	c.rec.Eventf(hpa, corev1.EventTypeNormal, "SuccessfulRescale", "New size: %d; reason: %s", desired, reason)
	c.mu.Lock()
	if h := c.history[key]; h != nil {
		h.record(now, desired-current, up, down)
	} else {
		h = &hpaHistory{}
		h.record(now, desired-current, up, down)
		c.history[key] = h
	}
	c.mu.Unlock()
	t := metav1.NewTime(now)
	st.LastScaleTime = &t
	c.env.log.Info("rescaled", "hpa", key, "target", reference, "from", current, "to", desired, "reason", reason)
	return nil
}

func boolCondition(b bool) corev1.ConditionStatus {
	if b {
		return corev1.ConditionTrue
	}
	return corev1.ConditionFalse
}

func behaviorUp(h *autoscalingv2.HorizontalPodAutoscaler) *autoscalingv2.HPAScalingRules {
	if h.Spec.Behavior == nil {
		return nil
	}
	return h.Spec.Behavior.ScaleUp
}

func behaviorDown(h *autoscalingv2.HorizontalPodAutoscaler) *autoscalingv2.HPAScalingRules {
	if h.Spec.Behavior == nil {
		return nil
	}
	return h.Spec.Behavior.ScaleDown
}

// metricsReplicas proposes a replica count from every metric of the
// autoscaler, the highest; the metrics' current values go to statuses. It
// fails when no metric could be evaluated.
func (c *hpaController) metricsReplicas(ctx context.Context, hpa *autoscalingv2.HorizontalPodAutoscaler, scale *autoscalingv1.Scale, current int32, st *autoscalingv2.HorizontalPodAutoscalerStatus, now time.Time) (int32, string, []autoscalingv2.MetricStatus, error) {
	specs := hpa.Spec.Metrics
	if len(specs) == 0 {
		// The API's default: 80% of the cpu requested.
		u := int32(80)
		specs = []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &u}}}}
	}
	if scale.Status.Selector == "" {
		c.rec.Event(hpa, corev1.EventTypeWarning, "SelectorRequired", "selector is required")
		setHPACondition(st, autoscalingv2.ScalingActive, corev1.ConditionFalse, "InvalidSelector", "the HPA target's scale is missing a selector", now)
		return 0, "", nil, errors.New("the HPA target's scale is missing a selector")
	}
	sel, err := labels.Parse(scale.Status.Selector)
	if err != nil {
		c.rec.Event(hpa, corev1.EventTypeWarning, "InvalidSelector", fmt.Sprintf("couldn't convert selector into a corresponding internal selector object: %v", err))
		setHPACondition(st, autoscalingv2.ScalingActive, corev1.ConditionFalse, "InvalidSelector", fmt.Sprintf("the HPA target's scale has an invalid selector: %v", err), now)
		return 0, "", nil, err
	}
	pods, err := c.pods.Pods(hpa.Namespace).List(sel)
	if err != nil {
		return 0, "", nil, err
	}
	statuses := make([]autoscalingv2.MetricStatus, len(specs))
	best, bestName := int32(-1), ""
	invalid := 0
	var firstErr error
	for i, spec := range specs {
		replicas, name, status, reason, err := c.metricReplicas(ctx, hpa.Namespace, sel, pods, spec, current)
		statuses[i] = status
		if err != nil {
			invalid++
			if firstErr == nil {
				firstErr = err
			}
			c.rec.Event(hpa, corev1.EventTypeWarning, reason, err.Error())
			setHPACondition(st, autoscalingv2.ScalingActive, corev1.ConditionFalse, reason, fmt.Sprintf("the HPA was unable to compute the replica count: %v", err), now)
			continue
		}
		if replicas > best {
			best, bestName = replicas, name
		}
	}
	if invalid == len(specs) {
		err := fmt.Errorf("invalid metrics (%d invalid out of %d), first error is: %v", invalid, len(specs), firstErr)
		c.rec.Event(hpa, corev1.EventTypeWarning, "FailedComputeMetricsReplicas", err.Error())
		return 0, "", statuses, err
	}
	if invalid == 0 {
		setHPACondition(st, autoscalingv2.ScalingActive, corev1.ConditionTrue, "ValidMetricFound", fmt.Sprintf("the HPA was able to successfully calculate a replica count from %s", bestName), now)
	}
	return best, bestName, statuses, nil
}

// metricReplicas evaluates one metric: the replicas it proposes, its
// name, its current value, and on failure the condition and Event reason.
func (c *hpaController) metricReplicas(ctx context.Context, ns string, sel labels.Selector, pods []*corev1.Pod, spec autoscalingv2.MetricSpec, current int32) (int32, string, autoscalingv2.MetricStatus, string, error) {
	var (
		res       corev1.ResourceName
		container string
		target    autoscalingv2.MetricTarget
		reason    string
	)
	status := autoscalingv2.MetricStatus{Type: spec.Type}
	switch {
	case spec.Type == autoscalingv2.ResourceMetricSourceType && spec.Resource != nil:
		res, target, reason = spec.Resource.Name, spec.Resource.Target, "FailedGetResourceMetric"
		status.Resource = &autoscalingv2.ResourceMetricStatus{Name: res}
	case spec.Type == autoscalingv2.ContainerResourceMetricSourceType && spec.ContainerResource != nil:
		res, container, target, reason = spec.ContainerResource.Name, spec.ContainerResource.Container, spec.ContainerResource.Target, "FailedGetContainerResourceMetric"
		status.ContainerResource = &autoscalingv2.ContainerResourceMetricStatus{Name: res, Container: container}
	default:
		return 0, "", status, "FailedGet" + string(spec.Type) + "Metric",
			fmt.Errorf("unable to get %s metric: this cluster serves resource metrics (metrics.k8s.io) only, no custom or external metrics API", strings.ToLower(string(spec.Type)))
	}
	var cur autoscalingv2.MetricValueStatus
	var r resourceResult
	var err error
	name := hpaMetricName(res, container, target.AverageUtilization != nil)
	switch {
	case target.AverageUtilization != nil:
		r, err = c.calc.resourceReplicas(ctx, current, ns, sel, pods, res, container, *target.AverageUtilization, 0)
		if err == nil {
			u := r.utilization
			cur = autoscalingv2.MetricValueStatus{AverageUtilization: &u, AverageValue: milliQuantity(r.average, res)}
		} else {
			err = fmt.Errorf("failed to get %s utilization: %w", res, err)
		}
	case target.AverageValue != nil:
		r, err = c.calc.resourceReplicas(ctx, current, ns, sel, pods, res, container, 0, target.AverageValue.MilliValue())
		if err == nil {
			cur = autoscalingv2.MetricValueStatus{AverageValue: milliQuantity(r.average, res)}
		} else {
			err = fmt.Errorf("failed to get %s usage: %w", res, err)
		}
	default:
		err = fmt.Errorf("invalid resource metric source: neither a utilization target nor a value target was set for %s", res)
	}
	if err != nil {
		return 0, name, status, reason, err
	}
	if status.Resource != nil {
		status.Resource.Current = cur
	} else {
		status.ContainerResource.Current = cur
	}
	return r.replicas, name, status, "", nil
}

// milliQuantity is a milli-value as a quantity: cpu in millicores,
// memory in bytes.
func milliQuantity(milli int64, res corev1.ResourceName) *resource.Quantity {
	if res == corev1.ResourceMemory {
		return resource.NewQuantity(milli/1000, resource.BinarySI)
	}
	return resource.NewMilliQuantity(milli, resource.DecimalSI)
}

// getScale reads the scale subresource of the target and returns it with
// its path.
func (c *hpaController) getScale(ctx context.Context, ns string, ref autoscalingv2.CrossVersionObjectReference) (*autoscalingv1.Scale, string, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return nil, "", fmt.Errorf("invalid API version in scale target reference: %w", err)
	}
	plural, err := c.plural(gv, ref.Kind)
	if err != nil {
		return nil, "", err
	}
	prefix := "/apis/" + gv.String()
	if gv.Group == "" {
		prefix = "/api/" + gv.Version
	}
	path := fmt.Sprintf("%s/namespaces/%s/%s/%s/scale", prefix, ns, plural, ref.Name)
	res := c.env.client.CoreV1().RESTClient().Get().AbsPath(path).Do(ctx)
	raw, err := res.Raw()
	if err != nil {
		return nil, "", res.Error() // the server's Status, as kubectl shows it
	}
	var s autoscalingv1.Scale
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, "", fmt.Errorf("decoding the scale of %s/%s: %w", ref.Kind, ref.Name, err)
	}
	return &s, path, nil
}

// plural finds the resource of a kind through discovery, once.
func (c *hpaController) plural(gv schema.GroupVersion, kind string) (string, error) {
	key := gv.String() + " " + kind
	c.mu.Lock()
	p, ok := c.plurals[key]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	list, err := c.env.client.Discovery().ServerResourcesForGroupVersion(gv.String())
	if err != nil {
		return "", fmt.Errorf("unable to determine resource for scale target reference: %w", err)
	}
	for _, r := range list.APIResources {
		if r.Kind == kind && !strings.Contains(r.Name, "/") {
			hasScale := false
			for _, s := range list.APIResources {
				hasScale = hasScale || s.Name == r.Name+"/scale"
			}
			if !hasScale {
				return "", fmt.Errorf("%s %s has no scale subresource", gv.String(), kind)
			}
			c.mu.Lock()
			c.plurals[key] = r.Name
			c.mu.Unlock()
			return r.Name, nil
		}
	}
	return "", fmt.Errorf("unable to determine resource for scale target reference: no kind %q is registered for version %q", kind, gv.String())
}

// updateScale writes the target's new replica count through its scale
// subresource.
func (c *hpaController) updateScale(ctx context.Context, path string, s *autoscalingv1.Scale, replicas int32) error {
	s = s.DeepCopy()
	s.Spec.Replicas = replicas
	s.APIVersion, s.Kind = "autoscaling/v1", "Scale"
	body, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return c.env.client.CoreV1().RESTClient().Put().AbsPath(path).SetHeader("Content-Type", "application/json").Body(body).Do(ctx).Error()
}

// setHPACondition sets a condition, keeping its transition time when its
// status does not change.
func setHPACondition(st *autoscalingv2.HorizontalPodAutoscalerStatus, t autoscalingv2.HorizontalPodAutoscalerConditionType, status corev1.ConditionStatus, reason, msg string, now time.Time) {
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.Type != t {
			continue
		}
		if c.Status != status {
			c.LastTransitionTime = metav1.NewTime(now)
		}
		c.Status, c.Reason, c.Message = status, reason, msg
		return
	}
	st.Conditions = append(st.Conditions, autoscalingv2.HorizontalPodAutoscalerCondition{
		Type: t, Status: status, Reason: reason, Message: msg, LastTransitionTime: metav1.NewTime(now),
	})
}
