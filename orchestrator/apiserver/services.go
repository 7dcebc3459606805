package apiserver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// DefaultServiceCIDR is the range Service cluster IPs come from when
// Config.ServiceCIDR is empty, kube-apiserver's default.
const DefaultServiceCIDR = "10.96.0.0/12"

// The node port range, kube-apiserver's default.
const (
	nodePortMin = 30000
	nodePortMax = 32767
)

// Kubernetes' allocation errors, as its allocators word them.
var (
	errIPAllocated   = errors.New("provided IP is already allocated")
	errPortAllocated = errors.New("provided port is already allocated")
	errRangeFull     = errors.New("range is full")
)

// serviceAllocator hands out Service cluster IPs from the service range
// and node ports from 30000-32767, remembering which Service (by uid)
// holds each. It lives in memory and is rebuilt from the store at start.
type serviceAllocator struct {
	mu     sync.Mutex
	prefix netip.Prefix
	base   uint32 // the network address
	size   uint32 // addresses in the range, network and broadcast included
	ips    map[uint32]string
	ports  map[int64]string
}

// newServiceAllocator returns an allocator over the IPv4 range cidr.
func newServiceAllocator(cidr string) (*serviceAllocator, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("service CIDR %q: %w", cidr, err)
	}
	p = p.Masked()
	if !p.Addr().Is4() || p.Bits() > 30 || p.Bits() < 8 {
		return nil, fmt.Errorf("service CIDR %q: only IPv4 ranges from /8 to /30 are supported", cidr)
	}
	b := p.Addr().As4()
	return &serviceAllocator{
		prefix: p,
		base:   binary.BigEndian.Uint32(b[:]),
		size:   1 << (32 - p.Bits()),
		ips:    map[uint32]string{},
		ports:  map[int64]string{},
	}, nil
}

// ipAt returns the address at offset in the range.
func (a *serviceAllocator) ipAt(off uint32) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], a.base+off)
	return netip.AddrFrom4(b).String()
}

// offsetOf returns the offset of ip in the range, false when it is not a
// usable address of the range.
func (a *serviceAllocator) offsetOf(ip string) (uint32, bool) {
	addr, err := netip.ParseAddr(ip)
	if err != nil || !addr.Is4() || !a.prefix.Contains(addr) {
		return 0, false
	}
	b := addr.As4()
	off := binary.BigEndian.Uint32(b[:]) - a.base
	return off, off != 0 && off != a.size-1
}

// firstIP is the address reserved for the kubernetes Service.
func (a *serviceAllocator) firstIP() string { return a.ipAt(1) }

// KubernetesServiceIP is the cluster IP of the kubernetes Service for the
// Service range cidr (DefaultServiceCIDR when empty): the range's first
// address, which the API server's certificate must name.
func KubernetesServiceIP(cidr string) (string, error) {
	if cidr == "" {
		cidr = DefaultServiceCIDR
	}
	a, err := newServiceAllocator(cidr)
	if err != nil {
		return "", err
	}
	return a.firstIP(), nil
}

// notInRange is Kubernetes' message for an IP outside the range.
func (a *serviceAllocator) notInRange(ip string) error {
	return fmt.Errorf("the provided IP (%s) is not in the valid range. The range of valid IPs is %s", ip, a.prefix)
}

// takeIP reserves ip for uid; reserve false only checks.
func (a *serviceAllocator) takeIP(ip, uid string, reserve bool) error {
	off, ok := a.offsetOf(ip)
	if !ok {
		return a.notInRange(ip)
	}
	if owner, used := a.ips[off]; used && owner != uid {
		return errIPAllocated
	}
	if reserve {
		a.ips[off] = uid
	}
	return nil
}

// pickIP chooses a free address, preferring the upper part of the range
// as Kubernetes does (the lower band is left for requested addresses);
// the first address is never picked.
func (a *serviceAllocator) pickIP() (string, error) {
	usable := a.size - 2
	band := min(max(16, usable/16), 256)
	lo := uint32(2)
	if usable > band+16 {
		lo = band
	}
	for range 64 {
		off := lo + rand.Uint32N(a.size-1-lo)
		if _, used := a.ips[off]; !used {
			return a.ipAt(off), nil
		}
	}
	start := 2 + rand.Uint32N(a.size-3)
	for i := range a.size - 3 {
		off := 2 + (start-2+i)%(a.size-3)
		if _, used := a.ips[off]; !used {
			return a.ipAt(off), nil
		}
	}
	return "", errRangeFull
}

