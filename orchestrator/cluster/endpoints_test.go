package cluster

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"pkg.dev/pkg/orchestrator/node"
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
		// With a cluster network (root), the API is served to Pods on
		// the bridge's address; in host-network mode Pods share the
		// host's loopback.
		wantIP, wantPort := "127.0.0.1", r.state.Port
		if hasClusterNetwork(dir) {
			wantIP, wantPort = "10.244.0.1", PodAPIPort
		}
		var ep corev1.Endpoints
		get("/api/v1/namespaces/default/endpoints/kubernetes", &ep)
		if len(ep.Subsets) != 1 || len(ep.Subsets[0].Addresses) != 1 || ep.Subsets[0].Addresses[0].IP != wantIP ||
			len(ep.Subsets[0].Ports) != 1 || int(ep.Subsets[0].Ports[0].Port) != wantPort {
			t.Errorf("endpoints = %+v, want %s:%d", ep.Subsets, wantIP, wantPort)
		}
		var slice discoveryv1.EndpointSlice
		get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes", &slice)
		if slice.AddressType != discoveryv1.AddressTypeIPv4 || len(slice.Endpoints) != 1 || slice.Endpoints[0].Addresses[0] != wantIP ||
			len(slice.Ports) != 1 || int(*slice.Ports[0].Port) != wantPort || slice.Labels["kubernetes.io/service-name"] != "kubernetes" {
			t.Errorf("endpointslice = %+v", slice)
		}
		var svc corev1.Service
		get("/api/v1/namespaces/default/services/kubernetes", &svc)
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.IntValue() != wantPort || svc.Spec.Ports[0].Port != 443 {
			t.Errorf("service ports = %+v", svc.Spec.Ports)
		}
		if hasClusterNetwork(dir) {
			checkAPIFromClusterNetwork(t, dir, r)
		}
	}
	first := serve(t, dir)
	check(first)
	first.stop()
	second := serve(t, dir)
	if second.state.Port == first.state.Port && !hasClusterNetwork(dir) {
		t.Skip("the second start got the same port")
	}
	check(second)
}

// hasClusterNetwork tells whether the cluster of dir made its network.
func hasClusterNetwork(dir string) bool {
	_, err := os.Stat(clusterNetworkPath(dir))
	return err == nil
}

func clusterNetworkPath(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return "/var/run/netns/pkg-net-" + hex.EncodeToString(sum[:4])
}

// checkAPIFromClusterNetwork calls the API as a Pod does: at the
// kubernetes Service's cluster IP, port 443, verifying the serving
// certificate against the cluster's CA under the name
// kubernetes.default.svc, from inside the cluster network.
func checkAPIFromClusterNetwork(t *testing.T, dir string, r running) {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(r.creds.CAPEM) {
		t.Fatal("the cluster CA does not parse")
	}
	netw := &node.Network{NS: filepath.Base(clusterNetworkPath(dir))}
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "kubernetes.default.svc"},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return netw.DialContext(ctx, network, addr)
		},
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for _, tc := range []struct {
		token string
		want  int
	}{{r.creds.Token, http.StatusOK}, {"", http.StatusUnauthorized}} {
		req, _ := http.NewRequest(http.MethodGet, "https://10.96.0.1:443/api/v1/namespaces/default/services/kubernetes", nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		var resp *http.Response
		var err error
		// The proxy writes the Service's rules once it has seen it.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if resp, err = client.Do(req); err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Fatalf("the API from the cluster network: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET from the cluster network with token %v: %d, want %d", tc.token != "", resp.StatusCode, tc.want)
		}
	}
}
