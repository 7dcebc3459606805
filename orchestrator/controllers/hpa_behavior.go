package controllers

import (
	"math"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// The defaults of an autoscaler's behavior, as Kubernetes fills them in:
// scale up by at most 4 Pods or 100% per 15 s, whichever is more, with
// no stabilization; scale down by up to 100% per 15 s once the
// recommendation has been lower for the whole down-scale window.
const (
	hpaScaleUpPods    = 4
	hpaScaleUpPercent = 100
	hpaScalePeriod    = 15
	hpaScaleDownPct   = 100
)

// hpaRules returns the rules of one direction with Kubernetes' defaults
// for what the spec leaves out; window is the default stabilization
// window of that direction (0 up, the controller's down-scale window
// down).
func hpaRules(r *autoscalingv2.HPAScalingRules, up bool, window time.Duration) autoscalingv2.HPAScalingRules {
	var out autoscalingv2.HPAScalingRules
	if r != nil {
		out = *r.DeepCopy()
	}
	if out.StabilizationWindowSeconds == nil {
		w := int32(window / time.Second)
		out.StabilizationWindowSeconds = &w
	}
	if out.SelectPolicy == nil {
		p := autoscalingv2.MaxChangePolicySelect
		out.SelectPolicy = &p
	}
	if len(out.Policies) == 0 {
		if up {
			out.Policies = []autoscalingv2.HPAScalingPolicy{
				{Type: autoscalingv2.PodsScalingPolicy, Value: hpaScaleUpPods, PeriodSeconds: hpaScalePeriod},
				{Type: autoscalingv2.PercentScalingPolicy, Value: hpaScaleUpPercent, PeriodSeconds: hpaScalePeriod},
			}
		} else {
			out.Policies = []autoscalingv2.HPAScalingPolicy{
				{Type: autoscalingv2.PercentScalingPolicy, Value: hpaScaleDownPct, PeriodSeconds: hpaScalePeriod},
			}
		}
	}
	return out
}

// hpaRecommendation is one replica count the metrics asked for, and when.
type hpaRecommendation struct {
	at       time.Time
	replicas int32
}

// hpaScaleEvent is one change of the target's replicas the autoscaler
// made, and when.
type hpaScaleEvent struct {
	at     time.Time
	change int32 // positive when up
}

// hpaHistory is what the autoscaler remembers of one HPA between syncs:
// its recent recommendations and the scalings it made.
type hpaHistory struct {
	recommendations []hpaRecommendation
	events          []hpaScaleEvent
}

// stabilize records desired and returns the replica count the windows
// allow from current: no higher than the lowest recommendation of the
// scale-up window, no lower than the highest of the scale-down window.
// reason and message say why it differs from desired, if it does.
func (h *hpaHistory) stabilize(now time.Time, current, desired int32, up, down autoscalingv2.HPAScalingRules) (int32, string, string) {
	upCut := now.Add(-time.Duration(*up.StabilizationWindowSeconds) * time.Second)
	downCut := now.Add(-time.Duration(*down.StabilizationWindowSeconds) * time.Second)
	upRec, downRec := desired, desired
	keep := h.recommendations[:0]
	for _, r := range h.recommendations {
		inUp, inDown := r.at.After(upCut), r.at.After(downCut)
		if inUp {
			upRec = min(upRec, r.replicas)
		}
		if inDown {
			downRec = max(downRec, r.replicas)
		}
		if inUp || inDown {
			keep = append(keep, r)
		}
	}
	h.recommendations = append(keep, hpaRecommendation{at: now, replicas: desired})
	out := current
	if out < upRec {
		out = upRec
	}
	if out > downRec {
		out = downRec
	}
	switch {
	case out < desired:
		return out, "ScaleUpStabilized", "recent recommendations were lower than current one, applying the lowest recent recommendation"
	case out > desired:
		return out, "ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation"
	}
	return out, "ReadyForNewScale", "recommended size matches current size"
}

// inPeriod sums the changes up (positive) and down (negative, returned
// positive) made within the last period seconds.
func (h *hpaHistory) inPeriod(now time.Time, period int32) (added, removed int32) {
	cut := now.Add(-time.Duration(period) * time.Second)
	for _, e := range h.events {
		if !e.at.After(cut) {
			continue
		}
		if e.change > 0 {
			added += e.change
		} else {
			removed -= e.change
		}
	}
	return added, removed
}

// record remembers a scaling, forgetting those older than every period
// of the rules.
func (h *hpaHistory) record(now time.Time, change int32, up, down autoscalingv2.HPAScalingRules) {
	longest := int32(0)
	for _, p := range append(append([]autoscalingv2.HPAScalingPolicy(nil), up.Policies...), down.Policies...) {
		longest = max(longest, p.PeriodSeconds)
	}
	cut := now.Add(-time.Duration(longest) * time.Second)
	keep := h.events[:0]
	for _, e := range h.events {
		if e.at.After(cut) {
			keep = append(keep, e)
		}
	}
	h.events = append(keep, hpaScaleEvent{at: now, change: change})
}

// scaleUpLimit is the most replicas the scale-up policies allow now:
// each policy lets the count grow from what it was at the start of its
// period by a number of Pods or a percentage; selectPolicy Max takes the
// most generous, Min the least, Disabled allows none.
func (h *hpaHistory) scaleUpLimit(now time.Time, current int32, rules autoscalingv2.HPAScalingRules) int32 {
	sel := *rules.SelectPolicy
	if sel == autoscalingv2.DisabledPolicySelect {
		return current
	}
	limit := int32(math.MinInt32)
	if sel == autoscalingv2.MinChangePolicySelect {
		limit = math.MaxInt32
	}
	for _, p := range rules.Policies {
		added, removed := h.inPeriod(now, p.PeriodSeconds)
		start := current - added + removed
		var proposed int32
		if p.Type == autoscalingv2.PodsScalingPolicy {
			proposed = start + p.Value
		} else {
			proposed = int32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		}
		if sel == autoscalingv2.MinChangePolicySelect {
			limit = min(limit, proposed)
		} else {
			limit = max(limit, proposed)
		}
	}
	return limit
}

// scaleDownLimit is the fewest replicas the scale-down policies allow
// now, the mirror of scaleUpLimit.
func (h *hpaHistory) scaleDownLimit(now time.Time, current int32, rules autoscalingv2.HPAScalingRules) int32 {
	sel := *rules.SelectPolicy
	if sel == autoscalingv2.DisabledPolicySelect {
		return current
	}
	limit := int32(math.MaxInt32)
	if sel == autoscalingv2.MinChangePolicySelect {
		limit = math.MinInt32
	}
	for _, p := range rules.Policies {
		added, removed := h.inPeriod(now, p.PeriodSeconds)
		start := current - added + removed
		var proposed int32
		if p.Type == autoscalingv2.PodsScalingPolicy {
			proposed = start - p.Value
		} else {
			proposed = int32(float64(start) * (1 - float64(p.Value)/100))
		}
		if sel == autoscalingv2.MinChangePolicySelect {
			limit = max(limit, proposed)
		} else {
			limit = min(limit, proposed)
		}
	}
	return limit
}

// limitRate bounds a stabilized recommendation by minReplicas,
// maxReplicas and the rate the policies allow, and says which limit, if
// any, applied (the ScalingLimited condition's reason and message).
func (h *hpaHistory) limitRate(now time.Time, current, stabilized, minR, maxR int32, up, down autoscalingv2.HPAScalingRules) (int32, string, string) {
	switch {
	case stabilized > current:
		limit := max(h.scaleUpLimit(now, current, up), current)
		if maxR > limit {
			if stabilized > limit {
				return limit, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"
			}
		} else if stabilized > maxR {
			return maxR, "TooManyReplicas", "the desired replica count is more than the maximum replica count"
		}
	case stabilized < current:
		limit := min(h.scaleDownLimit(now, current, down), current)
		if minR < limit {
			if stabilized < limit {
				return limit, "ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate"
			}
		} else if stabilized < minR {
			return minR, "TooFewReplicas", "the desired replica count is less than the minimum replica count"
		}
	default:
		if stabilized > maxR {
			return maxR, "TooManyReplicas", "the desired replica count is more than the maximum replica count"
		}
		if stabilized < minR {
			return minR, "TooFewReplicas", "the desired replica count is less than the minimum replica count"
		}
	}
	return stabilized, "DesiredWithinRange", "the desired count is within the acceptable range"
}
