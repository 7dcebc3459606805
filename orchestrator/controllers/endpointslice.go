package controllers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// sliceManager is the managed-by label value of the slices this
// controller owns, Kubernetes' own.
const sliceManager = "endpointslice-controller.k8s.io"

// maxEndpointsPerSlice is Kubernetes' default cap on endpoints per slice.
const maxEndpointsPerSlice = 100

// endpointSliceController keeps the EndpointSlices of each Service with
// a selector: one slice per address family and port mapping (more when
// one holds over maxEndpointsPerSlice endpoints).
type endpointSliceController struct {
	env    *env
	w      *serviceWatch
	slices discoverylisters.EndpointSliceLister
	q      *queue
	rec    record.EventRecorder

	// written remembers, per Service, the slices the last sync wrote
	// (name to resourceVersion, "" for deleted), so that the next sync
	// waits for the cache to show them instead of acting twice.
	mu      sync.Mutex
	written map[string]sliceWrites
}

// sliceWrites are one sync's writes and when they were made.
type sliceWrites struct {
	at      time.Time
	written map[string]string
}

func newEndpointSliceController(e *env) *endpointSliceController {
	c := &endpointSliceController{
		env:     e,
		slices:  e.factory.Discovery().V1().EndpointSlices().Lister(),
		rec:     e.recorder("endpoint-slice-controller"),
		written: map[string]sliceWrites{},
	}
	c.q = newQueue("endpointslice", e, c.sync)
	c.w = &serviceWatch{svcs: e.factory.Core().V1().Services().Lister(), pods: e.factory.Core().V1().Pods().Lister(), add: c.q.add}
	c.w.register(e)
	_, _ = e.factory.Discovery().V1().EndpointSlices().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.sliceChanged,
		UpdateFunc: func(_, n any) { c.sliceChanged(n) },
		DeleteFunc: c.sliceChanged,
	})
	return c
}

func (c *endpointSliceController) run(ctx context.Context) { c.q.run(ctx, c.env.workers) }

// sliceChanged resyncs the Service of a managed slice someone else
// changed or deleted.
func (c *endpointSliceController) sliceChanged(obj any) {
	var s *discoveryv1.EndpointSlice
	switch o := obj.(type) {
	case *discoveryv1.EndpointSlice:
		s = o
	case cache.DeletedFinalStateUnknown:
		s, _ = o.Obj.(*discoveryv1.EndpointSlice)
	}
	if s == nil || s.Labels[discoveryv1.LabelManagedBy] != sliceManager || s.Labels[discoveryv1.LabelServiceName] == "" {
		return
	}
	c.q.add(s.Namespace + "/" + s.Labels[discoveryv1.LabelServiceName])
}

// desiredSlice is one slice's content before it is matched to a stored
// slice.
type desiredSlice struct {
	family    discoveryv1.AddressType
	ports     []discoveryv1.EndpointPort
	endpoints []discoveryv1.Endpoint
}

