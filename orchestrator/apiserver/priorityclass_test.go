package apiserver

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPriorityClasses: the system classes exist from the start; classes
// are validated as kube-apiserver validates them (user values up to 1e9,
// system- names reserved, one global default, values immutable); and a
// new Pod gets its class's priority, the global default's without one,
// or is refused when its class does not exist, as the Priority admission
// plugin does.
func TestPriorityClasses(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	cs := ts.client
	ctx := context.Background()
	pcs := cs.SchedulingV1().PriorityClasses()

	for name, value := range map[string]int32{"system-node-critical": 2000001000, "system-cluster-critical": 2000000000} {
		pc, err := pcs.Get(ctx, name, metav1.GetOptions{})
		if err != nil || pc.Value != value {
			t.Errorf("%s: %v %v; want value %d", name, pc, err, value)
		}
	}

	class := func(name string, value int32, def bool) error {
		_, err := pcs.Create(ctx, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Value: value, GlobalDefault: def}, metav1.CreateOptions{})
		return err
	}
	if err := class("high", 1000, false); err != nil {
		t.Fatal(err)
	}
	if err := class("too-high", 2000000000, false); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "value: Forbidden: maximum allowed value of a user defined priority is 1000000000") {
		t.Errorf("a user class above 1e9: %v", err)
	}
	if err := class("system-mine", 10, false); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "priority class names with 'system-' prefix are reserved for system use only") {
		t.Errorf("a system- name: %v", err)
	}
	high, err := pcs.Get(ctx, "high", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if high.PreemptionPolicy == nil || *high.PreemptionPolicy != corev1.PreemptLowerPriority {
		t.Errorf("preemptionPolicy = %v, want the default PreemptLowerPriority", high.PreemptionPolicy)
	}
	high.Value = 2000
	if _, err := pcs.Update(ctx, high, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "value: Forbidden: may not be changed in an update.") {
		t.Errorf("changing a class's value: %v", err)
	}

	pod := func(name, class string) (*corev1.Pod, error) {
		return cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       corev1.PodSpec{PriorityClassName: class, Containers: []corev1.Container{{Name: "c", Image: "x"}}},
		}, metav1.CreateOptions{})
	}
	p, err := pod("classed", "high")
	if err != nil || p.Spec.Priority == nil || *p.Spec.Priority != 1000 || p.Spec.PreemptionPolicy == nil || *p.Spec.PreemptionPolicy != corev1.PreemptLowerPriority {
		t.Errorf("a Pod of class high: %v %+v", err, p.Spec)
	}
	p, err = pod("plain", "")
	if err != nil || p.Spec.Priority == nil || *p.Spec.Priority != 0 {
		t.Errorf("a Pod without a class: %v %+v", err, p.Spec)
	}
	_, err = pod("lost", "nope")
	if !apierrors.IsForbidden(err) || err.Error() != `pods "lost" is forbidden: no PriorityClass with name nope was found` {
		t.Errorf("a Pod of a class that does not exist: %v", err)
	}

	if err := class("default-low", 5, true); err != nil {
		t.Fatal(err)
	}
	if err := class("default-two", 6, true); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "PriorityClass default-low is already marked as default. Only one default can exist") {
		t.Errorf("a second global default: %v", err)
	}
	p, err = pod("defaulted", "")
	if err != nil || p.Spec.Priority == nil || *p.Spec.Priority != 5 || p.Spec.PriorityClassName != "default-low" {
		t.Errorf("a Pod without a class under a global default: %v %+v", err, p.Spec)
	}
}