// takePort reserves port for uid; reserve false only checks.
func (a *serviceAllocator) takePort(port int64, uid string, reserve bool) error {
	if port < nodePortMin || port > nodePortMax {
		return fmt.Errorf("provided port is not in the valid range. The range of valid ports is %d-%d", nodePortMin, nodePortMax)
	}
	if owner, used := a.ports[port]; used && owner != uid {
		return errPortAllocated
	}
	if reserve {
		a.ports[port] = uid
	}
	return nil
}

// pickPort chooses a free node port, preferring the upper band.
func (a *serviceAllocator) pickPort() (int64, error) {
	n := int64(nodePortMax - nodePortMin + 1)
	band := min(max(16, n/32), 128)
	for range 64 {
		p := nodePortMin + band + rand.Int64N(n-band)
		if _, used := a.ports[p]; !used {
			return p, nil
		}
	}
	start := rand.Int64N(n)
	for i := range n {
		p := nodePortMin + (start+i)%n
		if _, used := a.ports[p]; !used {
			return p, nil
		}
	}
	return 0, errRangeFull
}

// release frees what uid holds among ips and ports.
func (a *serviceAllocator) release(uid string, ips []string, ports []int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ip := range ips {
		if off, ok := a.offsetOf(ip); ok && a.ips[off] == uid {
			delete(a.ips, off)
		}
	}
	for _, p := range ports {
		if a.ports[p] == uid {
			delete(a.ports, p)
		}
	}
}

// isServices reports whether res is the core Service resource.
func isServices(res *Resource) bool { return res.Group == "" && res.Resource == "services" }

// svcHolds lists the cluster IPs and node ports a stored Service holds.
func svcHolds(o object) ([]string, []int64) {
	var ips []string
	for _, v := range slice(o, "spec", "clusterIPs") {
		if ip, ok := v.(string); ok && ip != "" && ip != "None" {
			ips = append(ips, ip)
		}
	}
	if ip := str(o, "spec", "clusterIP"); ip != "" && ip != "None" && len(ips) == 0 {
		ips = append(ips, ip)
	}
	var ports []int64
	for _, p := range slice(o, "spec", "ports") {
		if np := num(p, "nodePort"); np != 0 {
			ports = append(ports, np)
		}
	}
	if hc := num(o, "spec", "healthCheckNodePort"); hc != 0 {
		ports = append(ports, hc)
	}
	return ips, ports
}

// rebuildAllocations reserves what every stored Service holds, so that a
// restarted server never hands the same address or port out twice.
func (s *Server) rebuildAllocations(ctx context.Context) error {
	page, err := s.list(ctx, s.byGV["v1"]["services"], "", nil, 0, "")
	if err != nil {
		return fmt.Errorf("reading services: %w", err)
	}
	a := s.alloc
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, o := range page.items {
		uid := str(o, "metadata", "uid")
		ips, ports := svcHolds(o)
		for _, ip := range ips {
			if off, ok := a.offsetOf(ip); ok {
				a.ips[off] = uid
			}
		}
		for _, p := range ports {
			a.ports[p] = uid
		}
	}
	return nil
}

// keepAll is the finish function of writes that reserved nothing.
func keepAll(bool) {}