func (c *endpointSliceController) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	svc, err := c.w.svcs.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		// The garbage collector removes slices owned by a deleted Service.
		c.mu.Lock()
		delete(c.written, key)
		c.mu.Unlock()
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
	want := desiredSlices(svc, pods)
	existing, err := c.slices.EndpointSlices(ns).List(labels.SelectorFromSet(labels.Set{
		discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: sliceManager,
	}))
	if err != nil {
		return err
	}
	if !c.cacheCaughtUp(key, existing) {
		c.q.addAfter(key, 50*time.Millisecond)
		return nil
	}
	slices.SortFunc(existing, func(a, b *discoveryv1.EndpointSlice) int { return strings.Compare(a.Name, b.Name) })
	lbls := sliceLabels(svc)
	used := map[string]bool{}
	wrote := map[string]string{}
	defer func() {
		c.mu.Lock()
		c.written[key] = sliceWrites{at: time.Now(), written: wrote}
		c.mu.Unlock()
	}()
	var errs []error
	for _, d := range want {
		// Reuse a stored slice of the same family and ports, else any
		// spare one of the family, else create.
		var match *discoveryv1.EndpointSlice
		for _, pass := range []bool{true, false} {
			for _, s := range existing {
				if used[s.Name] || s.AddressType != d.family || (pass && !apiequality.Semantic.DeepEqual(s.Ports, d.ports)) {
					continue
				}
				match = s
				break
			}
			if match != nil {
				break
			}
		}
		if match != nil {
			used[match.Name] = true
			if apiequality.Semantic.DeepEqual(match.Ports, d.ports) && apiequality.Semantic.DeepEqual(match.Endpoints, d.endpoints) && apiequality.Semantic.DeepEqual(nonNil(match.Labels), lbls) {
				continue
			}
			next := match.DeepCopy()
			next.Ports, next.Endpoints, next.Labels = d.ports, d.endpoints, lbls
			out, err := c.env.client.DiscoveryV1().EndpointSlices(ns).Update(ctx, next, metav1.UpdateOptions{})
			if err != nil {
				errs = append(errs, err)
			} else {
				wrote[out.Name] = out.ResourceVersion
			}
			continue
		}
		o := &owner{meta: svc, gvk: corev1.SchemeGroupVersion.WithKind("Service")}
		s := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{
				GenerateName:    name + "-",
				Namespace:       ns,
				Labels:          lbls,
				OwnerReferences: []metav1.OwnerReference{o.ref()},
			},
			AddressType: d.family,
			Ports:       d.ports,
			Endpoints:   d.endpoints,
		}
		out, err := c.env.client.DiscoveryV1().EndpointSlices(ns).Create(ctx, s, metav1.CreateOptions{})
		switch {
		case err == nil:
			wrote[out.Name] = out.ResourceVersion
		case !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
			errs = append(errs, err)
		}
	}
	for _, s := range existing {
		if used[s.Name] {
			continue
		}
		if err := c.env.client.DiscoveryV1().EndpointSlices(ns).Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		} else {
			wrote[s.Name] = ""
		}
	}
	if err := errors.Join(errs...); err != nil {
		if !apierrors.IsConflict(err) {
			c.rec.Eventf(svc, corev1.EventTypeWarning, "FailedToUpdateEndpointSlices", "Error updating Endpoint Slices for Service %s: %v", key, err)
		}
		return fmt.Errorf("syncing the endpointslices of service %s: %w", key, err)
	}
	return nil
}

// cacheCaughtUp reports whether the cached slices of the Service at key
// show what the last sync wrote: created and updated ones at least at the
// written version, deleted ones gone. Until then, acting on the cache
// could create a slice twice.
func (c *endpointSliceController) cacheCaughtUp(key string, cached []*discoveryv1.EndpointSlice) bool {
	c.mu.Lock()
	w := c.written[key]
	c.mu.Unlock()
	// Someone else may have changed a slice before the cache saw ours:
	// after a while, trust the cache.
	wrote := w.written
	if len(wrote) == 0 || time.Since(w.at) > 5*time.Second {
		return true
	}
	have := map[string]string{}
	for _, s := range cached {
		have[s.Name] = s.ResourceVersion
	}
	for name, rv := range wrote {
		cur, ok := have[name]
		switch {
		case rv == "" && ok:
			return false
		case rv != "" && (!ok || olderVersion(cur, rv)):
			return false
		}
	}
	return true
}

// olderVersion compares resourceVersions as the numbers this API server
// and etcd make them; unparsable ones are never older.
func olderVersion(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	return err1 == nil && err2 == nil && x < y
}

// sliceLabels are the Service's labels plus the slice controller's own.
func sliceLabels(svc *corev1.Service) map[string]string {
	l := maps.Clone(svc.Labels)
	if l == nil {
		l = map[string]string{}
	}
	delete(l, headlessLabel)
	l[discoveryv1.LabelServiceName] = svc.Name
	l[discoveryv1.LabelManagedBy] = sliceManager
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		l[headlessLabel] = ""
	}
	return l
}

