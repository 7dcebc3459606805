package controllers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Defaults of the autoscaler's replica calculation, kube-controller-
// manager's.
const (
	// DefaultHPATolerance is how far from 1.0 the usage ratio must be
	// before the autoscaler scales.
	DefaultHPATolerance = 0.1
	// DefaultHPACPUInitializationPeriod is how long after a Pod starts
	// its cpu samples are doubted unless it is ready.
	DefaultHPACPUInitializationPeriod = 5 * time.Minute
	// DefaultHPAInitialReadinessDelay is how long after a Pod starts a
	// readiness change still counts as its first.
	DefaultHPAInitialReadinessDelay = 30 * time.Second
)

// podMetric is one Pod's usage of a resource: millicores for cpu, bytes
// (times 1000) for memory, as the metrics client reports milli-values;
// with the time and window of the sample.
type podMetric struct {
	milli     int64
	timestamp time.Time
	window    time.Duration
}

// resourceMetrics reads the usage of the Pods a selector selects: the
// sum over each Pod's containers, or over its one container named
// container when that is not "". The seam between the autoscaler and
// metrics.k8s.io; tests fake it.
type resourceMetrics interface {
	podUsage(ctx context.Context, ns string, sel labels.Selector, res corev1.ResourceName, container string) (map[string]podMetric, error)
}

// errNoMetrics is the metrics API answering with no Pod measured.
var errNoMetrics = errors.New("no metrics returned from resource metrics API")

// replicaCalc computes replica counts from usage as Kubernetes' replica
// calculator does.
type replicaCalc struct {
	metrics   resourceMetrics
	tolerance float64
	cpuInit   time.Duration
	readiness time.Duration
	now       func() time.Time
}

// resourceResult is the outcome of one resource metric.
type resourceResult struct {
	replicas int32
	// utilization is the average usage as a percentage of requests (for
	// Utilization targets); average the raw average usage, milli-units.
	utilization int32
	average     int64
	timestamp   time.Time
}

// podGroups sorts the selected Pods for a calculation: those ignored
// (deleted, failed), those whose samples are not trusted yet (pending, or
// for cpu not ready while starting up), and those with no sample.
type podGroups struct {
	ready, unready, missing, ignored map[string]bool
}

func (rc *replicaCalc) group(pods []*corev1.Pod, metrics map[string]podMetric, res corev1.ResourceName) podGroups {
	g := podGroups{ready: map[string]bool{}, unready: map[string]bool{}, missing: map[string]bool{}, ignored: map[string]bool{}}
	now := rc.now()
	for _, p := range pods {
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodFailed {
			g.ignored[p.Name] = true
			continue
		}
		if p.Status.Phase == corev1.PodPending {
			g.unready[p.Name] = true
			continue
		}
		m, ok := metrics[p.Name]
		if !ok {
			g.missing[p.Name] = true
			continue
		}
		if res == corev1.ResourceCPU {
			var cond *corev1.PodCondition
			for i := range p.Status.Conditions {
				if p.Status.Conditions[i].Type == corev1.PodReady {
					cond = &p.Status.Conditions[i]
				}
			}
			if cond == nil || p.Status.StartTime == nil {
				g.unready[p.Name] = true
				continue
			}
			start := p.Status.StartTime.Time
			var unready bool
			if start.Add(rc.cpuInit).After(now) {
				// Starting up: a sample taken before the Pod turned ready
				// (within its window) may be the start-up burst.
				unready = cond.Status == corev1.ConditionFalse || m.timestamp.Before(cond.LastTransitionTime.Time.Add(m.window))
			} else {
				// Never ready since its start: it is still initializing.
				unready = cond.Status == corev1.ConditionFalse && start.Add(rc.readiness).After(cond.LastTransitionTime.Time)
			}
			if unready {
				g.unready[p.Name] = true
				continue
			}
		}
		g.ready[p.Name] = true
	}
	return g
}

// podRequests sums each Pod's requests of res (of its one container when
// container is set); a container without one makes utilization
// undefined.
func podRequests(pods []*corev1.Pod, res corev1.ResourceName, container string) (map[string]int64, error) {
	out := make(map[string]int64, len(pods))
	for _, p := range pods {
		var sum int64
		for _, c := range p.Spec.Containers {
			if container != "" && c.Name != container {
				continue
			}
			q, ok := c.Resources.Requests[res]
			if !ok {
				return nil, fmt.Errorf("missing request for %s in container %s of Pod %s", res, c.Name, p.Name)
			}
			sum += q.MilliValue()
		}
		out[p.Name] = sum
	}
	return out, nil
}

