package controllers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// headlessLabel marks the Endpoints and EndpointSlices of headless
// Services, as Kubernetes does.
const headlessLabel = "service.kubernetes.io/headless"

// endpointsController keeps one Endpoints object per Service with a
// selector.
type endpointsController struct {
	env *env
	w   *serviceWatch
	eps corelisters.EndpointsLister
	q   *queue
	rec record.EventRecorder
}

func newEndpointsController(e *env) *endpointsController {
	c := &endpointsController{
		env: e,
		eps: e.factory.Core().V1().Endpoints().Lister(),
		rec: e.recorder("endpoint-controller"),
	}
	c.q = newQueue("endpoints", e, c.sync)
	c.w = &serviceWatch{svcs: e.factory.Core().V1().Services().Lister(), pods: e.factory.Core().V1().Pods().Lister(), add: c.q.add}
	c.w.register(e)
	// A sync compares with the cached Endpoints; when the cache catches
	// up (or someone else writes them), look again.
	_, _ = e.factory.Core().V1().Endpoints().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, n any) { c.q.add(mustKey(n)) },
		DeleteFunc: func(obj any) { c.q.add(mustKey(obj)) },
	})
	return c
}

// mustKey is keyOf for objects known to have one.
func mustKey(obj any) string {
	k, _ := keyOf(obj)
	return k
}

func (c *endpointsController) run(ctx context.Context) { c.q.run(ctx, c.env.workers) }

func (c *endpointsController) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	svc, err := c.w.svcs.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		// The Service is gone: so are its Endpoints (unless they were
		// never ours, which a Service without selector leaves alone).
		err := c.env.client.CoreV1().Endpoints(ns).Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting endpoints %s: %w", key, err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if svc.Spec.Selector == nil || svc.DeletionTimestamp != nil {
		return nil
	}
	pods, err := c.w.selectedPods(svc)
	if err != nil {
		return err
	}
	subsets := endpointSubsets(svc, pods)
	lbls := maps.Clone(svc.Labels)
	if lbls == nil {
		lbls = map[string]string{}
	}
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		lbls[headlessLabel] = ""
	} else {
		delete(lbls, headlessLabel)
	}
	cur, err := c.eps.Endpoints(ns).Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if cur != nil && err == nil {
		if apiequality.Semantic.DeepEqual(cur.Subsets, subsets) && apiequality.Semantic.DeepEqual(nonNil(cur.Labels), lbls) {
			return nil
		}
		next := cur.DeepCopy()
		next.Subsets = subsets
		next.Labels = lbls
		if _, err := c.env.client.CoreV1().Endpoints(ns).Update(ctx, next, metav1.UpdateOptions{}); err != nil {
			if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
				c.rec.Eventf(svc, corev1.EventTypeWarning, "FailedToUpdateEndpoint", "Failed to update endpoint %s: %v", key, err)
			}
			return err
		}
		return nil
	}
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: lbls}, Subsets: subsets}
	if _, err := c.env.client.CoreV1().Endpoints(ns).Create(ctx, ep, metav1.CreateOptions{}); err != nil {
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil
		}
		if !apierrors.IsAlreadyExists(err) {
			c.rec.Eventf(svc, corev1.EventTypeWarning, "FailedToCreateEndpoint", "Failed to create endpoint for service %s: %v", key, err)
		}
		return err
	}
	return nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// endpointSubsets builds the subsets of svc from its Pods: each Pod's
// address ready or not ready, with the ports resolved for it, packed so
// that addresses sharing the same ports share a subset.
func endpointSubsets(svc *corev1.Service, pods []*corev1.Pod) []corev1.EndpointSubset {
	type entry struct {
		addr  corev1.EndpointAddress
		ready bool
		ports []corev1.EndpointPort
	}
	var entries []entry
	for _, p := range pods {
		if !podServes(p) || (p.DeletionTimestamp != nil && !svc.Spec.PublishNotReadyAddresses) {
			continue
		}
		addr := corev1.EndpointAddress{IP: p.Status.PodIP, TargetRef: &corev1.ObjectReference{
			Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID,
		}}
		if p.Spec.NodeName != "" {
			addr.NodeName = ptrTo(p.Spec.NodeName)
		}
		if p.Spec.Hostname != "" && p.Spec.Subdomain == svc.Name {
			addr.Hostname = p.Spec.Hostname
		}
		ready := svc.Spec.PublishNotReadyAddresses || podReady(p)
		var ports []corev1.EndpointPort
		for i := range svc.Spec.Ports {
			sp := &svc.Spec.Ports[i]
			n, ok := findPort(p, sp)
			if !ok {
				continue
			}
			ports = append(ports, corev1.EndpointPort{Name: sp.Name, Port: n, Protocol: sp.Protocol, AppProtocol: sp.AppProtocol})
		}
		if len(svc.Spec.Ports) > 0 && len(ports) == 0 {
			continue
		}
		slices.SortFunc(ports, func(a, b corev1.EndpointPort) int { return strings.Compare(portKey(a), portKey(b)) })
		entries = append(entries, entry{addr: addr, ready: ready, ports: ports})
	}
	bySig := map[string]*corev1.EndpointSubset{}
	var sigs []string
	for _, e := range entries {
		var sb strings.Builder
		for _, pt := range e.ports {
			sb.WriteString(portKey(pt) + ";")
		}
		sig := sb.String()
		s := bySig[sig]
		if s == nil {
			s = &corev1.EndpointSubset{Ports: e.ports}
			bySig[sig] = s
			sigs = append(sigs, sig)
		}
		if e.ready {
			s.Addresses = append(s.Addresses, e.addr)
		} else {
			s.NotReadyAddresses = append(s.NotReadyAddresses, e.addr)
		}
	}
	slices.Sort(sigs)
	var out []corev1.EndpointSubset
	for _, sig := range sigs {
		s := bySig[sig]
		sortAddresses(s.Addresses)
		sortAddresses(s.NotReadyAddresses)
		out = append(out, *s)
	}
	return out
}

func portKey(p corev1.EndpointPort) string {
	return p.Name + "/" + string(p.Protocol) + "/" + strconv.Itoa(int(p.Port))
}

func sortAddresses(a []corev1.EndpointAddress) {
	slices.SortFunc(a, func(x, y corev1.EndpointAddress) int {
		if c := strings.Compare(x.IP, y.IP); c != 0 {
			return c
		}
		return strings.Compare(string(x.TargetRef.UID), string(y.TargetRef.UID))
	})
}

func ptrTo[T any](v T) *T { return &v }
