package apiserver

import (
	"context"
	"fmt"
	"net"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// reconcileAPIEndpoints makes the Endpoints and the EndpointSlice of the
// kubernetes Service in default point at Config.AdvertiseAddress and
// AdvertisePort, creating or correcting them as kube-apiserver's
// endpoint reconciler does at start, so that a restart on another port
// is followed. Without an advertised address there is nothing to point
// at and nothing is written.
func (s *Server) reconcileAPIEndpoints(ctx context.Context) error {
	addr, port := s.cfg.AdvertiseAddress, int64(s.cfg.AdvertisePort)
	ip := net.ParseIP(addr)
	if ip == nil || port <= 0 {
		return nil
	}
	family := "IPv4"
	if ip.To4() == nil {
		family = "IPv6"
	}
	ep := object{
		"apiVersion": "v1",
		"kind":       "Endpoints",
		"metadata": map[string]any{
			"name":      "kubernetes",
			"namespace": "default",
			"labels":    map[string]any{"endpointslice.kubernetes.io/skip-mirror": "true"},
		},
		"subsets": []any{map[string]any{
			"addresses": []any{map[string]any{"ip": ip.String()}},
			"ports":     []any{map[string]any{"name": "https", "port": port, "protocol": "TCP"}},
		}},
	}
	eps := object{
		"apiVersion": "discovery.k8s.io/v1",
		"kind":       "EndpointSlice",
		"metadata": map[string]any{
			"name":      "kubernetes",
			"namespace": "default",
			"labels":    map[string]any{"kubernetes.io/service-name": "kubernetes"},
		},
		"addressType": family,
		"endpoints": []any{map[string]any{
			"addresses":  []any{ip.String()},
			"conditions": map[string]any{"ready": true},
		}},
		"ports": []any{map[string]any{"name": "https", "port": port, "protocol": "TCP"}},
	}
	for _, want := range []struct {
		res  *Resource
		obj  object
		keep []string // the fields compared and replaced
	}{
		{s.byGV["v1"]["endpoints"], ep, []string{"subsets"}},
		{s.byGV["discovery.k8s.io/v1"]["endpointslices"], eps, []string{"addressType", "endpoints", "ports"}},
	} {
		if want.res == nil {
			continue
		}
		if err := s.ensureObject(ctx, want.res, want.obj, want.keep); err != nil {
			return fmt.Errorf("pointing the kubernetes %s at %s: %w", want.res.Resource, net.JoinHostPort(addr, fmt.Sprint(port)), err)
		}
	}
	return s.reconcileAPITargetPort(ctx, port)
}

// ensureObject creates o in default, or updates the fields named by
// fields of the stored one when they differ.
func (s *Server) ensureObject(ctx context.Context, res *Resource, o object, fields []string) error {
	name := str(o, "metadata", "name")
	cur, _, err := s.getObject(ctx, res, "default", name)
	if apierrors.IsNotFound(err) {
		_, err = s.create(ctx, res, "default", o, false)
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	}
	if err != nil {
		return err
	}
	changed := false
	for _, f := range fields {
		norm, err := toUnstructured(object{f: o[f]})
		if err != nil {
			return err
		}
		have, err := toUnstructured(object{f: cur[f]})
		if err != nil {
			return err
		}
		if !equalJSON(norm.Object, have.Object) {
			cur[f] = o[f]
			changed = true
		}
	}
	if !changed {
		return nil
	}
	_, err = s.update(ctx, request{res: res, ns: "default", name: name}, cur)
	return err
}

// reconcileAPITargetPort sets the kubernetes Service's target port to
// the advertised port when it says another.
func (s *Server) reconcileAPITargetPort(ctx context.Context, port int64) error {
	svc := s.byGV["v1"]["services"]
	cur, _, err := s.getObject(ctx, svc, "default", "kubernetes")
	if err != nil {
		return err
	}
	ports := slice(cur, "spec", "ports")
	if len(ports) != 1 || num(ports[0], "targetPort") == port {
		return nil
	}
	p, ok := ports[0].(map[string]any)
	if !ok {
		return nil
	}
	p["targetPort"] = port
	if _, err := s.update(ctx, request{res: svc, ns: "default", name: "kubernetes"}, cur); err != nil {
		return fmt.Errorf("setting the kubernetes service's target port: %w", err)
	}
	return nil
}