// admitService fills in and reserves a Service's cluster IP and node
// ports as kube-apiserver does on create (cur nil) and update. The
// returned function is called with whether the write was stored: on
// success what cur held and next does not is released, on failure what was
// reserved for next is. A dry run reserves nothing.
func (s *Server) admitService(res *Resource, cur, next object, dryRun bool) (func(bool), error) {
	if !isServices(res) {
		return keepAll, nil
	}
	spec := mapOf(next, "spec")
	if spec == nil {
		spec = map[string]any{}
		next["spec"] = spec
	}
	uid := str(next, "metadata", "uid")
	name := str(next, "metadata", "name")
	typ := str(spec, "type")
	if typ == "" {
		typ = "ClusterIP"
		spec["type"] = typ
	}
	wantIP := typ != "ExternalName"
	wantPorts := typ == "NodePort" || typ == "LoadBalancer"
	curWantsIP := cur != nil && str(cur, "spec", "type") != "ExternalName"

	// Values kept from the stored Service when the update leaves them out.
	if cur != nil && curWantsIP && wantIP && str(spec, "clusterIP") == "" && len(slice(spec, "clusterIPs")) == 0 {
		if v, ok := get(cur, "spec", "clusterIP").(string); ok && v != "" {
			spec["clusterIP"] = v
		}
		if v := slice(cur, "spec", "clusterIPs"); v != nil {
			spec["clusterIPs"] = v
		}
	}
	if cur != nil && wantPorts {
		for _, p := range slice(spec, "ports") {
			pm, _ := p.(map[string]any)
			if pm == nil || num(pm, "nodePort") != 0 {
				continue
			}
			for _, q := range slice(cur, "spec", "ports") {
				if num(q, "port") == num(pm, "port") && str(q, "protocol") == str(pm, "protocol") && num(q, "nodePort") != 0 {
					pm["nodePort"] = num(q, "nodePort")
				}
			}
		}
	}

	if !wantIP {
		delete(spec, "clusterIP")
		delete(spec, "clusterIPs")
		delete(spec, "ipFamilies")
		delete(spec, "ipFamilyPolicy")
		delete(spec, "internalTrafficPolicy")
	} else {
		ip := str(spec, "clusterIP")
		if ips := slice(spec, "clusterIPs"); len(ips) > 0 {
			first, _ := ips[0].(string)
			if ip == "" {
				ip = first
			} else if first != ip {
				return keepAll, apierrors.NewInvalid(res.GroupVersionKind().GroupKind(), name, field.ErrorList{
					field.Invalid(field.NewPath("spec", "clusterIPs").Index(0), first, "must match `clusterIP` when set"),
				})
			}
		}
		if cur != nil && curWantsIP {
			if old := str(cur, "spec", "clusterIP"); old != "" && ip != old {
				return keepAll, apierrors.NewInvalid(res.GroupVersionKind().GroupKind(), name, field.ErrorList{
					field.Invalid(field.NewPath("spec", "clusterIPs").Index(0), []string{ip}, "may not change once set"),
				})
			}
		}
		spec["clusterIP"] = ip
		spec["clusterIPs"] = []any{ip}
		if _, ok := spec["ipFamilies"]; !ok || len(slice(spec, "ipFamilies")) == 0 {
			spec["ipFamilies"] = []any{"IPv4"}
		}
		if str(spec, "ipFamilyPolicy") == "" {
			spec["ipFamilyPolicy"] = "SingleStack"
			if ip == "None" && len(mapOf(spec, "selector")) == 0 {
				spec["ipFamilyPolicy"] = "RequireDualStack"
			}
		}
		if str(spec, "internalTrafficPolicy") == "" {
			spec["internalTrafficPolicy"] = "Cluster"
		}
	}
	if wantPorts && str(spec, "externalTrafficPolicy") == "" {
		spec["externalTrafficPolicy"] = "Cluster"
	}
	if typ == "LoadBalancer" {
		if _, ok := spec["allocateLoadBalancerNodePorts"]; !ok {
			spec["allocateLoadBalancerNodePorts"] = true
		}
	}
	if !wantPorts {
		for _, p := range slice(spec, "ports") {
			if pm, ok := p.(map[string]any); ok {
				delete(pm, "nodePort")
			}
		}
	}
	if typ == "LoadBalancer" && spec["allocateLoadBalancerNodePorts"] == false {
		wantPorts = false
	}

	a := s.alloc
	a.mu.Lock()
	defer a.mu.Unlock()
	var gotIPs []string
	var gotPorts []int64
	undo := func() {
		for _, ip := range gotIPs {
			if off, ok := a.offsetOf(ip); ok {
				delete(a.ips, off)
			}
		}
		for _, p := range gotPorts {
			delete(a.ports, p)
		}
	}
	invalid := func(path *field.Path, value any, err error) error {
		undo()
		return apierrors.NewInvalid(schema.GroupKind{Kind: "Service"}, name, field.ErrorList{field.Invalid(path, value, err.Error())})
	}
	if wantIP {
		ip := str(spec, "clusterIP")
		switch {
		case ip == "None":
		case ip == "":
			picked, err := a.pickIP()
			if err != nil {
				return keepAll, apierrors.NewInternalError(fmt.Errorf("failed to allocate a serviceIP: %w", err))
			}
			if !dryRun {
				a.ips[mustOffset(a, picked)] = uid
				gotIPs = append(gotIPs, picked)
			}
			spec["clusterIP"] = picked
			spec["clusterIPs"] = []any{picked}
		default:
			off, inRange := a.offsetOf(ip)
			owner, used := a.ips[off]
			if err := a.takeIP(ip, uid, false); err != nil {
				return keepAll, invalid(field.NewPath("spec", "clusterIPs"), []string{ip}, fmt.Errorf("failed to allocate IP %s: %w", ip, err))
			}
			if !dryRun && inRange && (!used || owner != uid) {
				a.ips[off] = uid
				gotIPs = append(gotIPs, ip)
			}
		}
	}
	if wantPorts {
		for i, p := range slice(spec, "ports") {
			pm, _ := p.(map[string]any)
			if pm == nil {
				continue
			}
			np := num(pm, "nodePort")
			if np == 0 {
				picked, err := a.pickPort()
				if err != nil {
					undo()
					return keepAll, apierrors.NewInternalError(fmt.Errorf("failed to allocate a nodePort: %w", err))
				}
				if !dryRun {
					a.ports[picked] = uid
					gotPorts = append(gotPorts, picked)
				}
				pm["nodePort"] = picked
				continue
			}
			owner, used := a.ports[np]
			if err := a.takePort(np, uid, false); err != nil {
				return keepAll, invalid(field.NewPath("spec", "ports").Index(i).Child("nodePort"), np, err)
			}
			if !dryRun && (!used || owner != uid) {
				a.ports[np] = uid
				gotPorts = append(gotPorts, np)
			}
		}
	}
	if typ == "LoadBalancer" && str(spec, "externalTrafficPolicy") == "Local" {
		hc := num(spec, "healthCheckNodePort")
		if hc == 0 && cur != nil {
			hc = num(cur, "spec", "healthCheckNodePort")
		}
		if hc == 0 {
			picked, err := a.pickPort()
			if err != nil {
				undo()
				return keepAll, apierrors.NewInternalError(fmt.Errorf("failed to allocate a nodePort: %w", err))
			}
			hc = picked
		} else {
			owner, used := a.ports[hc]
			if err := a.takePort(hc, uid, false); err != nil {
				return keepAll, invalid(field.NewPath("spec", "healthCheckNodePort"), hc, err)
			}
			if used && owner == uid {
				spec["healthCheckNodePort"] = hc
				hc = 0
			}
		}
		if hc != 0 {
			if !dryRun {
				a.ports[hc] = uid
				gotPorts = append(gotPorts, hc)
			}
			spec["healthCheckNodePort"] = hc
		}
	} else {
		delete(spec, "healthCheckNodePort")
	}
	if dryRun {
		return keepAll, nil
	}
	return func(ok bool) {
		if !ok {
			a.mu.Lock()
			undo()
			a.mu.Unlock()
			return
		}
		if cur == nil {
			return
		}
		oldIPs, oldPorts := svcHolds(cur)
		newIPs, newPorts := svcHolds(next)
		a.release(uid, without(oldIPs, newIPs), without(oldPorts, newPorts))
	}, nil
}

