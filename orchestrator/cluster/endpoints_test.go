package cluster

import (
	"encoding/json"
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// TestKubernetesServiceEndpoints checks that the kubernetes Service in
// default points at the address and port the cluster serves on, and
// follows a restart on another port.
func TestKubernetesServiceEndpoints(t *testing.T) {
	dir := t.TempDir()
	check := func(r running) {
		t.Helper()
		get := func(path string, into any) {
			t.Helper()
			code, body := do(t, r, http.MethodGet, path, r.creds.Token, "")
			if code != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, code, body)
			}
			if err := json.Unmarshal(body, into); err != nil {
				t.Fatal(err)
			}
		}
		var ep corev1.Endpoints
		get("/api/v1/namespaces/default/endpoints/kubernetes", &ep)
		if len(ep.Subsets) != 1 || len(ep.Subsets[0].Addresses) != 1 || ep.Subsets[0].Addresses[0].IP != "127.0.0.1" ||
			len(ep.Subsets[0].Ports) != 1 || int(ep.Subsets[0].Ports[0].Port) != r.state.Port {
			t.Errorf("endpoints = %+v, want 127.0.0.1:%d", ep.Subsets, r.state.Port)
		}
		var slice discoveryv1.EndpointSlice
		get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes", &slice)
		if slice.AddressType != discoveryv1.AddressTypeIPv4 || len(slice.Endpoints) != 1 || slice.Endpoints[0].Addresses[0] != "127.0.0.1" ||
			len(slice.Ports) != 1 || int(*slice.Ports[0].Port) != r.state.Port || slice.Labels["kubernetes.io/service-name"] != "kubernetes" {
			t.Errorf("endpointslice = %+v", slice)
		}
		var svc corev1.Service
		get("/api/v1/namespaces/default/services/kubernetes", &svc)
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.IntValue() != r.state.Port || svc.Spec.Ports[0].Port != 443 {
			t.Errorf("service ports = %+v", svc.Spec.Ports)
		}
	}
	first := serve(t, dir)
	check(first)
	first.stop()
	second := serve(t, dir)
	if second.state.Port == first.state.Port {
		t.Skip("the second start got the same port")
	}
	check(second)
}
