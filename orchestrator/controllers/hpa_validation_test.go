package controllers

import (
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// TestValidateHPA: specs kube-apiserver refuses are refused with its
// words.
func TestValidateHPA(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		mutate func(*autoscalingv2.HorizontalPodAutoscaler)
		want   string
	}{
		{"valid", func(*autoscalingv2.HorizontalPodAutoscaler) {}, ""},
		{"max below min", func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.MinReplicas = ptr(int32(3))
			h.Spec.MaxReplicas = 2
		},
			"spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"},
		{"zero max", func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MaxReplicas = 0 },
			"[spec.maxReplicas: Invalid value: 0: must be greater than or equal to 1, spec.maxReplicas: Invalid value: 0: must be greater than or equal to `minReplicas`]"},
		{"zero min", func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MinReplicas = ptr(int32(0)) },
			"spec.minReplicas: Invalid value: 0: must be greater than or equal to 1"},
		{"no target name", func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.ScaleTargetRef.Name = "" },
			"spec.scaleTargetRef.name: Required value"},
		{"long window", func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Behavior.ScaleDown.StabilizationWindowSeconds = ptr(int32(4000))
		}, "spec.behavior.scaleDown.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600"},
		{"bad policy", func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Behavior.ScaleUp = &autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{{Type: "Replicas", Value: 0, PeriodSeconds: 15}}}
		}, `[spec.behavior.scaleUp.policies[0].type: Unsupported value: "Replicas": supported values: "Percent", "Pods", spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := cpuHPA("web", 1, 5, 50, 30)
			tc.mutate(h)
			got := ValidateHPA(&h.Spec, field.NewPath("spec")).ToAggregate()
			switch {
			case tc.want == "" && got != nil:
				t.Fatalf("valid spec refused: %v", got)
			case tc.want != "" && (got == nil || got.Error() != tc.want):
				t.Fatalf("got  %v\nwant %s", got, tc.want)
			}
		})
	}
}
