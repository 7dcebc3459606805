package controllers

import (
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

func rules(up bool, window int32, sel autoscalingv2.ScalingPolicySelect, policies ...autoscalingv2.HPAScalingPolicy) autoscalingv2.HPAScalingRules {
	return hpaRules(&autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &window, SelectPolicy: &sel, Policies: policies}, up, 0)
}

// TestHPARulesDefaults: what the spec leaves out is Kubernetes' default.
func TestHPARulesDefaults(t *testing.T) {
	t.Parallel()
	up := hpaRules(nil, true, 0)
	down := hpaRules(nil, false, 5*time.Minute)
	if *up.StabilizationWindowSeconds != 0 || *up.SelectPolicy != autoscalingv2.MaxChangePolicySelect || len(up.Policies) != 2 ||
		up.Policies[0] != (autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15}) ||
		up.Policies[1] != (autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}) {
		t.Errorf("scale up defaults: %+v", up)
	}
	if *down.StabilizationWindowSeconds != 300 || len(down.Policies) != 1 ||
		down.Policies[0] != (autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}) {
		t.Errorf("scale down defaults: %+v", down)
	}
	w := int32(30)
	set := hpaRules(&autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &w}, false, 5*time.Minute)
	if *set.StabilizationWindowSeconds != 30 {
		t.Errorf("a set window was replaced: %d", *set.StabilizationWindowSeconds)
	}
}

// TestHPAStabilize: a scale down waits for the highest recommendation of
// its window, a scale up for the lowest of its own.
func TestHPAStabilize(t *testing.T) {
	t.Parallel()
	up := rules(true, 0, autoscalingv2.MaxChangePolicySelect)
	down := rules(false, 60, autoscalingv2.MaxChangePolicySelect)
	h := &hpaHistory{}
	t0 := hpaNow
	steps := []struct {
		at               time.Duration
		current, desired int32
		want             int32
		reason           string
	}{
		{0, 5, 5, 5, "ReadyForNewScale"},
		{10 * time.Second, 5, 2, 5, "ScaleDownStabilized"},
		{50 * time.Second, 5, 3, 5, "ScaleDownStabilized"},
		{61 * time.Second, 5, 2, 3, "ScaleDownStabilized"}, // 5 left the window; 3 is still in it
		{111 * time.Second, 5, 2, 2, "ReadyForNewScale"},
		{112 * time.Second, 2, 8, 8, "ReadyForNewScale"}, // no scale-up window
	}
	for _, s := range steps {
		got, reason, _ := h.stabilize(t0.Add(s.at), s.current, s.desired, up, down)
		if got != s.want || reason != s.reason {
			t.Errorf("at %v, %d wanting %d: got %d (%s), want %d (%s)", s.at, s.current, s.desired, got, reason, s.want, s.reason)
		}
	}
	h = &hpaHistory{}
	up = rules(true, 30, autoscalingv2.MaxChangePolicySelect)
	h.stabilize(t0, 2, 3, up, down)
	if got, reason, _ := h.stabilize(t0.Add(10*time.Second), 2, 8, up, down); got != 3 || reason != "ScaleUpStabilized" {
		t.Errorf("scale-up window: got %d (%s), want 3", got, reason)
	}
}

// TestHPARateLimits: the policies bound each period's change, Max taking
// the most generous, Min the least, Disabled none; and the reasons the
// ScalingLimited condition gives.
func TestHPARateLimits(t *testing.T) {
	t.Parallel()
	pods := func(v, p int32) autoscalingv2.HPAScalingPolicy {
		return autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PodsScalingPolicy, Value: v, PeriodSeconds: p}
	}
	pct := func(v, p int32) autoscalingv2.HPAScalingPolicy {
		return autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PercentScalingPolicy, Value: v, PeriodSeconds: p}
	}
	defUp := hpaRules(nil, true, 0)
	defDown := hpaRules(nil, false, 0)
	h := &hpaHistory{}
	for _, tc := range []struct {
		current int32
		want    int32
	}{{1, 5}, {2, 6}, {4, 8}, {10, 20}} {
		if got := h.scaleUpLimit(hpaNow, tc.current, defUp); got != tc.want {
			t.Errorf("default scale-up limit from %d: %d, want %d", tc.current, got, tc.want)
		}
	}
	if got := h.scaleUpLimit(hpaNow, 10, rules(true, 0, autoscalingv2.MinChangePolicySelect, pods(4, 15), pct(100, 15))); got != 14 {
		t.Errorf("Min of 4 Pods and 100%% from 10: %d, want 14", got)
	}
	if got := h.scaleUpLimit(hpaNow, 10, rules(true, 0, autoscalingv2.DisabledPolicySelect, pods(4, 15))); got != 10 {
		t.Errorf("Disabled: %d, want 10", got)
	}
	if got := h.scaleDownLimit(hpaNow, 10, rules(false, 0, autoscalingv2.MaxChangePolicySelect, pct(50, 60), pods(2, 60))); got != 5 {
		t.Errorf("Max of 50%% and 2 Pods down from 10: %d, want 5", got)
	}
	if got := h.scaleDownLimit(hpaNow, 10, rules(false, 0, autoscalingv2.MinChangePolicySelect, pct(50, 60), pods(2, 60))); got != 8 {
		t.Errorf("Min of 50%% and 2 Pods down from 10: %d, want 8", got)
	}
	// The period remembers the changes made in it.
	up := rules(true, 0, autoscalingv2.MaxChangePolicySelect, pods(2, 60))
	h.record(hpaNow, 2, up, defDown)
	if got := h.scaleUpLimit(hpaNow.Add(30*time.Second), 4, up); got != 4 {
		t.Errorf("2 Pods per minute, 2 added 30 s ago: limit %d, want 4", got)
	}
	if got := h.scaleUpLimit(hpaNow.Add(61*time.Second), 4, up); got != 6 {
		t.Errorf("after the period: limit %d, want 6", got)
	}
	h = &hpaHistory{}
	for _, tc := range []struct {
		current, stabilized, minR, maxR int32
		want                            int32
		reason                          string
	}{
		{3, 5, 1, 10, 5, "DesiredWithinRange"},
		{3, 12, 1, 10, 7, "ScaleUpLimit"}, // 3+4 Pods beats 100%
		{8, 20, 1, 10, 10, "TooManyReplicas"},
		{8, 1, 2, 10, 2, "TooFewReplicas"},
		{5, 5, 1, 4, 4, "TooManyReplicas"},
	} {
		got, reason, _ := h.limitRate(hpaNow, tc.current, tc.stabilized, tc.minR, tc.maxR, defUp, defDown)
		if got != tc.want || reason != tc.reason {
			t.Errorf("%d → %d in [%d,%d]: got %d (%s), want %d (%s)", tc.current, tc.stabilized, tc.minR, tc.maxR, got, reason, tc.want, tc.reason)
		}
	}
	slowDown := rules(false, 0, autoscalingv2.MaxChangePolicySelect, pods(1, 60))
	if got, reason, _ := h.limitRate(hpaNow, 8, 2, 1, 10, defUp, slowDown); got != 7 || reason != "ScaleDownLimit" {
		t.Errorf("one Pod a minute down from 8: got %d (%s), want 7 (ScaleDownLimit)", got, reason)
	}
}
