package controllers

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// serviceWatch queues the Services a Pod or Service change concerns; the
// Endpoints and EndpointSlice controllers share it.
type serviceWatch struct {
	svcs corelisters.ServiceLister
	pods corelisters.PodLister
	add  func(key string)
}

// register adds the handlers to the Service and Pod informers.
func (w *serviceWatch) register(e *env) {
	_, _ = e.factory.Core().V1().Services().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    w.enqueue,
		UpdateFunc: func(_, n any) { w.enqueue(n) },
		DeleteFunc: w.enqueue,
	})
	_, _ = e.factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { w.podChanged(nil, obj) },
		UpdateFunc: func(o, n any) {
			op, _ := o.(*corev1.Pod)
			np, _ := n.(*corev1.Pod)
			if op != nil && np != nil && op.ResourceVersion == np.ResourceVersion {
				return
			}
			w.podChanged(o, n)
		},
		DeleteFunc: func(obj any) { w.podChanged(nil, obj) },
	})
}

func (w *serviceWatch) enqueue(obj any) {
	if k, ok := keyOf(obj); ok {
		w.add(k)
	}
}

// podChanged queues every Service in the Pod's namespace whose selector
// matches the Pod's old or new labels.
func (w *serviceWatch) podChanged(oldObj, newObj any) {
	pods := []*corev1.Pod{asPod(oldObj), asPod(newObj)}
	var ns string
	for _, p := range pods {
		if p != nil {
			ns = p.Namespace
		}
	}
	if ns == "" {
		return
	}
	svcs, err := w.svcs.Services(ns).List(labels.Everything())
	if err != nil {
		return
	}
	for _, s := range svcs {
		if s.Spec.Selector == nil {
			continue
		}
		sel := labels.Set(s.Spec.Selector).AsSelectorPreValidated()
		for _, p := range pods {
			if p != nil && sel.Matches(labels.Set(p.Labels)) {
				w.add(ns + "/" + s.Name)
				break
			}
		}
	}
}

func asPod(obj any) *corev1.Pod {
	switch o := obj.(type) {
	case *corev1.Pod:
		return o
	case cache.DeletedFinalStateUnknown:
		p, _ := o.Obj.(*corev1.Pod)
		return p
	}
	return nil
}

// selectedPods lists the Pods svc's selector picks.
func (w *serviceWatch) selectedPods(svc *corev1.Service) ([]*corev1.Pod, error) {
	return w.pods.Pods(svc.Namespace).List(labels.Set(svc.Spec.Selector).AsSelectorPreValidated())
}

// findPort resolves a Service port's targetPort for one Pod: a number as
// it is, a name through the Pod's container ports of the same protocol
// (sidecar init containers included).
func findPort(p *corev1.Pod, sp *corev1.ServicePort) (int32, bool) {
	if sp.TargetPort.Type == intstr.Int {
		if sp.TargetPort.IntVal == 0 {
			return sp.Port, true
		}
		return sp.TargetPort.IntVal, true
	}
	proto := sp.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	match := func(cs []corev1.Container, sidecarsOnly bool) (int32, bool) {
		for _, c := range cs {
			if sidecarsOnly && (c.RestartPolicy == nil || *c.RestartPolicy != corev1.ContainerRestartPolicyAlways) {
				continue
			}
			for _, cp := range c.Ports {
				pp := cp.Protocol
				if pp == "" {
					pp = corev1.ProtocolTCP
				}
				if cp.Name == sp.TargetPort.StrVal && pp == proto {
					return cp.ContainerPort, true
				}
			}
		}
		return 0, false
	}
	if n, ok := match(p.Spec.Containers, false); ok {
		return n, true
	}
	return match(p.Spec.InitContainers, true)
}

// podServes reports whether p belongs in endpoints at all: it has an IP
// and has not finished for good.
func podServes(p *corev1.Pod) bool {
	if p.Status.PodIP == "" {
		return false
	}
	switch p.Status.Phase {
	case corev1.PodSucceeded, corev1.PodFailed:
		return false
	}
	return true
}