// utilizationRatio is the selected metrics' usage over their requests: the
// ratio to the target utilization, the utilization in percent, and the
// raw average.
func utilizationRatio(metrics map[string]podMetric, requests map[string]int64, target int32) (float64, int32, int64, error) {
	var used, requested int64
	n := 0
	for name, m := range metrics {
		req, ok := requests[name]
		if !ok {
			continue
		}
		used += m.milli
		requested += req
		n++
	}
	if requested == 0 {
		return 0, 0, 0, errors.New("no metrics returned matched known pods")
	}
	util := int32(used * 100 / requested)
	return float64(util) / float64(target), util, used / int64(n), nil
}

// averageRatio is the selected metrics' average over a target average.
func averageRatio(metrics map[string]podMetric, target int64) (float64, int64) {
	var sum int64
	for _, m := range metrics {
		sum += m.milli
	}
	avg := sum / int64(len(metrics))
	return float64(avg) / float64(target), avg
}

// resourceReplicas proposes a replica count for one resource metric
// against either a utilization of requests (targetUtil > 0) or an
// average value in milli-units (targetAvg > 0), from current replicas:
// the usage ratio times the Pods measured, unchanged within the
// tolerance; Pods without samples count as using the target when
// scaling down and nothing when scaling up, not-yet-ready Pods as using
// nothing on a scale up, and a proposal those assumptions reverse is
// dropped.
func (rc *replicaCalc) resourceReplicas(ctx context.Context, current int32, ns string, sel labels.Selector, pods []*corev1.Pod, res corev1.ResourceName, container string, targetUtil int32, targetAvg int64) (resourceResult, error) {
	metrics, err := rc.metrics.podUsage(ctx, ns, sel, res, container)
	if err != nil {
		return resourceResult{}, fmt.Errorf("unable to get metrics for resource %s: %w", res, err)
	}
	if len(metrics) == 0 {
		return resourceResult{}, fmt.Errorf("unable to get metrics for resource %s: %w", res, errNoMetrics)
	}
	if len(pods) == 0 {
		return resourceResult{}, errors.New("no pods returned by selector while calculating replica count")
	}
	var ts time.Time
	for _, m := range metrics {
		if m.timestamp.After(ts) {
			ts = m.timestamp
		}
	}
	g := rc.group(pods, metrics, res)
	for name := range metrics {
		if !g.ready[name] {
			delete(metrics, name)
		}
	}
	if len(metrics) == 0 && len(g.missing) == 0 {
		return resourceResult{}, fmt.Errorf("unable to get metrics for resource %s: no ready pods with metrics", res)
	}
	var requests map[string]int64
	if targetUtil > 0 {
		if requests, err = podRequests(pods, res, container); err != nil {
			return resourceResult{}, err
		}
	}
	ratio := func() (float64, int32, int64, error) {
		if targetUtil > 0 {
			return utilizationRatio(metrics, requests, targetUtil)
		}
		if len(metrics) == 0 {
			return 0, 0, 0, errors.New("no metrics returned matched known pods")
		}
		r, avg := averageRatio(metrics, targetAvg)
		return r, 0, avg, nil
	}
	usage, util, avg, err := 0.0, int32(0), int64(0), error(nil)
	if len(metrics) > 0 {
		if usage, util, avg, err = ratio(); err != nil {
			return resourceResult{}, err
		}
	}
	out := resourceResult{replicas: current, utilization: util, average: avg, timestamp: ts}
	upWithUnready := len(g.unready) > 0 && usage > 1.0
	if !upWithUnready && len(g.missing) == 0 {
		if math.Abs(1.0-usage) <= rc.tolerance {
			return out, nil
		}
		out.replicas = int32(math.Ceil(usage * float64(len(metrics))))
		return out, nil
	}
	// Fill in the Pods without a trusted sample, then look again.
	if len(g.missing) > 0 {
		for name := range g.missing {
			switch {
			case usage < 1.0 && targetUtil > 0:
				metrics[name] = podMetric{milli: requests[name] * int64(max(100, targetUtil)) / 100}
			case usage < 1.0:
				metrics[name] = podMetric{milli: targetAvg}
			default:
				metrics[name] = podMetric{}
			}
		}
	}
	if upWithUnready {
		for name := range g.unready {
			metrics[name] = podMetric{}
		}
	}
	newUsage, _, _, err := ratio()
	if err != nil {
		return resourceResult{}, err
	}
	if math.Abs(1.0-newUsage) <= rc.tolerance || (usage < 1.0 && newUsage > 1.0) || (usage > 1.0 && newUsage < 1.0) {
		return out, nil
	}
	proposed := int32(math.Ceil(newUsage * float64(len(metrics))))
	if (newUsage < 1.0 && proposed > current) || (newUsage > 1.0 && proposed < current) {
		return out, nil
	}
	out.replicas = proposed
	return out, nil
}