// serviceFamilies are the address types svc's slices use.
func serviceFamilies(svc *corev1.Service) []discoveryv1.AddressType {
	var out []discoveryv1.AddressType
	for _, f := range svc.Spec.IPFamilies {
		if f == corev1.IPv6Protocol {
			out = append(out, discoveryv1.AddressTypeIPv6)
		} else {
			out = append(out, discoveryv1.AddressTypeIPv4)
		}
	}
	if len(out) == 0 {
		out = []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4}
	}
	return out
}

// desiredSlices groups the Service's endpoints by address family and
// resolved ports. A Service with no endpoints keeps one empty slice per
// family, as Kubernetes keeps a placeholder.
func desiredSlices(svc *corev1.Service, pods []*corev1.Pod) []desiredSlice {
	var out []desiredSlice
	for _, fam := range serviceFamilies(svc) {
		groups := map[string]*desiredSlice{}
		var keys []string
		for _, p := range pods {
			if !podServes(p) {
				continue
			}
			ip := podIPOf(p, fam)
			if ip == "" {
				continue
			}
			var ports []discoveryv1.EndpointPort
			var sig strings.Builder
			for i := range svc.Spec.Ports {
				sp := &svc.Spec.Ports[i]
				n, ok := findPort(p, sp)
				if !ok {
					continue
				}
				ports = append(ports, discoveryv1.EndpointPort{Name: ptrTo(sp.Name), Protocol: ptrTo(sp.Protocol), Port: ptrTo(n), AppProtocol: sp.AppProtocol})
				fmt.Fprintf(&sig, "%s/%s/%d;", sp.Name, sp.Protocol, n)
			}
			// Ready is never true for a terminating Pod unless the
			// Service publishes not-ready addresses.
			terminating := p.DeletionTimestamp != nil
			serving := svc.Spec.PublishNotReadyAddresses || podReady(p)
			ep := discoveryv1.Endpoint{
				Addresses: []string{ip},
				Conditions: discoveryv1.EndpointConditions{
					Ready:       ptrTo(svc.Spec.PublishNotReadyAddresses || (serving && !terminating)),
					Serving:     ptrTo(serving),
					Terminating: ptrTo(terminating),
				},
				TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID},
			}
			if p.Spec.NodeName != "" {
				ep.NodeName = ptrTo(p.Spec.NodeName)
			}
			if p.Spec.Hostname != "" && p.Spec.Subdomain == svc.Name {
				ep.Hostname = ptrTo(p.Spec.Hostname)
			}
			k := sig.String()
			g := groups[k]
			if g == nil {
				g = &desiredSlice{family: fam, ports: ports}
				groups[k] = g
				keys = append(keys, k)
			}
			g.endpoints = append(g.endpoints, ep)
		}
		slices.Sort(keys)
		if len(keys) == 0 {
			out = append(out, desiredSlice{family: fam, ports: []discoveryv1.EndpointPort{}})
			continue
		}
		for _, k := range keys {
			g := groups[k]
			slices.SortFunc(g.endpoints, func(a, b discoveryv1.Endpoint) int { return strings.Compare(a.TargetRef.Name, b.TargetRef.Name) })
			for len(g.endpoints) > maxEndpointsPerSlice {
				out = append(out, desiredSlice{family: fam, ports: g.ports, endpoints: g.endpoints[:maxEndpointsPerSlice]})
				g.endpoints = g.endpoints[maxEndpointsPerSlice:]
			}
			out = append(out, *g)
		}
	}
	return out
}

// podIPOf returns the Pod's address of the family, or "".
func podIPOf(p *corev1.Pod, fam discoveryv1.AddressType) string {
	ips := []string{p.Status.PodIP}
	for _, x := range p.Status.PodIPs {
		ips = append(ips, x.IP)
	}
	for _, s := range ips {
		ip := net.ParseIP(s)
		if ip == nil {
			continue
		}
		if (ip.To4() != nil) == (fam == discoveryv1.AddressTypeIPv4) {
			return s
		}
	}
	return ""
}