// mustOffset returns the offset of an address the allocator picked.
func mustOffset(a *serviceAllocator, ip string) uint32 {
	off, _ := a.offsetOf(ip)
	return off
}

// without returns the elements of xs not in ys.
func without[T comparable](xs, ys []T) []T {
	var out []T
	for _, x := range xs {
		found := false
		for _, y := range ys {
			if x == y {
				found = true
				break
			}
		}
		if !found {
			out = append(out, x)
		}
	}
	return out
}

// releaseService frees what a deleted Service held.
func (s *Server) releaseService(res *Resource, o object) {
	if !isServices(res) || o == nil {
		return
	}
	ips, ports := svcHolds(o)
	s.alloc.release(str(o, "metadata", "uid"), ips, ports)
}

// kubernetesService is the Service in default that points at the API
// server itself, with the first address of the range.
func (s *Server) kubernetesService() object {
	target := int64(6443)
	if s.cfg.AdvertisePort > 0 {
		target = int64(s.cfg.AdvertisePort)
	}
	return object{
		"apiVersion": "v1",
		"kind":       "Service",
		"metadata": map[string]any{
			"name":      "kubernetes",
			"namespace": "default",
			"labels":    map[string]any{"component": "apiserver", "provider": "kubernetes"},
		},
		"spec": map[string]any{
			"type":            "ClusterIP",
			"clusterIP":       s.alloc.firstIP(),
			"sessionAffinity": "None",
			"ports": []any{map[string]any{
				"name": "https", "port": int64(443), "protocol": "TCP", "targetPort": target,
			}},
		},
	}
}

// bootstrapKubernetesService creates the kubernetes Service if missing
// and, when the advertised address is known, points its Endpoints and
// EndpointSlice at it (apiendpoints.go).
func (s *Server) bootstrapKubernetesService(ctx context.Context) error {
	svc := s.byGV["v1"]["services"]
	if _, _, err := s.getObject(ctx, svc, "default", "kubernetes"); apierrors.IsNotFound(err) {
		if _, err := s.create(ctx, svc, "default", s.kubernetesService(), false); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating the kubernetes service: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("reading the kubernetes service: %w", err)
	}
	return s.reconcileAPIEndpoints(ctx)
}
